/**
 * SQS FIFO's deduplication interval, fixed by SQS; the local queue keeps the same.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-key-terms.html
 */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/** One message for a FIFO queue. */
export interface QueueMessage {
  body: string;
  /** Order is kept within a group. */
  groupId: string;
  /** A second message with the same id inside `DEDUPLICATION_WINDOW_MS` is dropped. */
  deduplicationId: string;
}

/** A FIFO queue Hookgate sends to: SQS on AWS, an in-process queue in local mode. */
export interface Queue {
  send(message: QueueMessage): Promise<void>;
}

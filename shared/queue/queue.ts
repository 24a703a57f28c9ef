/** One message for a FIFO queue. */
export interface QueueMessage {
  body: string;
  /** Order is kept within a group. */
  groupId: string;
  /** A second message with the same id inside the deduplication window is dropped. */
  deduplicationId: string;
}

/** A FIFO queue Hookgate sends to: SQS on AWS, an in-process queue in local mode. */
export interface Queue {
  send(message: QueueMessage): Promise<void>;
}

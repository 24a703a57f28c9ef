import { DependencyError } from '../errors';
import type { Queue, QueueMessage } from './queue';
import type { SqsApi } from './sqs-api';

/** Queue on an SQS FIFO queue. Faults become DependencyError. */
export class SqsQueue implements Queue {
  constructor(
    private readonly sqs: SqsApi,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    try {
      await this.sqs.sendMessage({
        QueueUrl: this.queueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId,
        MessageDeduplicationId: message.deduplicationId,
      });
    } catch (error) {
      throw new DependencyError('queue unavailable', { cause: error });
    }
  }
}

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyError } from '../errors';
import type { Queue, QueueMessage } from './queue';

/** Queue on an SQS FIFO queue. SDK faults become DependencyError. */
export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: message.body,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.deduplicationId,
        }),
      );
    } catch (error) {
      throw new DependencyError('queue unavailable', { cause: error });
    }
  }
}

import { DependencyError } from '../../shared/errors';
import type { Queue, QueueMessage } from '../../shared/queue/queue';

/**
 * A queue double that behaves like SQS FIFO where it matters to these tests: a deduplication
 * id seen before is dropped. Counts every send, and can be told to fail the next ones.
 */
export class RecordingQueue implements Queue {
  readonly messages: QueueMessage[] = [];
  sends = 0;
  failNextSends = 0;
  private readonly seen = new Set<string>();

  async send(message: QueueMessage): Promise<void> {
    this.sends += 1;
    if (this.failNextSends > 0) {
      this.failNextSends -= 1;
      throw new DependencyError('queue unavailable (injected)');
    }
    if (this.seen.has(message.deduplicationId)) return;
    this.seen.add(message.deduplicationId);
    this.messages.push(message);
  }

  /** Takes the messages sent so far, leaving the queue empty (deduplication memory stays). */
  take(): QueueMessage[] {
    return this.messages.splice(0);
  }
}

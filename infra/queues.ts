import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { DELIVERIES_MAX_RECEIVE_COUNT, TRIGGERS_MAX_RECEIVE_COUNT } from '../shared/queue/redrive';

/** SQS's own advice for a queue feeding Lambda: at least six times the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface DeliveryQueuesProps {
  stage: string;
  /** The processor's timeout; the deliveries queue hides a received message for six times that. */
  processorTimeout: Duration;
}

/**
 * The two FIFO queues of the flow (DESIGN §2), each with its dead-letter queue:
 * `deliveries.fifo` (webhook fn → processor fn, grouped by integration and repository) and
 * `triggers.fifo` (processor fn → pipeline runners, grouped by project).
 */
export class DeliveryQueues extends Construct {
  readonly deliveries: sqs.Queue;
  readonly deliveriesDeadLetters: sqs.Queue;
  readonly triggers: sqs.Queue;
  readonly triggersDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: DeliveryQueuesProps) {
    super(scope, id);
    const name = (queue: string) => `hookgate-${props.stage}-${queue}.fifo`;

    this.deliveriesDeadLetters = fifoQueue(this, 'DeliveriesDeadLetters', name('deliveries-dlq'));
    this.deliveries = fifoQueue(this, 'Deliveries', name('deliveries'), {
      visibilityTimeout: Duration.seconds(props.processorTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deliveriesDeadLetters, maxReceiveCount: DELIVERIES_MAX_RECEIVE_COUNT },
    });

    this.triggersDeadLetters = fifoQueue(this, 'TriggersDeadLetters', name('triggers-dlq'));
    this.triggers = fifoQueue(this, 'Triggers', name('triggers'), {
      // A runner clones before it deletes; it may extend this with ChangeMessageVisibility.
      visibilityTimeout: Duration.minutes(5),
      deadLetterQueue: { queue: this.triggersDeadLetters, maxReceiveCount: TRIGGERS_MAX_RECEIVE_COUNT },
    });
  }
}

/**
 * A high-throughput FIFO queue: deduplication per message group (every sender sets an explicit
 * deduplication id that is unique within its group), throughput per group, SQS-managed
 * encryption, TLS only, and the longest retention so a runner outage loses nothing.
 */
function fifoQueue(scope: Construct, id: string, queueName: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    queueName,
    fifo: true,
    contentBasedDeduplication: false,
    deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
    fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    ...props,
  });
}

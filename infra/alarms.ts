import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeliveryQueues } from './queues';

const PERIOD = Duration.minutes(5);

/**
 * A delivery normally waits seconds. One still queued after this has failed several receives
 * (or nothing is consuming): this fires well before it would reach the dead-letter queue.
 */
export const OLDEST_DELIVERY_AGE_THRESHOLD = Duration.minutes(15);

/** Percentage of API requests answered 5xx, in two of three five-minute periods. */
export const API_5XX_RATE_THRESHOLD = 5;

export interface AlarmsProps {
  stage: string;
  queues: DeliveryQueues;
  api: apigwv2.IHttpApi;
  /** By the name the alarms use, e.g. `webhook`. */
  functions: Record<string, lambda.IFunction>;
  /** When set, an SNS topic with this email subscription receives every alarm and recovery. */
  alarmEmail?: string;
}

/**
 * What an operator must hear about (DESIGN §10): a delivery or trigger given up on (dead-letter
 * queue not empty), deliveries not being processed, the API failing, functions failing or
 * throttled.
 */
export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const name = (what: string) => `hookgate-${props.stage}-${what}`;

    const deadLetters: [string, sqs.IQueue][] = [
      ['deliveries-dlq', props.queues.deliveriesDeadLetters],
      ['triggers-dlq', props.queues.triggersDeadLetters],
    ];
    for (const [queue, dlq] of deadLetters) {
      this.add(`${pascal(queue)}NotEmpty`, {
        alarmName: name(`${queue}-not-empty`),
        alarmDescription: `Messages were given up on and wait in ${dlq.queueName}. Inspect them, fix the cause, then redrive them.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

    this.add('OldestDeliveryAge', {
      alarmName: name('oldest-delivery-age'),
      alarmDescription: `A delivery has waited over ${OLDEST_DELIVERY_AGE_THRESHOLD.toMinutes()} minutes in deliveries.fifo: the processor is failing or not consuming.`,
      metric: props.queues.deliveries.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: PERIOD,
      }),
      threshold: OLDEST_DELIVERY_AGE_THRESHOLD.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    this.add('Api5xxRate', {
      alarmName: name('api-5xx-rate'),
      alarmDescription: `Over ${API_5XX_RATE_THRESHOLD}% of API requests failed with 5xx. Bitbucket retries a 5xx only twice: check the webhook function's logs and its dependencies.`,
      metric: new cloudwatch.MathExpression({
        label: 'API 5xx rate (%)',
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: {
          errors: props.api.metricServerError({ statistic: 'Sum', period: PERIOD }),
          requests: props.api.metricCount({ statistic: 'Sum', period: PERIOD }),
        },
        period: PERIOD,
      }),
      threshold: API_5XX_RATE_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    for (const [fnName, fn] of Object.entries(props.functions)) {
      this.add(`${pascal(fnName)}Errors`, {
        alarmName: name(`${fnName}-errors`),
        alarmDescription: `The ${fnName} function failed (an uncaught error or a timeout). See its log group.`,
        metric: fn.metricErrors({ statistic: 'Sum', period: PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      this.add(`${pascal(fnName)}Throttles`, {
        alarmName: name(`${fnName}-throttles`),
        alarmDescription: `The ${fnName} function was throttled: the account's concurrency is exhausted.`,
        metric: fn.metricThrottles({ statistic: 'Sum', period: PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

    if (props.alarmEmail) {
      this.topic = new sns.Topic(this, 'Topic', {
        displayName: `Hookgate ${props.stage} alarms`,
        enforceSSL: true,
      });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      const action = new SnsAction(this.topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    // No data means nothing happened: an idle stage is healthy.
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      }),
    );
  }
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}

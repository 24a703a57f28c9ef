import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../shared/observability';
import type { DeliveryQueues } from './queues';

const PERIOD = Duration.minutes(5);

/**
 * A delivery normally waits seconds. One still queued after this has failed several receives
 * (or nothing is consuming): this fires well before it would reach the dead-letter queue.
 */
export const OLDEST_DELIVERY_AGE_THRESHOLD = Duration.minutes(15);

/**
 * A trigger normally waits as long as a runner takes to pick it up. One waiting an hour means the
 * runners are down or stuck; left alone, triggers expire silently after the queue's 14 days.
 */
export const OLDEST_TRIGGER_AGE_THRESHOLD = Duration.hours(1);

/** The sweeper's counts (shared/ingest/sweep-deliveries.ts), as Powertools Metrics publishes them. */
export const SWEEP_METRICS = {
  requeued: 'DeliveriesRequeued',
  parked: 'DeliveriesParked',
  stuck: 'DeliveriesStuck',
} as const;

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
 * What an operator must hear about (DESIGN §10, §11): a delivery or trigger given up on
 * (dead-letter queue not empty, parked or stuck), deliveries not being processed or found lost by
 * the sweeper, triggers not consumed, the API failing, functions failing or throttled.
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

    this.add('OldestTriggerAge', {
      alarmName: name('oldest-trigger-age'),
      alarmDescription: `A trigger has waited over ${OLDEST_TRIGGER_AGE_THRESHOLD.toMinutes()} minutes in triggers.fifo: no pipeline runner is consuming. Triggers expire after 14 days.`,
      metric: props.queues.triggers.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: PERIOD,
      }),
      threshold: OLDEST_TRIGGER_AGE_THRESHOLD.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });

    const sweepAlarms: [string, string, string][] = [
      [
        'DeliveriesRequeued',
        SWEEP_METRICS.requeued,
        'The sweeper found deliveries left unfinished for over 6 minutes and enqueued them again: a delivery message was lost or dead-lettered. They will be decided; look for the cause in the webhook and processor logs.',
      ],
      [
        'DeliveriesParked',
        SWEEP_METRICS.parked,
        'Deliveries failed repeatedly and were parked as failed: they are not retried automatically. Fix the cause, then replay them (admin API).',
      ],
      [
        'DeliveriesStuck',
        SWEEP_METRICS.stuck,
        'Deliveries are still unfinished a day after they arrived, despite being enqueued again: the sweeper has given up on them. Replay them once the cause is fixed.',
      ],
    ];
    for (const [id, metricName, description] of sweepAlarms) {
      this.add(id, {
        alarmName: name(kebab(id)),
        alarmDescription: description,
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: SERVICE_NAME },
          statistic: 'Sum',
          period: PERIOD,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

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
      // enforceSSL gives the topic a policy; without this Allow, CloudWatch could not publish to it.
      const stack = Stack.of(this);
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarms',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            ArnLike: {
              'aws:SourceArn': stack.formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: name('*'),
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
            StringEquals: { 'aws:SourceAccount': stack.account },
          },
        }),
      );
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

function kebab(pascalCase: string): string {
  return pascalCase.replace(/[A-Z]/g, (letter, index: number) => (index ? '-' : '') + letter.toLowerCase());
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoSweepStore } from '../../shared/store/dynamo-sweep-store';
import { createSweeperHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection. AwsJsonClient as in the
// webhook function: the sweep makes a few calls every five minutes, so a small bundle that
// loads fast is worth more than the SDK.
const logger = createLogger();
const metrics = createMetrics();

export const handler = createSweeperHandler({
  store: new DynamoSweepStore(dynamoJsonApi(config.aws.dynamodb), config.tableName),
  deliveries: new SqsQueue(sqsJsonApi(config.aws.sqs), config.deliveriesQueueUrl),
  now: () => new Date(),
  log: logger,
  telemetry: powertoolsTelemetry(metrics),
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

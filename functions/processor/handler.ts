import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { SecretsManagerReader } from '../../shared/secrets/secrets-manager-store';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import { createProcessorHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection.
const logger = createLogger();
const metrics = createMetrics();

export const handler = createProcessorHandler({
  store: new DynamoIngestStore(new DynamoDBClient({}), config.tableName),
  triggers: new SqsQueue(new SQSClient({}), config.triggersQueueUrl),
  lookup: createBitbucketLookup({
    secrets: new SecretsManagerReader(new SecretsManagerClient({})),
    log: logger,
  }),
  now: () => new Date(),
  log: logger,
  telemetry: powertoolsTelemetry(metrics),
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

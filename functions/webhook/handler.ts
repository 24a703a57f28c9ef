import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { getSecretValueJson, SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import { createWebhookHandler, webhookDeps } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection. AWS is called through
// AwsJsonClient, not the SDK: a tenth of the CPU per call, and a smaller, faster-loading bundle.
const logger = createLogger();
const metrics = createMetrics();
// Each of these calls answers in milliseconds; 2 s per attempt leaves room for a retry on another
// connection inside the invocation's budget (WEBHOOK_RESERVE_MS) when one attempt hangs.
const aws = { timeoutMs: 2_000 };
const deps = webhookDeps({
  store: new DynamoIngestStore(dynamoJsonApi(aws), config.tableName),
  deliveries: new SqsQueue(sqsJsonApi(aws), config.deliveriesQueueUrl),
  secretStore: new SecretsManagerReader(getSecretValueJson(aws)),
  log: logger,
  telemetry: powertoolsTelemetry(metrics),
  integrationCacheMs: config.integrationCacheMs,
  secretCacheMs: config.secretCacheMs,
});

export const handler = createWebhookHandler(deps)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

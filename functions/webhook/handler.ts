import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AwsTransport } from '../../shared/aws/aws-json-client';
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

export interface DeployedWebhookOptions {
  /** Under every AWS client in place of the network: the benchmark answers from a fake this way. */
  transport?: AwsTransport;
}

/** The webhook as deployed: its clients, logger, metrics and middlewares. */
export function createDeployedWebhookHandler(options: DeployedWebhookOptions = {}) {
  // Each of these calls answers in milliseconds; 2 s per attempt leaves room for a retry on another
  // connection inside the invocation's budget (WEBHOOK_RESERVE_MS) when one attempt hangs.
  const aws = { timeoutMs: 2_000, transport: options.transport };
  const deps = webhookDeps({
    store: new DynamoIngestStore(dynamoJsonApi({ ...config.aws.dynamodb, ...aws }), config.tableName),
    deliveries: new SqsQueue(sqsJsonApi({ ...config.aws.sqs, ...aws }), config.deliveriesQueueUrl),
    secretStore: new SecretsManagerReader(getSecretValueJson({ ...config.aws.secretsmanager, ...aws })),
    log: logger,
    telemetry: powertoolsTelemetry(metrics),
    integrationCacheMs: config.integrationCacheMs,
    secretCacheMs: config.secretCacheMs,
  });
  return createWebhookHandler(deps)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

export const handler = createDeployedWebhookHandler();

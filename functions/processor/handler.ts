import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import { createProcessorHandler } from './app';
import { createProcessorClients } from './clients';
import { config } from './config';

// Built once per container; constructing a client opens no connection. Unlike the webhook
// function, the processor calls AWS through the SDK: it is off Bitbucket's request path, and the
// SDK is not counted in its 100 KB own-code budget, which the Bitbucket REST client fills.
const logger = createLogger();
const metrics = createMetrics();
const clients = createProcessorClients();

export const handler = createProcessorHandler({
  store: new DynamoIngestStore(clients.dynamo, config.tableName),
  triggers: new SqsQueue(clients.sqs, config.triggersQueueUrl),
  lookup: createBitbucketLookup({ secrets: clients.secrets, log: logger }),
  now: () => new Date(),
  log: logger,
  telemetry: powertoolsTelemetry(metrics),
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

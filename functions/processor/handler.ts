import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import { sdkSqsApi } from '../../shared/queue/sdk-sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';
import { createProcessorHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection. Unlike the webhook
// function, the processor calls AWS through the SDK: it is off Bitbucket's request path, and the
// SDK is not counted in its 100 KB own-code budget, which the Bitbucket REST client fills.
const logger = createLogger();
const metrics = createMetrics();
const secretsManager = new SecretsManagerClient({});

export const handler = createProcessorHandler({
  store: new DynamoIngestStore(sdkDynamoApi(new DynamoDBClient({})), config.tableName),
  triggers: new SqsQueue(sdkSqsApi(new SQSClient({})), config.triggersQueueUrl),
  lookup: createBitbucketLookup({
    secrets: new SecretsManagerReader((input) => secretsManager.send(new GetSecretValueCommand(input))),
    log: logger,
  }),
  now: () => new Date(),
  log: logger,
  telemetry: powertoolsTelemetry(metrics),
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

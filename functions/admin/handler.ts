import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createJsonLogger, injectLambdaContext } from '../../shared/aws/json-logger';
import { sdkSqsApi } from '../../shared/queue/sdk-sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { SecretsManagerStore } from '../../shared/secrets/secrets-manager-store';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';
import { adminDeps, createAdminHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection. The admin function logs
// with a small JSON logger in Powertools' layout: it needs neither Powertools' features nor its size.
const logger = createJsonLogger({ level: config.logLevel, traceId: config.traceId });

export const handler = createAdminHandler(
  adminDeps({
    store: new DynamoStore(sdkDynamoApi(new DynamoDBClient({})), config.tableName),
    secrets: new SecretsManagerStore(new SecretsManagerClient({})),
    // As in the processor: an endpoint override applies to every call, not only to those whose
    // queue URL has the endpoint's host.
    deliveries: new SqsQueue(
      sdkSqsApi(new SQSClient({ useQueueUrlAsEndpoint: false })),
      config.deliveriesQueueUrl,
    ),
    log: logger,
    auth: { kind: 'iam' },
    stage: config.stage,
    rotationGraceHours: config.rotationGraceHours,
    webhookBaseUrl: config.webhookBaseUrl,
  }),
).use(injectLambdaContext(logger));

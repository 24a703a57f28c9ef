import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../shared/aws/powertools';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { SecretsManagerStore } from '../../shared/secrets/secrets-manager-store';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { adminDeps, createAdminHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection.
const logger = createLogger();

export const handler = createAdminHandler(
  adminDeps({
    store: new DynamoStore(new DynamoDBClient({}), config.tableName),
    secrets: new SecretsManagerStore(new SecretsManagerClient({})),
    deliveries: new SqsQueue(new SQSClient({}), config.deliveriesQueueUrl),
    log: logger,
    auth: { kind: 'iam' },
    stage: config.stage,
    rotationGraceHours: config.rotationGraceHours,
    ...(config.webhookBaseUrl ? { webhookBaseUrl: config.webhookBaseUrl } : {}),
  }),
).use(injectLambdaContext(logger, { resetKeys: true }));

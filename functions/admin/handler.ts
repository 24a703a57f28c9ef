import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createJsonLogger, injectLambdaContext } from '../../shared/aws/json-logger';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { SecretsManagerStore } from '../../shared/secrets/secrets-manager-store';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { adminDeps, createAdminHandler } from './app';
import { config } from './config';

// Built once per container; constructing a client opens no connection. The admin function logs
// with a small JSON logger in Powertools' layout: it needs neither Powertools' features nor its size.
const logger = createJsonLogger();

export const handler = createAdminHandler(
  adminDeps({
    store: new DynamoStore(new DynamoDBClient({}), config.tableName),
    secrets: new SecretsManagerStore(new SecretsManagerClient({})),
    deliveries: new SqsQueue(new SQSClient({}), config.deliveriesQueueUrl),
    log: logger,
    auth: { kind: 'iam' },
    stage: config.stage,
    rotationGraceHours: config.rotationGraceHours,
    webhookBaseUrl: config.webhookBaseUrl,
  }),
).use(injectLambdaContext(logger));

import type { AwsConnection, AwsTransport } from '../../shared/aws/aws-json-client';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { getSecretValueJson, SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import type { WebhookAdapters } from './app';

/**
 * Each of the webhook's calls answers in milliseconds; 2 s per attempt leaves room for a retry on
 * another connection inside the invocation's budget (WEBHOOK_RESERVE_MS) when one attempt hangs.
 */
const ATTEMPT_TIMEOUT_MS = 2_000;

export interface WebhookClientOptions {
  /** Where each service is and what to sign with (config.ts's `aws`). */
  aws: Record<'dynamodb' | 'sqs' | 'secretsmanager', AwsConnection>;
  tableName: string;
  deliveriesQueueUrl: string;
  /** Under every client in place of the network: the benchmark and the tests answer from a fake. */
  transport?: AwsTransport;
}

/**
 * The webhook's store, deliveries queue and secret reader, on AwsJsonClient rather than the SDK:
 * a tenth of the CPU per call, and a smaller, faster-loading bundle. Constructing them opens no
 * connection.
 */
export function createWebhookClients(
  options: WebhookClientOptions,
): Pick<WebhookAdapters, 'store' | 'deliveries' | 'secretStore'> {
  const attempt = { timeoutMs: ATTEMPT_TIMEOUT_MS, transport: options.transport };
  return {
    store: new DynamoIngestStore(dynamoJsonApi({ ...options.aws.dynamodb, ...attempt }), options.tableName),
    deliveries: new SqsQueue(sqsJsonApi({ ...options.aws.sqs, ...attempt }), options.deliveriesQueueUrl),
    secretStore: new SecretsManagerReader(getSecretValueJson({ ...options.aws.secretsmanager, ...attempt })),
  };
}

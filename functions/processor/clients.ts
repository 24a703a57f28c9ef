import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sdkCallOptions, sdkClientConfig } from '../../shared/aws/sdk-options';
import { sdkSqsApi } from '../../shared/queue/sdk-sqs-api';
import { SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';

/** What the tests may set; on Lambda the SDK's defaults (and `AWS_ENDPOINT_URL`) apply. */
export type ProcessorClientOptions = Pick<DynamoDBClientConfig, 'endpoint' | 'region' | 'credentials'>;

/**
 * The processor's AWS clients, with per-attempt timeouts and each call bounded by the budget.
 * Constructing them opens no connection.
 */
export function createProcessorClients(options: ProcessorClientOptions = {}) {
  const config = { ...sdkClientConfig(), ...options };
  const secretsManager = new SecretsManagerClient(config);
  return {
    dynamo: sdkDynamoApi(new DynamoDBClient(config)),
    // The SDK would otherwise send to the host of the queue URL, past a configured endpoint: with
    // the flag off, an endpoint override (an emulator, a test) applies to every call.
    sqs: sdkSqsApi(new SQSClient({ ...config, useQueueUrlAsEndpoint: false })),
    secrets: new SecretsManagerReader((input) =>
      secretsManager.send(new GetSecretValueCommand(input), sdkCallOptions()),
    ),
  };
}

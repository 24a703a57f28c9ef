import type { GetSecretValueRequest, GetSecretValueResponse } from '@aws-sdk/client-secrets-manager';
import { AwsJsonClient, type AwsJsonClientOptions } from '../aws/aws-json-client';
import { DependencyError } from '../errors';
import type { SecretReader } from './secrets';

export type GetSecretValue = (input: GetSecretValueRequest) => Promise<GetSecretValueResponse>;

/**
 * SecretReader on AWS Secrets Manager: all the webhook and processor functions need. Faults
 * become DependencyError; a missing secret is undefined; values are never logged.
 */
export class SecretsManagerReader implements SecretReader {
  constructor(private readonly getSecretValue: GetSecretValue) {}

  async get(id: string): Promise<string | undefined> {
    try {
      return (await this.getSecretValue({ SecretId: id })).SecretString;
    } catch (error) {
      // The SDK's ResourceNotFoundException and AwsJsonClient's error carry the same name.
      if ((error as Error | undefined)?.name === 'ResourceNotFoundException') return undefined;
      throw new DependencyError('secrets unavailable', { cause: error });
    }
  }
}

/** GetSecretValue over Secrets Manager's JSON protocol through AwsJsonClient. */
export function getSecretValueJson(
  options: Omit<AwsJsonClientOptions, 'service' | 'targetPrefix' | 'jsonVersion'>,
): GetSecretValue {
  const client = new AwsJsonClient({
    ...options,
    service: 'secretsmanager',
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
  });
  return (input) => client.call('GetSecretValue', input);
}

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DependencyError } from '../errors';
import type { SecretReader, SecretStore } from './secrets';

/**
 * SecretReader on AWS Secrets Manager: all the webhook and processor functions bundle. SDK
 * faults become DependencyError; values are never logged.
 */
export class SecretsManagerReader implements SecretReader {
  constructor(protected readonly client: SecretsManagerClient) {}

  async get(id: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      return out.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw new DependencyError('secrets unavailable', { cause: error });
    }
  }
}

/** SecretStore on AWS Secrets Manager: reads, creates, updates and deletes secrets. */
export class SecretsManagerStore extends SecretsManagerReader implements SecretStore {
  async put(id: string, value: string): Promise<void> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) {
        throw new DependencyError('secrets unavailable', { cause: error });
      }
      try {
        await this.client.send(new CreateSecretCommand({ Name: id, SecretString: value }));
      } catch (createError) {
        throw new DependencyError('secrets unavailable', { cause: createError });
      }
    }
  }

  async delete(id: string): Promise<void> {
    try {
      // Without recovery, so an integration re-created under the same name can store its secret again.
      await this.client.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw new DependencyError('secrets unavailable', { cause: error });
    }
  }
}

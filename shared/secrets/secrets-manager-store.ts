import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DependencyError } from '../errors';
import type { SecretStore } from './secrets';
import { SecretsManagerReader } from './secrets-manager-reader';

/** SecretStore on AWS Secrets Manager: reads, creates, updates and deletes secrets. */
export class SecretsManagerStore extends SecretsManagerReader implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {
    super((input) => client.send(new GetSecretValueCommand(input)));
  }

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

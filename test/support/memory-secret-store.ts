import type { SecretStore } from '../../shared/secrets/secrets';

export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();

  async get(id: string): Promise<string | undefined> {
    return this.values.get(id);
  }

  async put(id: string, value: string): Promise<void> {
    this.values.set(id, value);
  }

  async delete(id: string): Promise<void> {
    this.values.delete(id);
  }
}

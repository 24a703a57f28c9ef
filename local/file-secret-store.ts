import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DependencyError } from '../shared/errors';
import type { SecretStore } from '../shared/secrets/secrets';
import { writeFileAtomic } from './atomic-file';

const FILE_MODE = 0o600;

interface SecretFile {
  version: 1;
  secrets: Record<string, string>;
}

/**
 * SecretStore on one JSON file, for local mode: readable by its owner only (0600), replaced
 * atomically on every write, so an interrupted write never leaves half a file. Reads go to the
 * file each time, so an edit made while the stack runs is seen. File faults become
 * DependencyError; messages never include a secret value.
 */
export class FileSecretStore implements SecretStore {
  /** Writes one after another: each rewrites the whole file from the latest content. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async get(id: string): Promise<string | undefined> {
    return (await this.read()).secrets[id];
  }

  put(id: string, value: string): Promise<void> {
    return this.update((secrets) => {
      secrets[id] = value;
    });
  }

  delete(id: string): Promise<void> {
    return this.update((secrets) => {
      delete secrets[id];
    });
  }

  private update(change: (secrets: Record<string, string>) => void): Promise<void> {
    const write = this.writes.then(async () => {
      const file = await this.read();
      change(file.secrets);
      try {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, { mode: FILE_MODE });
      } catch (error) {
        throw new DependencyError(`cannot write the secret file ${this.path}`, { cause: error });
      }
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async read(): Promise<SecretFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, secrets: {} };
      throw new DependencyError(`cannot read the secret file ${this.path}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DependencyError(`the secret file ${this.path} is not valid JSON`);
    }
    const secrets = (parsed as Partial<SecretFile> | null)?.secrets;
    if (
      !secrets ||
      typeof secrets !== 'object' ||
      Object.values(secrets).some((v) => typeof v !== 'string')
    ) {
      throw new DependencyError(`the secret file ${this.path} is malformed`);
    }
    return { version: 1, secrets: { ...secrets } };
  }
}

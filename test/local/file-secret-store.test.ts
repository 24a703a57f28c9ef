import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../local/file-secret-store';
import { DependencyError } from '../../shared/errors';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-secrets-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileSecretStore', () => {
  it('returns what was put, across instances, and nothing for an unknown id', async () => {
    const path = join(dir, 'secrets.json');
    await new FileSecretStore(path).put(
      'hookgate/local/integrations/local/webhook-secret',
      '{"current":"s3cret"}',
    );
    const reread = new FileSecretStore(path);
    expect(await reread.get('hookgate/local/integrations/local/webhook-secret')).toBe('{"current":"s3cret"}');
    expect(await reread.get('hookgate/local/projects/p/deploy-key')).toBeUndefined();
  });

  it('writes the file readable by its owner only (0600)', async () => {
    const path = join(dir, 'secrets.json');
    await new FileSecretStore(path).put('id', 'value');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('narrows a file someone made world-readable back to 0600 on the next write', async () => {
    const path = join(dir, 'secrets.json');
    writeFileSync(path, JSON.stringify({ version: 1, secrets: { a: '1' } }), { mode: 0o644 });
    await new FileSecretStore(path).put('b', '2');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await new FileSecretStore(path).get('a')).toBe('1');
  });

  it('keeps every one of many concurrent writes and leaves no temporary file behind', async () => {
    const store = new FileSecretStore(join(dir, 'secrets.json'));
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.put(`id-${i}`, `value-${i}`)));
    for (let i = 0; i < 25; i++) expect(await store.get(`id-${i}`)).toBe(`value-${i}`);
    expect(readdirSync(dir)).toEqual(['secrets.json']);
  });

  it('deletes a secret and keeps the others', async () => {
    const store = new FileSecretStore(join(dir, 'secrets.json'));
    await store.put('a', '1');
    await store.put('b', '2');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBe('2');
    await store.delete('never-there');
  });

  it('reports a damaged file as a DependencyError that does not quote its content', async () => {
    const path = join(dir, 'secrets.json');
    writeFileSync(path, '{"version":1,"secrets":{"id":"top-secret-value"');
    const failure = await new FileSecretStore(path).get('id').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyError);
    expect(String((failure as Error).message)).not.toContain('top-secret-value');
    expect(readFileSync(path, 'utf8')).toContain('top-secret-value');
  });
});

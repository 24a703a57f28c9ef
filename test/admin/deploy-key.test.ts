import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDeployKey } from '../../shared/admin/deploy-key';

// ssh-keygen is the oracle: it shares no code with the encoder, and it is what runners and
// Bitbucket-side tooling use to read these keys.

const dir = mkdtempSync(join(tmpdir(), 'hookgate-deploy-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeTemp(content: string, mode: number): string {
  fileCount += 1;
  const path = join(dir, `key-${fileCount}`);
  writeFileSync(path, content, { mode });
  return path;
}

/** Runs ssh-keygen; fails (never skips) when it is not installed. */
function sshKeygen(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ssh-keygen', args, { encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error('ssh-keygen not found: install openssh-client (apt-get install openssh-client)'));
      } else if (error) {
        reject(new Error(`ssh-keygen ${args.join(' ')} failed: ${stderr || error.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function typeAndKey(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

describe('generateDeployKey', () => {
  const key = generateDeployKey('hookgate deploy key for acme/widgets');

  it('writes an OpenSSH private key that ssh-keygen reads back to the same public key', async () => {
    const file = writeTemp(key.privateKey, 0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const derived = await sshKeygen(['-y', '-P', '', '-f', file]);
    expect(typeAndKey(derived)).toBe(typeAndKey(key.publicKey));
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} /);
  });

  it('gives the fingerprint ssh-keygen -lf prints for the public key', async () => {
    const file = writeTemp(`${key.publicKey}\n`, 0o644);
    const listed = await sshKeygen(['-l', '-E', 'sha256', '-f', file]);
    expect(listed.trim().split(/\s+/)[1]).toBe(key.fingerprint);
    expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('keeps the comment on the public key and inside the private key', async () => {
    expect(key.publicKey.endsWith(' hookgate deploy key for acme/widgets')).toBe(true);
    const file = writeTemp(key.privateKey, 0o600);
    const listed = await sshKeygen(['-l', '-f', file]);
    expect(listed).toContain('hookgate deploy key for acme/widgets');
  });

  it('wraps the base64 body at 70 columns between the OpenSSH armour lines', () => {
    const lines = key.privateKey.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('-----END OPENSSH PRIVATE KEY-----');
    const body = lines.slice(1, -1);
    for (const line of body.slice(0, -1)) expect(line).toHaveLength(70);
    expect(body.at(-1)?.length).toBeLessThanOrEqual(70);
    const decoded = Buffer.from(body.join(''), 'base64');
    expect(decoded.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
  });

  it('generates a different key pair on every call', () => {
    const other = generateDeployKey('hookgate deploy key for acme/widgets');
    expect(other.publicKey).not.toBe(key.publicKey);
    expect(other.privateKey).not.toBe(key.privateKey);
    expect(other.fingerprint).not.toBe(key.fingerprint);
  });
});

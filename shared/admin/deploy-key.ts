import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

/** An ed25519 key pair in the formats Bitbucket and `ssh` read. */
export interface DeployKey {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted. */
  privateKey: string;
  /** `ssh-ed25519 <base64> <comment>`, as in an authorized_keys line. */
  publicKey: string;
  /** `SHA256:<unpadded base64>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

const KEY_TYPE = 'ssh-ed25519';
const AUTH_MAGIC = 'openssh-key-v1\0';
// The unencrypted ("none") cipher still pads the private section to 8-byte blocks.
const BLOCK_SIZE = 8;

/**
 * Generates a fresh ed25519 deploy key: the OpenSSH private key, the public key line with
 * `comment`, and its SHA256 fingerprint. Node cannot export the OpenSSH format, so the
 * private key is encoded here (openssh-portable PROTOCOL.key).
 */
export function generateDeployKey(comment: string): DeployKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x) throw new Error('ed25519 JWK export is missing "d" or "x"');
  const seed = Buffer.from(jwk.d, 'base64url');
  const pub = Buffer.from(jwk.x, 'base64url');
  if (seed.length !== 32 || pub.length !== 32) throw new Error('unexpected ed25519 key length');
  const blob = publicBlob(pub);
  return {
    privateKey: encodePrivateKey(seed, pub, blob, comment),
    publicKey: `${KEY_TYPE} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`,
    fingerprint: fingerprintOf(blob),
  };
}

/** `SHA256:` + unpadded base64 of sha256 over the SSH public key blob (what `ssh-keygen -lf` prints). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function publicBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

function encodePrivateKey(seed: Buffer, pub: Buffer, blob: Buffer, comment: string): string {
  const check = randomBytes(4);
  const section = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padLength = (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from(AUTH_MAGIC, 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(blob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const base64 = body.toString('base64');
  // PEM lines of 70 characters, as ssh-keygen writes them.
  const lines = base64.match(/.{1,70}/g)?.join('\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

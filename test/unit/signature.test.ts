import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from '../../shared/bitbucket/signature';
import { readFixtureBytes, readFixtureJson } from '../support/fixtures';

// Known-answer vectors from jenkinsci/bitbucket-branch-source-plugin, re-verified in
// reference/bitbucket-protocol.md §1.3 (Cloud) and §2.3 (Data Center).
const SECRET = 'Gkvl$k$wyNpQAF42';
const VECTORS = [
  {
    platform: 'Cloud',
    body: 'cloud/jenkins-bbsource__signed_payload.json',
    headers: 'cloud/jenkins-bbsource__signed_payload.headers.json',
    size: 14_515,
    signature: 'sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035',
  },
  {
    platform: 'Data Center',
    body: 'server/jenkins-bbsource__signed_payload.json',
    headers: 'server/jenkins-bbsource__signed_payload.headers.json',
    size: 1_168,
    signature: 'sha256=4ffba9e7b58ea3d7e1a230446e8c92baea0aeec89b73f598932387254f0de13e',
  },
] as const;

const cloudBody = readFixtureBytes(VECTORS[0].body);
const cloudSignature = VECTORS[0].signature;

describe.each(VECTORS)('the $platform known-answer vector', (vector) => {
  const body = readFixtureBytes(vector.body);

  it('is checked over the exact file bytes', () => {
    expect(body.length).toBe(vector.size);
    expect(readFixtureJson<Record<string, string>>(vector.headers)['X-Hub-Signature']).toBe(vector.signature);
  });

  it('signs the raw body to the published signature', () => {
    expect(signBody(body, SECRET)).toBe(vector.signature);
  });

  it('verifies the published signature', () => {
    expect(verifySignature(body, vector.signature, [SECRET])).toBe(true);
  });
});

describe('verifySignature', () => {
  it('rejects the signature under a wrong secret', () => {
    expect(verifySignature(cloudBody, cloudSignature, ['Gkvl$k$wyNpQAF43'])).toBe(false);
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(cloudBody);
    tampered[100] = (tampered[100] ?? 0) ^ 0x01;
    expect(verifySignature(tampered, cloudSignature, [SECRET])).toBe(false);
  });

  it('rejects the same JSON re-serialised, because only the raw bytes count', () => {
    const reserialised = JSON.stringify(JSON.parse(cloudBody.toString('utf8')), null, 2);
    expect(reserialised).not.toBe(cloudBody.toString('utf8'));
    expect(verifySignature(reserialised, cloudSignature, [SECRET])).toBe(false);
  });

  it('accepts the hex digest in uppercase', () => {
    const upper = `sha256=${cloudSignature.slice('sha256='.length).toUpperCase()}`;
    expect(verifySignature(cloudBody, upper, [SECRET])).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the algorithm prefix', cloudSignature.slice('sha256='.length)],
    ['with another algorithm', cloudSignature.replace('sha256=', 'sha1=')],
    ['truncated', cloudSignature.slice(0, -2)],
    ['one hex digit too long', `${cloudSignature}0`],
    ['not hex', cloudSignature.replace(/.$/, 'g')],
  ])('returns false for a %s header', (_what, header) => {
    expect(verifySignature(cloudBody, header, [SECRET])).toBe(false);
  });

  it('accepts a delivery signed with the second of several secrets (rotation)', () => {
    expect(verifySignature(cloudBody, cloudSignature, ['new-secret', SECRET])).toBe(true);
    expect(verifySignature(cloudBody, cloudSignature, ['new-secret', 'older-secret'])).toBe(false);
  });

  it('returns false when no secret is configured', () => {
    expect(verifySignature(cloudBody, cloudSignature, [])).toBe(false);
  });
});

describe('signBody', () => {
  it('round-trips through verifySignature for strings and bytes alike', () => {
    const text = '{"push":{"changes":[]}}';
    const signature = signBody(text, 'round-trip');
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signBody(Buffer.from(text), 'round-trip')).toBe(signature);
    expect(verifySignature(text, signature, ['round-trip'])).toBe(true);
    expect(verifySignature(Buffer.from(text), signature, ['round-trip'])).toBe(true);
    expect(verifySignature(`${text} `, signature, ['round-trip'])).toBe(false);
  });
});

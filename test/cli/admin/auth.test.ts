import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_SECRET_ID } from '../../../local/bootstrap';
import { dataDirOf } from '../../../local/data-dir';
import { writeEndpoint } from '../../../local/endpoint-file';
import { FileSecretStore } from '../../../local/file-secret-store';
import { computeSignature, type FakeAdmin, parseAuthorization, runCli, startFakeAdmin } from './support';

// How `hookgate admin` finds where to go and how to authenticate: the local stack's admin token
// (given, from the environment, or saved in the data folder) or SigV4 with AWS credentials.

let api: FakeAdmin;
let home: string;
beforeAll(async () => {
  api = await startFakeAdmin();
  home = mkdtempSync(join(tmpdir(), 'hookgate-admin-auth-'));
});
afterAll(async () => {
  await api.close();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(() => {
  api.reply(200, { items: [] });
});

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDHOOKGATETEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret-key/for+signing',
  AWS_REGION: 'eu-central-1',
};

describe('local admin token', () => {
  it('reads the token the local stack saved in the data folder when none is given', async () => {
    const dir = dataDirOf(join(home, 'stack-a'));
    await new FileSecretStore(dir.secrets).put(ADMIN_TOKEN_SECRET_ID, 'saved-token');
    const result = await runCli(
      ['admin', 'integrations', 'list', '--endpoint', api.url, '--data-dir', dir.root],
      {},
      home,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.last().headers.authorization).toBe('Bearer saved-token');
  });

  it("finds the local stack's address in the data folder when no endpoint is given", async () => {
    const dir = dataDirOf(join(home, 'stack-b'));
    await new FileSecretStore(dir.secrets).put(ADMIN_TOKEN_SECRET_ID, 'token-b');
    await writeEndpoint(dir.endpoint, {
      webhookUrl: `${api.url}/webhooks/local`,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
    const before = api.received.length;
    const result = await runCli(['admin', 'projects', 'get', 'p1', '--data-dir', dir.root], {}, home);
    expect(result.code).toBe(0);
    expect(api.received).toHaveLength(before + 1);
    expect(api.last()).toMatchObject({
      path: '/admin/projects/p1',
      headers: { authorization: 'Bearer token-b' },
    });
  });

  it('takes the endpoint and token from HOOKGATE_ENDPOINT and HOOKGATE_ADMIN_TOKEN', async () => {
    const result = await runCli(
      ['admin', 'integrations', 'list'],
      { HOOKGATE_ENDPOINT: api.url, HOOKGATE_ADMIN_TOKEN: 'env-token' },
      home,
    );
    expect(result.code).toBe(0);
    expect(api.last().headers.authorization).toBe('Bearer env-token');
  });

  it('prefers --token over the saved one', async () => {
    const dir = dataDirOf(join(home, 'stack-a'));
    const result = await runCli(
      ['admin', 'integrations', 'list', '--endpoint', api.url, '--data-dir', dir.root, '--token', 'given'],
      {},
      home,
    );
    expect(result.code).toBe(0);
    expect(api.last().headers.authorization).toBe('Bearer given');
  });

  it('says to pass --token when the local stack saved none (exit 2, nothing sent)', async () => {
    const before = api.received.length;
    const result = await runCli(
      ['admin', 'integrations', 'list', '--endpoint', api.url, '--data-dir', join(home, 'empty')],
      {},
      home,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^hookgate admin: no admin token: pass --token .*; none is saved in .*empty\n$/,
    );
    expect(api.received).toHaveLength(before);
  });
});

describe('SigV4', () => {
  function iam(args: string[], env: Record<string, string> = AWS_ENV) {
    return runCli(['admin', ...args, '--endpoint', api.url, '--auth', 'iam'], env, home);
  }

  it('signs for execute-api with credentials from the environment, verifiably', async () => {
    const started = Date.now();
    const result = await iam(['integrations', 'list', '--label', 'team a']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const request = api.last();
    const authorization = request.headers.authorization ?? '';
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDHOOKGATETEST\/\d{8}\/eu-central-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    const amzDate = String(request.headers['x-amz-date'] ?? '');
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    const signedAt = Date.parse(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    expect(signedAt).toBeGreaterThan(started - 60_000);
    expect(signedAt).toBeLessThan(Date.now() + 60_000);
    expect(parseAuthorization(authorization).signature).toBe(
      computeSignature({ ...request, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY }),
    );
  });

  it('signs the body and headers of a write', async () => {
    api.reply(201, { name: 'acme', webhookSecret: 's' });
    const result = await iam(['integrations', 'update', 'acme', '--description', 'x y', '--if-match', '7']);
    expect(result.code).toBe(0);
    const request = api.last();
    const auth = parseAuthorization(request.headers.authorization);
    expect(auth.signedHeaders).toEqual(
      expect.arrayContaining(['content-type', 'host', 'if-match', 'x-amz-date']),
    );
    expect(auth.signature).toBe(
      computeSignature({ ...request, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY }),
    );
  });

  it('uses --region over AWS_REGION', async () => {
    const result = await iam(['projects', 'get', 'p1', '--region', 'ap-south-1']);
    expect(result.code).toBe(0);
    expect(parseAuthorization(api.last().headers.authorization).region).toBe('ap-south-1');
  });

  it('says there are no AWS credentials in one line, exit 1', async () => {
    const result = await iam(['integrations', 'list'], { AWS_REGION: 'eu-central-1' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^hookgate admin: no AWS credentials to sign with: [^\n]+\n$/);
  });

  it('asks for --region when neither it, the host nor AWS_REGION gives one', async () => {
    const { AWS_REGION: _, ...withoutRegion } = AWS_ENV;
    const result = await iam(['integrations', 'list'], withoutRegion);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      'hookgate admin: cannot tell the region to sign for: pass --region or set AWS_REGION\n',
    );
  });
});

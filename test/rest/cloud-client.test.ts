import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOUD_WEBHOOK_EVENTS } from '../../shared/bitbucket/event-keys';
import { publicKeyBody, type RepoRef } from '../../shared/bitbucket/rest/client';
import {
  type CloudClientOptions,
  createCloudClient,
  missingCloudScopes,
} from '../../shared/bitbucket/rest/cloud-client';
import type { Credentials } from '../../shared/bitbucket/rest/credentials';
import {
  BitbucketAuthError,
  BitbucketNotFoundError,
  BitbucketRequestRejectedError,
} from '../../shared/bitbucket/rest/errors';
import { listOpenPullRequestsFromBranch, resolveCommit } from '../../shared/bitbucket/rest/pull-requests';
import { ValidationError } from '../../shared/errors';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { generatePublicKey } from '../support/fake-bitbucket/keys';

const ALL_SCOPES = ['repository', 'repository:admin', 'pullrequest', 'webhook'];
const TOKEN = 'cloud-access-token-0123456789';
const REF: RepoRef = { owner: 'acme', slug: 'web' };
const HEAD = fakeSha('web-head');
const OTHER = fakeSha('web-other');
const FORK_UUID = '{0f0f0f0f-0000-4000-8000-000000000001}';

let fake: FakeCloud;

beforeEach(async () => {
  fake = await startFakeCloud();
  fake.addAccessToken(TOKEN, ALL_SCOPES);
  fake.addRepository({
    workspace: 'acme',
    slug: 'web',
    uuid: '{6d6f7e32-3c1a-4a40-9f3b-1b8f5d0c2a11}',
    commits: [HEAD, OTHER],
    files: {
      main: ['bitbucket-pipelines.yml', 'ci/build.sh'],
      [HEAD]: ['bitbucket-pipelines.yml', 'ci/build.sh'],
    },
    pullRequests: [
      { sourceBranch: 'feature/login', sourceCommit: HEAD },
      { sourceBranch: 'feature/login', state: 'DECLINED' },
      { sourceBranch: 'feature/login', sourceRepositoryUuid: FORK_UUID },
      { sourceBranch: 'feature/other' },
      { sourceBranch: 'feature/login', draft: true },
      { sourceBranch: 'say "hi"' },
    ],
  });
});

afterEach(async () => {
  await fake.close();
});

function client(
  credentials: Credentials = { kind: 'access-token', token: TOKEN },
  extra: Partial<CloudClientOptions> = {},
) {
  return createCloudClient({
    baseUrl: fake.apiUrl,
    tokenUrl: fake.tokenUrl,
    credentials,
    sleep: async () => {},
    network: 'local',
    ...extra,
  });
}

describe('Bitbucket Cloud repository', () => {
  it('reads the uuid, full name, main branch and anonymous clone URLs', async () => {
    await expect(client().getRepository(REF)).resolves.toEqual({
      id: '{6d6f7e32-3c1a-4a40-9f3b-1b8f5d0c2a11}',
      fullName: 'acme/web',
      defaultBranch: 'main',
      cloneUrls: { ssh: 'git@bitbucket.org:acme/web.git', https: 'https://bitbucket.org/acme/web.git' },
    });
  });

  it('reports no default branch for a repository without a main branch', async () => {
    fake.addRepository({ workspace: 'acme', slug: 'empty', mainbranch: null });
    const repo = await client().getRepository({ owner: 'acme', slug: 'empty' });
    expect(repo.defaultBranch).toBeNull();
  });

  it('throws BitbucketNotFoundError, mapped to 404, for a repository that does not exist', async () => {
    const error = await client()
      .getRepository({ owner: 'acme', slug: 'nope' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketNotFoundError);
    expect(error).toMatchObject({
      status: 404,
      upstreamStatus: 404,
      bitbucketMessage: 'Repository not found',
    });
    expect((error as Error).message).toContain('GET /2.0/repositories/acme/nope');
  });

  it('refuses a repository reference that would change the URL path', async () => {
    await expect(client().getRepository({ owner: 'acme', slug: '../other' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(fake.requests).toHaveLength(0);
  });
});

describe('Bitbucket Cloud webhooks', () => {
  const spec = {
    url: 'https://hooks.example.com/webhooks/acme',
    events: CLOUD_WEBHOOK_EVENTS,
    description: 'Hookgate',
    secret: 's3cret-value',
  };

  it('creates a hook whose secret Bitbucket keeps but never returns', async () => {
    const hook = await client().createHook(REF, spec);
    expect(hook).toEqual({
      id: expect.stringMatching(/^\{[0-9a-f-]{36}\}$/),
      url: spec.url,
      description: 'Hookgate',
      active: true,
      events: [...CLOUD_WEBHOOK_EVENTS],
      secretSet: true,
    });
    expect(fake.repository('acme/web').hooks.get(hook.id)?.secret).toBe('s3cret-value');
    expect(JSON.stringify(await client().listHooks(REF))).not.toContain('s3cret-value');
  });

  it('lists every hook across pages', async () => {
    for (let i = 0; i < 5; i += 1) {
      await client().createHook(REF, { ...spec, url: `https://hooks.example.com/${i}` });
    }
    fake.requests.length = 0;
    const hooks = await client().listHooks(REF);
    expect(hooks.map((h) => h.url)).toEqual([0, 1, 2, 3, 4].map((i) => `https://hooks.example.com/${i}`));
    expect(fake.requestsTo('/hooks')).toHaveLength(3);
  });

  it('updates a hook and keeps its secret when the update names none', async () => {
    const created = await client().createHook(REF, spec);
    const updated = await client().updateHook(REF, created.id, {
      url: 'https://hooks.example.com/moved',
      events: ['repo:push'],
      description: 'Hookgate (moved)',
      active: false,
    });
    expect(updated).toMatchObject({ id: created.id, url: 'https://hooks.example.com/moved', active: false });
    expect(updated.events).toEqual(['repo:push']);
    expect(fake.repository('acme/web').hooks.get(created.id)?.secret).toBe('s3cret-value');
    expect(fake.requests.at(-1)?.body).not.toHaveProperty('secret');
  });

  it('replaces the secret when the update names one', async () => {
    const created = await client().createHook(REF, spec);
    await client().updateHook(REF, created.id, { ...spec, secret: 'rotated' });
    expect(fake.repository('acme/web').hooks.get(created.id)?.secret).toBe('rotated');
  });

  it('deletes a hook, and counts a hook already gone as deleted', async () => {
    const created = await client().createHook(REF, spec);
    await client().deleteHook(REF, created.id);
    expect(fake.repository('acme/web').hooks.size).toBe(0);
    await expect(client().deleteHook(REF, created.id)).resolves.toBeUndefined();
    expect(fake.requests.at(-1)?.path).toContain('/hooks/%7B');
  });

  it('passes on Bitbucket’s refusal of an unknown event as a 422 with its message', async () => {
    const error = await client()
      .createHook(REF, { ...spec, events: ['repo:teleported'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketRequestRejectedError);
    expect(error).toMatchObject({
      status: 422,
      bitbucketMessage: 'events: Invalid event(s): repo:teleported',
    });
  });
});

describe('Bitbucket Cloud deploy keys', () => {
  it('adds a deploy key, lists it without its comment, and deletes it', async () => {
    const key = generatePublicKey('hookgate@acme/web');
    const added = await client().addDeployKey(REF, { key, label: 'hookgate' });
    expect(added).toEqual({
      id: expect.any(String),
      key: publicKeyBody(key),
      label: 'hookgate',
      readOnly: true,
    });
    expect(fake.requests.at(-1)?.body).toEqual({ key, label: 'hookgate' });
    await expect(client().listDeployKeys(REF)).resolves.toEqual([added]);
    await client().deleteDeployKey(REF, added.id);
    await expect(client().listDeployKeys(REF)).resolves.toEqual([]);
    await expect(client().deleteDeployKey(REF, added.id)).resolves.toBeUndefined();
  });

  it('lists every deploy key across pages', async () => {
    for (let i = 0; i < 3; i += 1)
      await client().addDeployKey(REF, { key: generatePublicKey(), label: `k${i}` });
    const keys = await client().listDeployKeys(REF);
    expect(keys.map((k) => k.label)).toEqual(['k0', 'k1', 'k2']);
  });

  it('passes on the refusal of a duplicate key with Bitbucket’s message', async () => {
    const key = generatePublicKey();
    await client().addDeployKey(REF, { key, label: 'first' });
    await expect(client().addDeployKey(REF, { key, label: 'again' })).rejects.toMatchObject({
      name: 'BitbucketRequestRejectedError',
      upstreamStatus: 400,
      bitbucketMessage: 'Someone has already added that access key to this repository.',
    });
  });
});

describe('Bitbucket Cloud pull requests', () => {
  it('lists the open pull requests from a branch, flagging forks and drafts', async () => {
    const pulls = await listOpenPullRequestsFromBranch(client(), REF, 'feature/login');
    expect(pulls).toEqual([
      {
        id: 1,
        sourceBranch: 'feature/login',
        sourceCommit: HEAD.slice(0, 12),
        fromFork: false,
        draft: false,
      },
      {
        id: 3,
        sourceBranch: 'feature/login',
        sourceCommit: expect.any(String),
        fromFork: true,
        draft: false,
      },
      {
        id: 5,
        sourceBranch: 'feature/login',
        sourceCommit: expect.any(String),
        fromFork: false,
        draft: true,
      },
    ]);
    const query = fake.requestsTo('/pullrequests')[0]?.query;
    expect(query?.get('state')).toBe('OPEN');
    expect(query?.get('q')).toBe('source.branch.name = "feature/login"');
  });

  it('escapes quotes in the branch name of the BBQL query', async () => {
    const pulls = await listOpenPullRequestsFromBranch(client(), REF, 'say "hi"');
    expect(pulls.map((p) => p.id)).toEqual([6]);
    expect(fake.requestsTo('/pullrequests')[0]?.query.get('q')).toBe('source.branch.name = "say \\"hi\\""');
  });

  it('returns nothing for a branch without open pull requests', async () => {
    await expect(listOpenPullRequestsFromBranch(client(), REF, 'main')).resolves.toEqual([]);
  });
});

describe('Bitbucket Cloud commits and files', () => {
  it('resolves an abbreviated hash to the full commit hash', async () => {
    await expect(resolveCommit(client(), REF, HEAD.slice(0, 12))).resolves.toBe(HEAD);
  });

  it('throws BitbucketNotFoundError for a commit Bitbucket does not know', async () => {
    await expect(resolveCommit(client(), REF, 'abcdef123456')).rejects.toBeInstanceOf(BitbucketNotFoundError);
  });

  it('refuses a hash that is not hexadecimal without asking Bitbucket', async () => {
    await expect(resolveCommit(client(), REF, 'main')).rejects.toBeInstanceOf(ValidationError);
    expect(fake.requests).toHaveLength(0);
  });

  it('tells a file at a commit or branch from a directory, a missing path and an unknown ref', async () => {
    const c = client();
    await expect(c.fileExists(REF, 'bitbucket-pipelines.yml', HEAD)).resolves.toBe(true);
    await expect(c.fileExists(REF, 'ci/build.sh', 'main')).resolves.toBe(true);
    await expect(c.fileExists(REF, 'ci', HEAD)).resolves.toBe(false);
    await expect(c.fileExists(REF, 'Jenkinsfile', HEAD)).resolves.toBe(false);
    await expect(c.fileExists(REF, 'bitbucket-pipelines.yml', 'no-such-branch')).resolves.toBe(false);
    expect(fake.requests[0]?.path).toBe(`/2.0/repositories/acme/web/src/${HEAD}/bitbucket-pipelines.yml`);
    expect(fake.requests[0]?.query.get('format')).toBe('meta');
  });
});

describe('Bitbucket Cloud credentials check', () => {
  it('finds nothing missing for an access token with every scope Hookgate needs', async () => {
    await expect(client().checkCredentials(REF)).resolves.toEqual({ valid: true, missingScopes: [] });
  });

  it('reports the scopes an access token lacks, from x-oauth-scopes and the probes', async () => {
    fake.addAccessToken('narrow-token', ['repository:write', 'pullrequest']);
    const check = await client({ kind: 'access-token', token: 'narrow-token' }).checkCredentials(REF);
    expect(check.valid).toBe(true);
    expect(check.missingScopes).toEqual(['repository:admin', 'webhook']);
    expect(check.detail).toContain('Your credentials lack one or more required privilege scopes.');
  });

  it('takes the scopes Bitbucket lists in x-oauth-scopes even where the reads get through', async () => {
    const fetchAll: typeof fetch = async () =>
      Response.json(
        { uuid: '{u}', full_name: 'acme/web', values: [] },
        { headers: { 'x-oauth-scopes': 'repository, pullrequest' } },
      );
    const check = await client(undefined, { fetch: fetchAll }).checkCredentials(REF);
    expect(check).toEqual({ valid: true, missingScopes: ['repository:admin', 'webhook'] });
  });

  it('finds missing scopes by probing when Bitbucket sends no scope header (API token)', async () => {
    fake.addApiToken('dev@example.com', 'api-token-value', ['repository', 'webhook']);
    const check = await client({
      kind: 'api-token',
      email: 'dev@example.com',
      token: 'api-token-value',
    }).checkCredentials(REF);
    expect(check).toMatchObject({ valid: true, missingScopes: ['repository:admin', 'pullrequest'] });
    expect(fake.requests.every((r) => r.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('reports a revoked token as invalid, and calls with it fail with BitbucketAuthError', async () => {
    fake.revoke(TOKEN);
    await expect(client().checkCredentials(REF)).resolves.toEqual({
      valid: false,
      missingScopes: [],
      detail: 'Token is invalid, expired, or not supported for this endpoint.',
    });
    const error = await client()
      .listHooks(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketAuthError);
    expect(error).toMatchObject({ reason: 'unauthenticated', status: 422, upstreamStatus: 401 });
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a call outside the scopes as forbidden, not as bad credentials', async () => {
    fake.addAccessToken('read-only', ['repository']);
    await expect(client({ kind: 'access-token', token: 'read-only' }).listHooks(REF)).rejects.toMatchObject({
      name: 'BitbucketAuthError',
      reason: 'forbidden',
      upstreamStatus: 403,
    });
  });
});

describe('Bitbucket Cloud scope arithmetic', () => {
  it('counts scopes implied by broader ones as granted', () => {
    expect(missingCloudScopes(['pullrequest:write', 'repository:admin', 'webhook'])).toEqual([]);
  });

  it('does not take repository:admin as read access', () => {
    expect(missingCloudScopes(['repository:admin'])).toEqual(['repository', 'pullrequest', 'webhook']);
  });

  it('names granular scopes when the token carries granular ones', () => {
    expect(
      missingCloudScopes([
        'read:repository:bitbucket',
        'admin:repository:bitbucket',
        'read:pullrequest:bitbucket',
        'read:webhook:bitbucket',
      ]),
    ).toEqual([
      'write:ssh-key:bitbucket',
      'delete:ssh-key:bitbucket',
      'write:webhook:bitbucket',
      'delete:webhook:bitbucket',
    ]);
  });
});

describe('Bitbucket Cloud client construction', () => {
  it('refuses Data Center credentials', () => {
    expect(() => client({ kind: 'http-access-token', token: 'x' })).toThrow(ValidationError);
  });

  it('refuses a base URL that carries credentials', () => {
    expect(() => client(undefined, { baseUrl: 'https://user:pw@api.bitbucket.org/2.0' })).toThrow(
      'must not contain credentials',
    );
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_CENTER_WEBHOOK_EVENTS } from '../../shared/bitbucket/event-keys';
import { publicKeyBody, type RepoRef } from '../../shared/bitbucket/rest/client';
import { createBitbucketClient } from '../../shared/bitbucket/rest/create-client';
import {
  createDataCenterClient,
  type DataCenterClientOptions,
} from '../../shared/bitbucket/rest/data-center-client';
import { BitbucketAuthError, BitbucketNotFoundError } from '../../shared/bitbucket/rest/errors';
import { listOpenPullRequestsFromBranch, resolveCommit } from '../../shared/bitbucket/rest/pull-requests';
import { ValidationError } from '../../shared/errors';
import { type FakeDataCenter, startFakeDataCenter } from '../support/fake-bitbucket/fake-data-center';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { generatePublicKey } from '../support/fake-bitbucket/keys';

const TOKEN = 'BBDC-NzQ1MjM0OTk2MzE4Ojhz';
const REF: RepoRef = { owner: 'PLAT', slug: 'api' };
const HEAD = fakeSha('api-head');
const FEATURE = fakeSha('api-feature');

let fake: FakeDataCenter;

beforeEach(async () => {
  fake = await startFakeDataCenter();
  fake.addToken(TOKEN, 'REPO_ADMIN');
  fake.addRepository({
    projectKey: 'PLAT',
    slug: 'api',
    id: 42,
    defaultBranch: 'develop',
    commits: [HEAD, FEATURE],
    files: {
      develop: { 'bitbucket-pipelines.yml': 'pipelines: {}' },
      [HEAD]: { 'bitbucket-pipelines.yml': 'pipelines: {}', 'ci/build.sh': 'make' },
    },
    pullRequests: [
      { fromBranch: 'feature/x', fromCommit: FEATURE },
      { fromBranch: 'feature/x', fromCommit: FEATURE, state: 'MERGED' },
      { fromBranch: 'feature/y', fromCommit: HEAD },
      { fromBranch: 'feature/x', fromCommit: HEAD, draft: true },
      { fromBranch: 'feature/x', fromCommit: HEAD, fromRepositoryId: 77 },
      { fromBranch: 'feature/x', fromCommit: FEATURE },
    ],
  });
});

afterEach(async () => {
  await fake.close();
});

function client(token = TOKEN, extra: Partial<DataCenterClientOptions> = {}) {
  return createDataCenterClient({
    baseUrl: fake.url,
    credentials: { kind: 'http-access-token', token },
    sleep: async () => {},
    network: 'local',
    ...extra,
  });
}

describe('Bitbucket Data Center repository', () => {
  it('reads the numeric id, project/slug name, configured default branch and clone URLs', async () => {
    await expect(client().getRepository(REF)).resolves.toEqual({
      id: '42',
      fullName: 'PLAT/api',
      defaultBranch: 'develop',
      cloneUrls: {
        ssh: 'ssh://git@bitbucket.example.com:7999/plat/api.git',
        https: 'https://bitbucket.example.com/scm/plat/api.git',
      },
    });
    expect(fake.requests.map((r) => r.path).sort()).toEqual([
      '/rest/api/latest/projects/PLAT/repos/api',
      '/rest/api/latest/projects/PLAT/repos/api/default-branch',
    ]);
    expect(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('carries Data Center’s own message when the repository does not exist', async () => {
    const error = await client()
      .getRepository({ owner: 'PLAT', slug: 'gone' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketNotFoundError);
    expect(error).toMatchObject({ bitbucketMessage: 'Repository PLAT/gone does not exist.' });
  });

  it('accepts a base URL that already ends in /rest', async () => {
    await client(TOKEN, { baseUrl: `${fake.url}/rest/` }).getRepository(REF);
    expect(fake.requests[0]?.path).toMatch(/^\/rest\/api\/latest\//);
  });
});

describe('Bitbucket Data Center webhooks', () => {
  const spec = {
    url: 'https://hooks.example.com/webhooks/plat',
    events: DATA_CENTER_WEBHOOK_EVENTS,
    description: 'Hookgate',
    secret: 'dc-secret',
  };

  it('creates a hook with the Hookgate events and its secret in configuration', async () => {
    const hook = await client().createHook(REF, spec);
    expect(hook).toEqual({
      id: expect.stringMatching(/^\d+$/),
      url: spec.url,
      description: 'Hookgate',
      active: true,
      events: [...DATA_CENTER_WEBHOOK_EVENTS],
      secretSet: true,
    });
    expect(fake.requests.at(-1)?.body).toMatchObject({
      name: 'Hookgate',
      configuration: { secret: 'dc-secret' },
    });
    expect(fake.repository('PLAT/api').hooks.get(Number(hook.id))?.configuration.secret).toBe('dc-secret');
  });

  it('leaves configuration out of a hook without a secret (Data Center fails on an empty one)', async () => {
    const hook = await client().createHook(REF, { ...spec, secret: '' });
    expect(hook.secretSet).toBe(false);
    expect(fake.requests.at(-1)?.body).not.toHaveProperty('configuration');
  });

  it('lists every hook across pages', async () => {
    for (let i = 0; i < 5; i += 1) await client().createHook(REF, { ...spec, description: `h${i}` });
    fake.requests.length = 0;
    const hooks = await client().listHooks(REF);
    expect(hooks.map((h) => h.description)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    expect(fake.requests.map((r) => r.query.get('start'))).toEqual(['0', '2', '4']);
  });

  it('updates a hook, keeping the secret when the update names none', async () => {
    const created = await client().createHook(REF, spec);
    const updated = await client().updateHook(REF, created.id, {
      url: 'https://hooks.example.com/moved',
      events: ['repo:refs_changed'],
      description: 'Hookgate',
      active: false,
    });
    expect(updated).toMatchObject({ id: created.id, url: 'https://hooks.example.com/moved', active: false });
    expect(updated.secretSet).toBe(true);
    expect(fake.repository('PLAT/api').hooks.get(Number(created.id))?.configuration.secret).toBe('dc-secret');
  });

  it('deletes a hook, and counts a hook already gone as deleted', async () => {
    const created = await client().createHook(REF, spec);
    await client().deleteHook(REF, created.id);
    expect(fake.repository('PLAT/api').hooks.size).toBe(0);
    await expect(client().deleteHook(REF, created.id)).resolves.toBeUndefined();
  });

  it('passes on Data Center’s refusal of an unknown event with its context and message', async () => {
    await expect(client().createHook(REF, { ...spec, events: ['pr:teleported'] })).rejects.toMatchObject({
      name: 'BitbucketRequestRejectedError',
      status: 422,
      bitbucketMessage: 'events: Unknown event(s): pr:teleported',
    });
  });
});

describe('Bitbucket Data Center access keys', () => {
  it('adds a read-only access key, lists it and deletes it', async () => {
    const key = generatePublicKey('hookgate@PLAT/api');
    const added = await client().addDeployKey(REF, { key, label: 'hookgate' });
    expect(added).toEqual({
      id: expect.stringMatching(/^\d+$/),
      key: publicKeyBody(key),
      label: 'hookgate',
      readOnly: true,
    });
    expect(fake.requests.at(-1)?.path).toBe('/rest/keys/latest/projects/PLAT/repos/api/ssh');
    expect(fake.requests.at(-1)?.body).toEqual({
      key: { text: key, label: 'hookgate' },
      permission: 'REPO_READ',
    });
    await expect(client().listDeployKeys(REF)).resolves.toEqual([added]);
    await client().deleteDeployKey(REF, added.id);
    await expect(client().listDeployKeys(REF)).resolves.toEqual([]);
  });

  it('lists a key with write access as not read-only', async () => {
    const repo = fake.repository('PLAT/api');
    repo.accessKeys.set(9, { id: 9, text: generatePublicKey(), label: 'legacy', permission: 'REPO_WRITE' });
    const [key] = await client().listDeployKeys(REF);
    expect(key).toMatchObject({ id: '9', label: 'legacy', readOnly: false });
  });

  it('passes on a duplicate key as a refusal with Data Center’s message', async () => {
    const key = generatePublicKey();
    await client().addDeployKey(REF, { key, label: 'a' });
    await expect(client().addDeployKey(REF, { key, label: 'b' })).rejects.toMatchObject({
      name: 'BitbucketRequestRejectedError',
      upstreamStatus: 409,
      bitbucketMessage: 'This key has already been added to this repository',
    });
  });
});

describe('Bitbucket Data Center pull requests, commits and files', () => {
  it('lists the open outgoing pull requests from a branch, across pages', async () => {
    const pulls = await listOpenPullRequestsFromBranch(client(), REF, 'feature/x');
    expect(pulls).toEqual([
      { id: 1, sourceBranch: 'feature/x', sourceCommit: FEATURE, fromFork: false, draft: false },
      { id: 4, sourceBranch: 'feature/x', sourceCommit: HEAD, fromFork: false, draft: true },
      { id: 6, sourceBranch: 'feature/x', sourceCommit: FEATURE, fromFork: false, draft: false },
    ]);
    const query = fake.requests[0]?.query;
    expect(query?.get('at')).toBe('refs/heads/feature/x');
    expect(query?.get('direction')).toBe('OUTGOING');
    expect(query?.get('state')).toBe('OPEN');
    expect(fake.requests).toHaveLength(2);
  });

  it('resolves an abbreviated hash to the full commit id', async () => {
    await expect(resolveCommit(client(), REF, HEAD.slice(0, 11))).resolves.toBe(HEAD);
    await expect(resolveCommit(client(), REF, 'deadbeef')).rejects.toMatchObject({
      name: 'BitbucketNotFoundError',
      bitbucketMessage: "Commit 'deadbeef' does not exist in repository 'api'.",
    });
  });

  it('tells whether a file exists at a commit or branch', async () => {
    const c = client();
    await expect(c.fileExists(REF, 'ci/build.sh', HEAD)).resolves.toBe(true);
    await expect(c.fileExists(REF, 'ci/build.sh', 'develop')).resolves.toBe(false);
    await expect(c.fileExists(REF, 'bitbucket-pipelines.yml', 'develop')).resolves.toBe(true);
    expect(fake.requests[0]?.path).toBe('/rest/api/latest/projects/PLAT/repos/api/raw/ci/build.sh');
    expect(fake.requests[0]?.query.get('at')).toBe(HEAD);
  });
});

describe('Bitbucket Data Center credentials check', () => {
  it('finds nothing missing for a REPO_ADMIN token', async () => {
    await expect(client().checkCredentials(REF)).resolves.toEqual({ valid: true, missingScopes: [] });
  });

  it('reports REPO_ADMIN missing for a token that may only read', async () => {
    fake.addToken('reader', 'REPO_READ');
    const check = await client('reader').checkCredentials(REF);
    expect(check).toEqual({
      valid: true,
      missingScopes: ['REPO_ADMIN'],
      detail: 'REPO_ADMIN: You are not permitted to access this resource',
    });
  });

  it('tells a missing permission from bad credentials although both are 401 on Data Center', async () => {
    fake.addToken('reader', 'REPO_READ');
    await expect(client('reader').listHooks(REF)).rejects.toMatchObject({
      name: 'BitbucketAuthError',
      reason: 'forbidden',
      upstreamStatus: 401,
    });
  });

  it('reports a revoked token as invalid, and calls with it fail with BitbucketAuthError', async () => {
    fake.revoke(TOKEN);
    await expect(client().checkCredentials(REF)).resolves.toEqual({
      valid: false,
      missingScopes: [],
      detail: 'Authentication failed. Please check your credentials and try again.',
    });
    const error = await client()
      .listDeployKeys(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketAuthError);
    expect(error).toMatchObject({ reason: 'unauthenticated', status: 422 });
    expect((error as Error).message).not.toContain(TOKEN);
  });
});

describe('choosing a client by provider', () => {
  it('builds a Data Center client from the server root and refuses one without it', async () => {
    const dc = createBitbucketClient('bitbucket-data-center', {
      baseUrl: fake.url,
      credentials: { kind: 'http-access-token', token: TOKEN },
      network: 'local',
    });
    expect(dc.provider).toBe('bitbucket-data-center');
    await expect(dc.getRepository(REF)).resolves.toMatchObject({ id: '42' });
    expect(() =>
      createBitbucketClient('bitbucket-data-center', {
        credentials: { kind: 'http-access-token', token: TOKEN },
      }),
    ).toThrow(ValidationError);
  });

  it('refuses Cloud credentials for Data Center', () => {
    expect(() =>
      createDataCenterClient({ baseUrl: fake.url, credentials: { kind: 'access-token', token: 'x' } }),
    ).toThrow(ValidationError);
  });
});

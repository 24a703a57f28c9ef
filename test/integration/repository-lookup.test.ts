import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitbucketAuthError } from '../../shared/bitbucket/rest/errors';
import { DependencyError, ValidationError } from '../../shared/errors';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import type { IntegrationRecord, ProjectRecord } from '../../shared/store/store';
import { type FakeDataCenter, startFakeDataCenter } from '../support/fake-bitbucket/fake-data-center';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { MemorySecretStore } from '../support/memory-secret-store';

const TOKEN = 'BBDC-lookup-token-0123456789';
const CREDENTIALS_ID = 'hookgate/test/integrations/corp/credentials';
const HEAD = fakeSha('lookup-head');

let fake: FakeDataCenter;
let secrets: MemorySecretStore;
let clock: number;

beforeEach(async () => {
  fake = await startFakeDataCenter();
  fake.addToken(TOKEN, 'REPO_READ');
  fake.addRepository({
    projectKey: 'PLAT',
    slug: 'api',
    commits: [HEAD],
    pullRequests: [
      { fromBranch: 'feature/x', fromCommit: HEAD },
      { fromBranch: 'feature/x', fromCommit: HEAD, fromRepositoryId: 77 },
      { fromBranch: 'feature/y', fromCommit: HEAD },
    ],
  });
  secrets = new MemorySecretStore();
  await secrets.put(CREDENTIALS_ID, JSON.stringify({ kind: 'http-access-token', token: TOKEN }));
  clock = Date.parse('2026-11-22T10:00:00Z');
});

afterEach(async () => {
  await fake.close();
});

function integration(extra: Partial<IntegrationRecord> = {}): IntegrationRecord {
  return {
    name: 'corp',
    provider: 'bitbucket-data-center',
    scope: 'default',
    labels: [],
    description: '',
    baseUrl: fake.url,
    webhookSecretId: 'hookgate/test/integrations/corp/webhook-secret',
    credentialsSecretId: CREDENTIALS_ID,
    status: 'active',
    version: 1,
    createdAt: '2026-11-22T09:00:00Z',
    updatedAt: '2026-11-22T09:00:00Z',
    ...extra,
  };
}

const project = { id: 'prj-plat-api', fullName: 'PLAT/api' } as ProjectRecord;

function lookup(extra: { pauseAfterOutageMs?: number } = {}) {
  return createBitbucketLookup({ secrets, maxDelayMs: 5, now: () => clock, network: 'local', ...extra });
}

describe('the REST lookup the processor uses', () => {
  it('lists the open pull requests from a branch of the repository on Data Center', async () => {
    // A fork's PR has its source in the fork: DC does not list it among this repository's outgoing ones.
    expect(await lookup().openPullRequests(integration(), project, 'feature/x')).toEqual([
      { id: 1, sourceBranch: 'feature/x', sourceCommit: HEAD, fromFork: false, draft: false },
    ]);
    const [request] = fake.requestsTo('/pull-requests');
    expect(request?.path).toBe('/rest/api/latest/projects/PLAT/repos/api/pull-requests');
    expect(request?.query.get('at')).toBe('refs/heads/feature/x');
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('resolves an abbreviated commit hash', async () => {
    expect(await lookup().fullCommitHash(integration(), project, HEAD.slice(0, 12))).toBe(HEAD);
  });

  it('answers undefined, asking nobody, for an integration without credentials', async () => {
    const bare = integration({ credentialsSecretId: undefined });
    expect(await lookup().openPullRequests(bare, project, 'feature/x')).toBeUndefined();
    expect(await lookup().fullCommitHash(bare, project, 'abcdef123456')).toBeUndefined();
    expect(fake.requests).toEqual([]);
  });

  it('reads the credentials once per integration version', async () => {
    const reads: string[] = [];
    const get = secrets.get.bind(secrets);
    secrets.get = async (id) => {
      reads.push(id);
      return get(id);
    };
    const shared = lookup();
    await shared.openPullRequests(integration(), project, 'feature/x');
    await shared.openPullRequests(integration(), project, 'feature/y');
    expect(reads).toHaveLength(1);
    await shared.openPullRequests(integration({ version: 2 }), project, 'feature/y');
    expect(reads).toHaveLength(2);
  });

  it('refuses missing, unreadable and wrong-platform credentials without retrying', async () => {
    await secrets.put(CREDENTIALS_ID, 'not json');
    await expect(lookup().openPullRequests(integration(), project, 'x')).rejects.toThrow(
      new ValidationError('the credentials of integration "corp" are not JSON'),
    );
    await secrets.put(CREDENTIALS_ID, JSON.stringify({ kind: 'access-token', token: 'cloud-token' }));
    await expect(lookup().openPullRequests(integration(), project, 'x')).rejects.toThrow(
      /Data Center takes an HTTP access token/,
    );
    await secrets.delete(CREDENTIALS_ID);
    await expect(lookup().openPullRequests(integration(), project, 'x')).rejects.toThrow(
      /missing from the secret store/,
    );
    expect(fake.requests).toEqual([]);
  });

  it('passes on a refusal of the credentials as it is: retrying will not help', async () => {
    fake.revoke(TOKEN);
    await expect(lookup().openPullRequests(integration(), project, 'feature/x')).rejects.toBeInstanceOf(
      BitbucketAuthError,
    );
  });

  it('turns an outage into a DependencyError and fails fast for a while after it', async () => {
    const shared = lookup({ pauseAfterOutageMs: 30_000 });
    fake.failNext(3, 503);
    await expect(shared.openPullRequests(integration(), project, 'feature/x')).rejects.toBeInstanceOf(
      DependencyError,
    );
    expect(fake.requests).toHaveLength(3);

    clock += 29_000;
    await expect(shared.fullCommitHash(integration(), project, HEAD.slice(0, 12))).rejects.toThrow(
      /Bitbucket could not be reached/,
    );
    expect(fake.requests).toHaveLength(3);

    clock += 2_000;
    expect(await shared.fullCommitHash(integration(), project, HEAD.slice(0, 12))).toBe(HEAD);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoRef } from '../../shared/bitbucket/rest/client';
import { createCloudClient } from '../../shared/bitbucket/rest/cloud-client';
import { createDataCenterClient } from '../../shared/bitbucket/rest/data-center-client';
import { BitbucketAuthError, BitbucketNotFoundError } from '../../shared/bitbucket/rest/errors';
import { branchHead, pullRequestHead, tagHead } from '../../shared/bitbucket/rest/refs';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { type FakeDataCenter, startFakeDataCenter } from '../support/fake-bitbucket/fake-data-center';
import { fakeSha } from '../support/fake-bitbucket/fake-server';

const CLOUD_TOKEN = 'cloud-refs-token-0123456789';
const DC_TOKEN = 'dc-refs-token-0123456789';
const MAIN = fakeSha('refs-main');
const FEATURE = fakeSha('refs-feature');
const RELEASE = fakeSha('refs-release');
const FORK_UUID = '{0f0f0f0f-0000-4000-8000-000000000002}';

let cloud: FakeCloud;
let dc: FakeDataCenter;

beforeAll(async () => {
  cloud = await startFakeCloud();
  cloud.addAccessToken(CLOUD_TOKEN, ['repository', 'pullrequest']);
  cloud.addRepository({
    workspace: 'acme',
    slug: 'web',
    uuid: '{6d6f7e32-3c1a-4a40-9f3b-1b8f5d0c2a12}',
    // More names containing "main" than a page holds (the fake serves two a page).
    branches: { main: MAIN, 'feature/main-menu': FEATURE, 'old-main': FEATURE, mainline: FEATURE },
    tags: { 'v1.0': RELEASE, 'release/2026-11': RELEASE },
    pullRequests: [
      { sourceBranch: 'feature/main-menu', sourceCommit: FEATURE },
      { sourceBranch: 'feature/main-menu', sourceCommit: FEATURE, sourceRepositoryUuid: FORK_UUID },
      { sourceBranch: 'gone', state: 'MERGED' },
    ],
  });
  dc = await startFakeDataCenter();
  dc.addToken(DC_TOKEN, 'REPO_READ');
  dc.addRepository({
    projectKey: 'PLAT',
    slug: 'api',
    branches: { 'feature/main-menu': FEATURE, 'old-main': FEATURE, mainline: FEATURE, main: MAIN },
    tags: { 'v1.0': RELEASE, 'release/2026-11': RELEASE },
    pullRequests: [
      { fromBranch: 'feature/main-menu', fromCommit: FEATURE },
      { fromBranch: 'feature/main-menu', fromCommit: FEATURE, fromRepositoryId: 77 },
    ],
  });
});

afterAll(async () => {
  await Promise.all([cloud.close(), dc.close()]);
});

const platforms = () =>
  [
    {
      name: 'Bitbucket Cloud',
      ref: { owner: 'acme', slug: 'web' } as RepoRef,
      client: createCloudClient({
        baseUrl: cloud.apiUrl,
        credentials: { kind: 'access-token', token: CLOUD_TOKEN },
        sleep: async () => {},
        network: 'local',
      }),
    },
    {
      name: 'Bitbucket Data Center',
      ref: { owner: 'PLAT', slug: 'api' } as RepoRef,
      client: createDataCenterClient({
        baseUrl: dc.url,
        credentials: { kind: 'http-access-token', token: DC_TOKEN },
        sleep: async () => {},
        network: 'local',
      }),
    },
  ] as const;

describe.each(['Bitbucket Cloud', 'Bitbucket Data Center'])('on %s', (platformName) => {
  const platform = () => {
    const found = platforms().find((p) => p.name === platformName);
    if (!found) throw new Error(platformName);
    return found;
  };

  it('finds the head of a branch by its exact name among names that contain it', async () => {
    const { client, ref } = platform();
    expect((await branchHead(client, ref, 'main')).sha).toBe(MAIN);
    expect((await branchHead(client, ref, 'feature/main-menu')).sha).toBe(FEATURE);
  });

  it('finds the commit a tag points at, slashes in its name included', async () => {
    const { client, ref } = platform();
    expect((await tagHead(client, ref, 'release/2026-11')).sha).toBe(RELEASE);
    expect((await tagHead(client, ref, 'v1.0')).sha).toBe(RELEASE);
  });

  it('answers BitbucketNotFoundError for a branch or tag that does not exist', async () => {
    const { client, ref } = platform();
    await expect(branchHead(client, ref, 'mai')).rejects.toThrow(BitbucketNotFoundError);
    await expect(branchHead(client, ref, 'mai')).rejects.toThrow(/no branch "mai"/);
    await expect(tagHead(client, ref, 'main')).rejects.toThrow(BitbucketNotFoundError);
  });

  it('reads a pull request: its source commit, branches and whether it comes from a fork', async () => {
    const { client, ref, name } = platform();
    const same = await pullRequestHead(client, ref, 1);
    expect(same).toMatchObject({
      id: 1,
      title: 'PR 1',
      state: 'OPEN',
      sourceBranch: 'feature/main-menu',
      destinationBranch: 'main',
      fromFork: false,
      sourceRepository: `${ref.owner}/${ref.slug}`,
    });
    // Cloud abbreviates the source commit to 12 characters; Data Center gives all 40.
    expect(same.sourceCommit).toBe(name === 'Bitbucket Cloud' ? FEATURE.slice(0, 12) : FEATURE);
    expect(await pullRequestHead(client, ref, 2)).toMatchObject({ id: 2, fromFork: true });
  });

  it('answers BitbucketNotFoundError for a pull request that does not exist', async () => {
    const { client, ref } = platform();
    await expect(pullRequestHead(client, ref, 99)).rejects.toThrow(BitbucketNotFoundError);
  });
});

it('tells a merged pull request by its state', async () => {
  const client = platforms()[0].client;
  expect((await pullRequestHead(client, { owner: 'acme', slug: 'web' }, 3)).state).toBe('MERGED');
});

it('reports credentials that lack the scope as BitbucketAuthError, not as a missing branch', async () => {
  cloud.addAccessToken('no-repository-scope', ['webhook']);
  const client = createCloudClient({
    baseUrl: cloud.apiUrl,
    credentials: { kind: 'access-token', token: 'no-repository-scope' },
    sleep: async () => {},
    network: 'local',
  });
  await expect(branchHead(client, { owner: 'acme', slug: 'web' }, 'main')).rejects.toThrow(
    BitbucketAuthError,
  );
});

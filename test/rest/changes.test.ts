import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listChangedFiles } from '../../shared/bitbucket/rest/changes';
import { createCloudClient } from '../../shared/bitbucket/rest/cloud-client';
import { createDataCenterClient } from '../../shared/bitbucket/rest/data-center-client';
import { BitbucketNotFoundError } from '../../shared/bitbucket/rest/errors';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { type FakeDataCenter, startFakeDataCenter } from '../support/fake-bitbucket/fake-data-center';
import { fakeSha } from '../support/fake-bitbucket/fake-server';

// The changed files path filters decide on: Cloud's diffstat and Data Center's compare/changes,
// paged (the fakes serve two entries a page), renames by both paths, bounded.

const NEW = fakeSha('new-head');
const OLD = fakeSha('old-head');
const FILES = [
  'services/api/main.ts',
  { path: 'services/api/handler.ts', oldPath: 'services/api/old-handler.ts' },
  'docs/README.md',
];
const LISTED = {
  paths: expect.arrayContaining([
    'services/api/main.ts',
    'services/api/old-handler.ts',
    'services/api/handler.ts',
    'docs/README.md',
  ]),
};

describe('changed files on Bitbucket Cloud (diffstat)', () => {
  let fake: FakeCloud;
  const ref = { owner: 'acme', slug: 'mono' };

  beforeEach(async () => {
    fake = await startFakeCloud();
    fake.addAccessToken('token', ['repository']);
    fake.addRepository({
      workspace: 'acme',
      slug: 'mono',
      diffs: { [`${NEW}..${OLD}`]: FILES, [`${NEW}..main`]: ['a.txt'] },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  const client = () =>
    createCloudClient({
      credentials: { kind: 'access-token', token: 'token' },
      baseUrl: fake.apiUrl,
      sleep: async () => {},
      network: 'local',
    });

  it('lists every page, the head first in the spec, old and new paths of a rename', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: OLD, baseIsBranch: false });
    expect(answer).toEqual(LISTED);
    expect('paths' in answer && answer.paths).toHaveLength(4);
    const requests = fake.requestsTo(`/diffstat/${NEW}..${OLD}`);
    expect(requests).toHaveLength(2);
    expect(requests[0]?.query.get('topic')).toBe('false');
  });

  it('compares a new branch with the default branch three-dot (topic)', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: 'main', baseIsBranch: true });
    expect(answer).toEqual({ paths: ['a.txt'] });
    expect(fake.requestsTo(`/diffstat/${NEW}..main`)[0]?.query.get('topic')).toBe('true');
  });

  it('stops past the limit: too many to list', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: OLD, baseIsBranch: false }, 2);
    expect(answer).toEqual({ tooMany: true });
    // The first page (two entries, one a rename) already lists three paths.
    expect(fake.requestsTo(`/diffstat/${NEW}..${OLD}`)).toHaveLength(1);
  });

  it('throws what the client throws for a range Bitbucket does not know', async () => {
    await expect(
      listChangedFiles(client(), ref, { head: OLD, base: NEW, baseIsBranch: false }),
    ).rejects.toBeInstanceOf(BitbucketNotFoundError);
  });
});

describe('changed files on Bitbucket Data Center (compare/changes)', () => {
  let fake: FakeDataCenter;
  const ref = { owner: 'PLAT', slug: 'mono' };

  beforeEach(async () => {
    fake = await startFakeDataCenter();
    fake.addToken('token', 'REPO_READ');
    fake.addRepository({
      projectKey: 'PLAT',
      slug: 'mono',
      defaultBranch: 'develop',
      diffs: { [`${NEW}..${OLD}`]: FILES, [`${NEW}..develop`]: ['b.txt'] },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  const client = () =>
    createDataCenterClient({
      credentials: { kind: 'http-access-token', token: 'token' },
      baseUrl: fake.url,
      sleep: async () => {},
      network: 'local',
    });

  it('pages with start and limit until isLastPage, from the head to the base', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: OLD, baseIsBranch: false });
    expect(answer).toEqual(LISTED);
    expect('paths' in answer && answer.paths).toHaveLength(4);
    const requests = fake.requestsTo('/compare/changes');
    expect(requests.map((r) => [r.query.get('from'), r.query.get('to'), r.query.get('start')])).toEqual([
      [NEW, OLD, '0'],
      [NEW, OLD, '2'],
    ]);
  });

  it('compares a new branch with the default branch by name', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: 'develop', baseIsBranch: true });
    expect(answer).toEqual({ paths: ['b.txt'] });
  });

  it('stops past the limit: too many to list', async () => {
    const answer = await listChangedFiles(client(), ref, { head: NEW, base: OLD, baseIsBranch: false }, 1);
    expect(answer).toEqual({ tooMany: true });
    expect(fake.requestsTo('/compare/changes')).toHaveLength(1);
  });

  it('throws what the client throws for a commit Bitbucket does not know', async () => {
    await expect(
      listChangedFiles(client(), ref, { head: OLD, base: NEW, baseIsBranch: false }),
    ).rejects.toBeInstanceOf(BitbucketNotFoundError);
  });
});

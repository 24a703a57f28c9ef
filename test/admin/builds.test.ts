import { beforeEach, describe, expect, it } from 'vitest';
import { projectIdOf } from '../../shared/admin/project-id';
import { manualTriggerIdOf, triggerIdOf } from '../../shared/domain/trigger-id';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { readFixtureJson } from '../support/fixtures';
import { cloudKit, dataCenterKit } from './kits';
import { ADMIN_ARN, type Harness, useHarness } from './support';

const harness = useHarness();
let h: Harness;

beforeEach(() => {
  h = harness.current();
});

const MAIN = fakeSha('builds-main');
const RELEASE = fakeSha('builds-release');
const FEATURE = fakeSha('builds-feature');

const build = (projectId: string, body: Record<string, unknown>) =>
  h.call('POST', `/admin/projects/${projectId}/builds`, { body });

describe('a manual build on Bitbucket Cloud, with credentials', () => {
  let projectId: string;

  beforeEach(async () => {
    const { repositoryId } = await cloudKit.setup(h);
    const repo = h.cloud.repository('acme/web');
    repo.branches.set('main', MAIN);
    repo.branches.set('feature/login', FEATURE);
    repo.commits.push(MAIN, FEATURE);
    repo.pullRequests.push({
      id: 7,
      state: 'OPEN',
      draft: false,
      sourceBranch: 'feature/login',
      sourceCommit: FEATURE,
      destinationBranch: 'main',
    });
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: cloudKit.integration, repository: cloudKit.repository },
    });
    expect(connected.status).toBe(201);
    projectId = projectIdOf(cloudKit.integration, repositoryId);
  });

  it("builds a branch's head as Bitbucket names it, with reason manual, and records who asked", async () => {
    const response = await build(projectId, { branch: 'main', requestId: 'req-1' });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      deliveryId: 'build-req-1',
      integration: cloudKit.integration,
      projectId,
      status: 'decided',
      reason: 'manual',
      triggerId: manualTriggerIdOf(projectId, 'req-1'),
      ref: { type: 'branch', name: 'main' },
      commit: { sha: MAIN, abbreviated: false, message: 'head of main\n' },
      trust: 'trusted',
      secretsAllowed: true,
    });
    expect(await h.drain()).toEqual([]);
    expect(h.sentTriggers()).toEqual([
      expect.objectContaining({
        reason: 'manual',
        triggerId: manualTriggerIdOf(projectId, 'req-1'),
        ref: { type: 'branch', name: 'main' },
        commit: expect.objectContaining({ sha: MAIN, abbreviated: false }),
        project: expect.objectContaining({ id: projectId, repository: 'acme/web' }),
        delivery: expect.objectContaining({ id: 'build-req-1', eventKey: 'hookgate:manual-build' }),
        actor: { name: ADMIN_ARN },
      }),
    ]);
    expect(h.log.audits().at(-1)).toMatchObject({
      principal: ADMIN_ARN,
      action: 'project.build',
      resource: `project/${projectId}`,
      delivery: 'build-req-1',
      ref: 'branch main',
      commit: MAIN,
    });
    const listed = await h.call('GET', '/admin/deliveries', { query: { project: projectId } });
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        deliveryId: 'build-req-1',
        eventKey: 'hookgate:manual-build',
        status: 'processed',
        decisions: [expect.objectContaining({ action: 'trigger', reason: 'manual' })],
      }),
    ]);
  });

  it('builds an open pull request at its source commit, resolved to the full hash', async () => {
    const response = await build(projectId, { pullRequest: 7 });

    expect(response.status).toBe(202);
    expect(response.body.deliveryId).toMatch(/^build-[0-9a-f-]{36}$/);
    expect(response.body).toMatchObject({
      ref: { type: 'pull-request', name: 'pull-requests/7' },
      commit: { sha: FEATURE, abbreviated: false },
      pullRequest: {
        id: 7,
        title: 'PR 7',
        sourceBranch: 'feature/login',
        destinationBranch: 'main',
        fromFork: false,
        sourceRepository: 'acme/web',
      },
      trust: 'trusted',
    });
    await h.drain();
    expect(h.sentTriggers()[0]).toMatchObject({ reason: 'manual', pullRequest: { id: 7 } });
  });

  it('builds a given commit, checked on Bitbucket, and answers 404 for one it does not know', async () => {
    const given = await build(projectId, { branch: 'feature/login', commit: MAIN.slice(0, 12) });
    expect(given.status).toBe(202);
    expect(given.body.commit).toEqual({ sha: MAIN, abbreviated: false });

    const unknown = await build(projectId, { branch: 'main', commit: 'abcdef1234567' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('bitbucket-not-found');
  });

  it('answers 404 for a branch Bitbucket does not have, and records nothing', async () => {
    const response = await build(projectId, { branch: 'nope', requestId: 'req-nope' });

    expect(response.status).toBe(404);
    expect(response.body.error.message).toMatch(/no branch "nope"/);
    expect(await h.store.getDelivery(cloudKit.integration, 'build-req-nope')).toBeUndefined();
    expect(h.deliveries.messages).toEqual([]);
  });

  it('answers 409 for a pull request that is no longer open', async () => {
    h.cloud.repository('acme/web').pullRequests.push({
      id: 8,
      state: 'MERGED',
      draft: false,
      sourceBranch: 'feature/old',
      sourceCommit: MAIN,
      destinationBranch: 'main',
    });

    const response = await build(projectId, { pullRequest: 8 });

    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'pull-request-closed' });
    expect(response.body.error.message).toMatch(/#8 is merged/);
  });

  it('answers a retry of the same request with the same build, and sends one trigger', async () => {
    const first = await build(projectId, { branch: 'main', requestId: 'retry-me' });
    h.cloud.repository('acme/web').branches.set('main', FEATURE);
    const again = await build(projectId, { branch: 'main', requestId: 'retry-me' });

    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      deliveryId: 'build-retry-me',
      triggerId: first.body.triggerId,
      commit: { sha: MAIN },
      duplicate: true,
    });
    await h.drain();
    expect(h.sentTriggers()).toHaveLength(1);
    expect(h.log.audits().filter((a) => a.action === 'project.build')).toHaveLength(1);
  });

  it('refuses a request id used for another build with 409', async () => {
    await build(projectId, { branch: 'main', requestId: 'one-id' });

    const other = await build(projectId, { branch: 'feature/login', requestId: 'one-id' });

    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('request-id-reused');
  });

  it('keeps the decided build when it cannot be enqueued, and a retry enqueues it', async () => {
    h.deliveries.failNextSends = 1;
    const failed = await build(projectId, { branch: 'main', requestId: 'flaky' });
    expect(failed.status).toBe(503);
    expect((await h.store.getDelivery(cloudKit.integration, 'build-flaky'))?.status).toBe('decided');

    const retried = await build(projectId, { branch: 'main', requestId: 'flaky' });
    expect(retried.status).toBe(202);
    await h.drain();
    expect(h.sentTriggers()).toEqual([
      expect.objectContaining({ reason: 'manual', commit: expect.objectContaining({ sha: MAIN }) }),
    ]);
  });

  it('refuses a request naming none or two of branch, tag and pullRequest, and unknown fields, with 400', async () => {
    for (const body of [
      {},
      { branch: 'main', tag: 'v1' },
      { branch: 'main', ref: 'x' },
      { pullRequest: 0 },
    ]) {
      const response = await build(projectId, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await build(projectId, { branch: 'main', requestId: 'has space' })).status).toBe(400);
    expect((await build(projectId, { branch: 'main', commit: 'not-a-sha' })).status).toBe(400);
  });

  it('answers 404 for an unknown project', async () => {
    expect((await build('prj-0000000000000000', { branch: 'main' })).status).toBe(404);
  });
});

describe('a manual build on Bitbucket Data Center, with credentials', () => {
  let projectId: string;

  beforeEach(async () => {
    const { repositoryId } = await dataCenterKit.setup(h);
    const repo = h.dc.repository('ACME/web');
    repo.branches.set('main', MAIN);
    repo.tags.set('release/1.0', RELEASE);
    repo.commits.push(MAIN, RELEASE, FEATURE);
    repo.pullRequests.push(
      { id: 3, state: 'OPEN', draft: false, fromBranch: 'feature/x', fromCommit: FEATURE, toBranch: 'main' },
      {
        id: 4,
        state: 'OPEN',
        draft: false,
        fromBranch: 'feature/x',
        fromCommit: FEATURE,
        fromRepositoryId: 999,
        toBranch: 'main',
      },
    );
    await h.call('POST', '/admin/projects', {
      body: { integration: dataCenterKit.integration, repository: dataCenterKit.repository },
    });
    projectId = projectIdOf(dataCenterKit.integration, repositoryId);
  });

  it('builds the commit a tag points at', async () => {
    const response = await build(projectId, { tag: 'release/1.0' });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      ref: { type: 'tag', name: 'release/1.0' },
      commit: { sha: RELEASE },
    });
    await h.drain();
    expect(h.sentTriggers()).toEqual([
      expect.objectContaining({
        provider: 'bitbucket-data-center',
        reason: 'manual',
        ref: { type: 'tag', name: 'release/1.0' },
      }),
    ]);
  });

  it('builds a pull request from a fork untrusted, without secrets unless the project passes them', async () => {
    const fork = await build(projectId, { pullRequest: 4 });
    expect(fork.status).toBe(202);
    expect(fork.body).toMatchObject({
      commit: { sha: FEATURE, abbreviated: false },
      pullRequest: { id: 4, fromFork: true },
      trust: 'untrusted',
      secretsAllowed: false,
    });

    await h.call('PATCH', `/admin/projects/${projectId}`, {
      body: { settings: { passSecretsToForkedPullRequests: true } },
    });
    const withSecrets = await build(projectId, { pullRequest: 4 });
    expect(withSecrets.body).toMatchObject({ trust: 'untrusted', secretsAllowed: true });

    const same = await build(projectId, { pullRequest: 3 });
    expect(same.body).toMatchObject({
      trust: 'trusted',
      secretsAllowed: true,
      pullRequest: { fromFork: false },
    });
  });
});

describe('a manual build without credentials', () => {
  const REPO = '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}'; // cloudbeers/temp in the jenkins-bbsource captures
  const PUSHED = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec'; // head of main in that push
  let projectId: string;
  let secret: string;

  beforeEach(async () => {
    const created = await h.call('POST', '/admin/integrations', {
      body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default' },
    });
    secret = created.body.webhookSecret;
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: 'acme', repository: 'cloudbeers/temp', repositoryId: REPO, defaultBranch: 'main' },
    });
    projectId = connected.body.project.id;
  });

  it('answers 400 telling to give the commit, and records nothing', async () => {
    const response = await build(projectId, { branch: 'main' });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/no Bitbucket credentials.*--commit <sha>/);
    expect((await h.store.listDeliveries({ integration: 'acme', limit: 10 })).items).toEqual([]);
  });

  it('sends a commit a push already triggered again, under a trigger id of its own', async () => {
    await h.deliver(
      'acme',
      readFixtureJson('cloud/jenkins-bbsource__updatePayload.json'),
      'repo:push',
      secret,
    );
    await h.drain();
    expect(h.sentTriggers().map((t) => t.triggerId)).toEqual([
      triggerIdOf(projectId, 'branch', 'main', PUSHED),
    ]);

    const response = await build(projectId, { branch: 'main', commit: PUSHED, requestId: 'again' });
    await h.drain();

    expect(response.status).toBe(202);
    expect(response.body.commit).toEqual({ sha: PUSHED, abbreviated: false });
    expect(h.sentTriggers().map((t) => [t.reason, t.triggerId])).toEqual([
      ['default-branch', triggerIdOf(projectId, 'branch', 'main', PUSHED)],
      ['manual', manualTriggerIdOf(projectId, 'again')],
    ]);
  });

  it('marks a short commit abbreviated, and sends nothing twice when the manual build is replayed', async () => {
    const response = await build(projectId, { branch: 'main', commit: PUSHED.slice(0, 12) });
    expect(response.body.commit).toEqual({ sha: PUSHED.slice(0, 12), abbreviated: true });
    await h.drain();

    const replay = await h.call('POST', `/admin/deliveries/${response.body.deliveryId}/replay`);
    await h.drain();

    expect(replay.status).toBe(202);
    const replayed = await h.store.getDelivery('acme', replay.body.deliveryId);
    expect(replayed?.status).toBe('processed');
    expect(replayed?.decisions?.[0]).toMatchObject({ reason: 'manual', triggerId: response.body.triggerId });
    expect(h.sentTriggers()).toHaveLength(1);
  });

  it('builds a pull request Hookgate has recorded open, untrusted when it came from a fork', async () => {
    await h.store.recordPullRequest(projectId, {
      id: 12,
      state: 'open',
      sourceBranch: 'feature/x',
      sourceRepository: 'someone/temp',
      sourceCommit: PUSHED.slice(0, 12),
      fromFork: true,
      draft: false,
      updatedAt: new Date().toISOString(),
    });

    const recorded = await build(projectId, { pullRequest: 12, commit: PUSHED });
    const unknown = await build(projectId, { pullRequest: 13, commit: PUSHED });

    expect(recorded.status).toBe(202);
    expect(recorded.body).toMatchObject({ ref: { name: 'pull-requests/12' }, trust: 'untrusted' });
    expect(recorded.body.pullRequest).toBeUndefined();
    expect(unknown.status).toBe(404);
  });

  it('refuses a manual build that arrives through the webhook: it is recorded invalid and sends nothing', async () => {
    const body = {
      projectId,
      buildId: 'forged',
      repository: { id: REPO, fullName: 'cloudbeers/temp', cloneUrls: {} },
      ref: { type: 'branch', name: 'main' },
      commit: { sha: PUSHED, abbreviated: false },
      fromFork: false,
      actor: { name: ADMIN_ARN },
    };
    const delivered = await h.deliver('acme', body, 'hookgate:manual-build', secret);
    await h.drain();

    expect(delivered.status).toBe(202);
    expect(await h.store.getDelivery('acme', delivered.deliveryId)).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/recorded by the admin API only/),
    });
    expect(h.sentTriggers()).toEqual([]);
  });
});

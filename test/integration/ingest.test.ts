import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProjectSettingsInput, ProjectSettingsSchema } from '../../shared/domain/settings';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { readFixtureJson } from '../support/fixtures';
import { createIngestStack, PROJECT, push, REPO, SHA_MAIN } from '../support/ingest-stack';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

const createStack = (settings: ProjectSettingsInput = {}) => createIngestStack(dynamo, { settings });

describe('ingest path on dynalite', () => {
  let stack: Awaited<ReturnType<typeof createStack>>;

  beforeEach(async () => {
    stack = await createStack();
  });

  it('records one delivery and queues it once when 20 copies arrive at the same time', async () => {
    const id = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => stack.deliver(push(), 'repo:push', id)),
    );
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(responses.filter((r) => r.body.duplicate === true)).toHaveLength(19);
    // Each copy finds the record `received` and enqueues it; the deduplication id keeps one.
    expect(stack.deliveries.sends).toBe(20);
    expect(stack.deliveries.messages).toHaveLength(1);
    const record = await stack.store.getDelivery('acme', id);
    expect(record).toMatchObject({
      deliveryId: id,
      status: 'received',
      eventKey: 'repo:push',
      repositoryId: REPO,
    });
    await stack.drain();
    expect(stack.sentTriggers()).toHaveLength(1);
  });

  it('sends one trigger when duplicate hooks deliver the same commit under two delivery ids', async () => {
    await stack.deliver(push(), 'repo:push');
    await stack.deliver(push(), 'repo:push');
    expect(stack.deliveries.sends).toBe(2);
    await stack.drain();
    const sent = stack.sentTriggers();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      reason: 'default-branch',
      ref: { type: 'branch', name: 'main' },
      project: { id: PROJECT, cloneUrl: 'git@bitbucket.org:cloudbeers/temp.git', defaultBranch: 'main' },
      provider: 'bitbucket-cloud',
    });
    expect(sent[0]?.commit).toEqual({ sha: SHA_MAIN, abbreviated: false, message: expect.any(String) });
  });

  it('records the decisions of every delivery, duplicates of a trigger included', async () => {
    const first = await stack.deliver(push(), 'repo:push');
    const second = await stack.deliver(push(), 'repo:push');
    await stack.drain();
    for (const { deliveryId } of [first, second]) {
      const record = await stack.store.getDelivery('acme', deliveryId);
      expect(record?.status).toBe('processed');
      expect(record?.projectId).toBe(PROJECT);
      expect(record?.decisions).toEqual([
        expect.objectContaining({ action: 'trigger', reason: 'default-branch' }),
      ]);
    }
  });

  it("names the project's pipeline file in its triggers when one is set, and none otherwise", async () => {
    await stack.deliver(push('main'), 'repo:push');
    await stack.drain();
    const project = await stack.store.getProject(PROJECT);
    await stack.store.putProject({
      ...(project as NonNullable<typeof project>),
      pipelineFile: 'ci/build.yml',
    });
    await stack.deliver(push('feature/x'), 'repo:push');
    await stack.drain();
    const [before, after] = stack.sentTriggers();
    expect(before?.project).not.toHaveProperty('pipelineFile');
    expect(after?.project).toMatchObject({ id: PROJECT, pipelineFile: 'ci/build.yml' });
  });

  it('records an unknown repository as ignored with unknown-repository', async () => {
    const payload = readFixtureJson('cloud/jenkins-bbsource__branch_created.json');
    const { deliveryId } = await stack.deliver(payload, 'repo:push');
    await stack.drain();
    const record = await stack.store.getDelivery('acme', deliveryId);
    expect(record?.decisions).toEqual([
      expect.objectContaining({
        action: 'ignore',
        reason: 'unknown-repository',
        message: expect.stringContaining('amuniz/test-repos'),
      }),
    ]);
    expect(stack.triggers.sends).toBe(0);
  });

  it('sends the first push after a move with the new name and clone URL', async () => {
    await stack.deliver(
      push('main', (p) => (p.repository.full_name = 'cloudbeers/moved')),
      'repo:push',
    );
    await stack.drain();
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({
        project: expect.objectContaining({
          repository: 'cloudbeers/moved',
          cloneUrl: 'git@bitbucket.org:cloudbeers/moved.git',
        }),
      }),
    ]);
  });

  it('follows a rename: the next delivery reaches the same project under its new name', async () => {
    const renamed = readFixtureJson<any>('cloud/go-playground-webhooks__repo-updated.json');
    renamed.repository.uuid = REPO;
    renamed.repository.full_name = 'cloudbeers/renamed';
    renamed.changes.full_name = { old: 'cloudbeers/temp', new: 'cloudbeers/renamed' };
    const rename = await stack.deliver(renamed, 'repo:updated');
    await stack.drain();
    expect((await stack.store.getDelivery('acme', rename.deliveryId))?.decisions?.[0]?.reason).toBe(
      'repository-updated',
    );
    expect(await stack.store.getProject(PROJECT)).toMatchObject({
      fullName: 'cloudbeers/renamed',
      cloneUrls: { ssh: 'git@bitbucket.org:cloudbeers/renamed.git' },
    });

    await stack.deliver(
      push('main', (p) => (p.repository.full_name = 'cloudbeers/renamed')),
      'repo:push',
    );
    await stack.drain();
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({
        project: expect.objectContaining({ id: PROJECT, repository: 'cloudbeers/renamed' }),
      }),
    ]);
  });
});

describe('a Data Center repository moved to another project', () => {
  // Both captures name repository id 1: AMUNIZ/test-repos with clone links, then PRJ/my-repo
  // without any, as a Data Center push after a move looks.
  const DC_PROJECT = 'prj-dc-one';

  it('sends the push after the move with clone URLs of the new name, not the old ones', async () => {
    const stack = await createIngestStack(dynamo, {
      integration: { provider: 'bitbucket-data-center', baseUrl: 'http://localhost:7990' },
    });
    const at = new Date().toISOString();
    await stack.store.putProject({
      id: DC_PROJECT,
      integration: 'acme',
      provider: 'bitbucket-data-center',
      repositoryId: '1',
      fullName: 'AMUNIZ/test-repos',
      cloneUrls: {},
      defaultBranch: 'master',
      settings: ProjectSettingsSchema.parse({}),
      deployKeySecretId: 'hookgate/test/projects/prj-dc-one/deploy-key',
      createdAt: at,
      updatedAt: at,
    });
    await stack.deliver(readFixtureJson('server/jenkins-bbsource__pushPayload.json'), 'repo:refs_changed');
    await stack.drain();
    expect((await stack.store.getProject(DC_PROJECT))?.cloneUrls).toEqual({
      ssh: 'ssh://git@localhost:7999/amuniz/test-repos.git',
      https: 'http://localhost:7990/scm/amuniz/test-repos.git',
    });

    await stack.deliver(readFixtureJson('server/drone-go-scm__push.json'), 'repo:refs_changed');
    await stack.drain();
    const moved = stack.sentTriggers().at(-1);
    expect(moved?.project).toMatchObject({
      id: DC_PROJECT,
      repository: 'PRJ/my-repo',
      cloneUrl: 'ssh://git@localhost:7999/prj/my-repo.git',
      httpsUrl: 'http://localhost:7990/scm/prj/my-repo.git',
    });
    expect(await stack.store.getProject(DC_PROJECT)).toMatchObject({
      fullName: 'PRJ/my-repo',
      cloneUrls: {
        ssh: 'ssh://git@localhost:7999/prj/my-repo.git',
        https: 'http://localhost:7990/scm/prj/my-repo.git',
      },
    });
  });
});

describe('only building pull requests, with PR state in dynalite', () => {
  it('builds a push to the branch of an open PR and skips it once the PR is closed', async () => {
    const stack = await createStack({ onlyBuildPullRequests: true });
    const opened = readFixtureJson<any>('cloud/jenkins-bbsource__createPayloadOrigin.json'); // PR #1 from "foo"
    const openedDelivery = await stack.deliver(opened, 'pullrequest:created');
    await stack.drain();
    expect((await stack.store.getDelivery('acme', openedDelivery.deliveryId))?.decisions?.[0]?.reason).toBe(
      'pr-opened',
    );
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([
      expect.objectContaining({ id: 1, sourceBranch: 'foo', sourceCommit: 'a72355f35fde', fromFork: false }),
    ]);

    const pushed = await stack.deliver(push('foo'), 'repo:push');
    await stack.drain();
    expect((await stack.store.getDelivery('acme', pushed.deliveryId))?.decisions?.[0]).toMatchObject({
      action: 'trigger',
      reason: 'pr-branch-push',
    });

    const merged = readFixtureJson<any>('cloud/jenkins-bbsource__fulfilledPayload.json');
    merged.pullrequest.id = 1;
    await stack.deliver(merged, 'pullrequest:fulfilled');
    await stack.drain();
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([]);

    const afterClose = await stack.deliver(
      push('foo', (p) => {
        p.push.changes[0].new.target.hash = '1111111111111111111111111111111111111111';
      }),
      'repo:push',
    );
    await stack.drain();
    expect((await stack.store.getDelivery('acme', afterClose.deliveryId))?.decisions?.[0]).toMatchObject({
      action: 'skip',
      reason: 'no-open-pull-request',
    });
    expect(stack.sentTriggers().map((t) => t.reason)).toEqual(['pr-opened', 'pr-branch-push']);
  });
});

describe('a draft marked ready for review, with PR state in dynalite', () => {
  // The real 2026 Cloud capture of PR #1 (release/release-1, `draft: false`), moved into the
  // stack's repository; its source commit is set to the head the pushes below carry.
  const prEvent = (draft: boolean) => {
    const payload = readFixtureJson<any>('cloud/jenkins-bbsource__pullrequest_updated.json');
    payload.repository.uuid = REPO;
    payload.pullrequest.source.repository.uuid = REPO;
    payload.pullrequest.destination.repository.uuid = REPO;
    payload.pullrequest.source.commit.hash = SHA_MAIN.slice(0, 12);
    payload.pullrequest.draft = draft;
    return payload;
  };
  const reasonOf = async (deliveryId: string) =>
    (await stack.store.getDelivery('acme', deliveryId))?.decisions?.map((d) => d.reason);
  let stack: Awaited<ReturnType<typeof createStack>>;

  beforeEach(async () => {
    stack = await createStack({ onlyBuildPullRequests: true, buildDraftPullRequests: false });
  });

  it("skips the draft's push, builds it once when marked ready, and again never for that commit", async () => {
    const asDraft = await stack.deliver(prEvent(true), 'pullrequest:updated');
    await stack.drain();
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([
      expect.objectContaining({ id: 1, sourceBranch: 'release/release-1', draft: true }),
    ]);
    const pushed = await stack.deliver(push('release/release-1'), 'repo:push');
    await stack.drain();
    expect(await reasonOf(asDraft.deliveryId)).toEqual(['covered-by-push']);
    expect(await reasonOf(pushed.deliveryId)).toEqual(['draft']);
    expect(stack.sentTriggers()).toEqual([]);

    const ready = await stack.deliver(prEvent(false), 'pullrequest:updated');
    await stack.drain();
    expect(await reasonOf(ready.deliveryId)).toEqual(['pr-ready']);
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({
        reason: 'pr-ready',
        ref: { type: 'pull-request', name: 'pull-requests/1' },
        commit: { sha: SHA_MAIN.slice(0, 12), abbreviated: true },
        trust: 'trusted',
        delivery: expect.objectContaining({ id: ready.deliveryId, eventKey: 'pullrequest:updated' }),
      }),
    ]);
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([
      expect.objectContaining({ id: 1, draft: false }),
    ]);

    // Bitbucket retrying it (same id), SQS bringing it back, and the same event under a new id.
    const retry = await stack.deliver(prEvent(false), 'pullrequest:updated', ready.deliveryId);
    expect(retry.body.duplicate).toBe(true);
    const again = await stack.deliver(prEvent(false), 'pullrequest:updated');
    await stack.drain();
    expect(await reasonOf(again.deliveryId)).toEqual(['pr-metadata']);

    // Converted back to a draft, then marked ready again at the same commit: decided, not resent.
    const redrafted = await stack.deliver(prEvent(true), 'pullrequest:updated');
    await stack.drain();
    expect(await reasonOf(redrafted.deliveryId)).toEqual(['pr-metadata']);
    const pushedAgain = await stack.deliver(push('release/release-1'), 'repo:push');
    await stack.drain();
    expect(await reasonOf(pushedAgain.deliveryId)).toEqual(['draft']);
    const readyAgain = await stack.deliver(prEvent(false), 'pullrequest:updated');
    await stack.drain();
    expect(await reasonOf(readyAgain.deliveryId)).toEqual(['pr-ready']);
    expect(stack.triggers.sends).toBe(1);
    expect(stack.sentTriggers()).toHaveLength(1);
  });

  it('sends the pr-ready trigger once when the ready event is processed twice', async () => {
    await stack.deliver(prEvent(true), 'pullrequest:updated');
    await stack.drain();
    await stack.deliver(prEvent(false), 'pullrequest:updated');
    const [message] = stack.deliveries.messages;
    await stack.drain();
    stack.deliveries.messages.push(message as (typeof stack.deliveries.messages)[number]);
    await stack.drain();
    expect(stack.sentTriggers().map((t) => t.reason)).toEqual(['pr-ready']);
  });
});

describe('a crash while sending a trigger', () => {
  it('sends the trigger exactly once when the send fails after the dedupe claim and SQS redelivers', async () => {
    const stack = await createStack();
    await stack.deliver(push(), 'repo:push');
    const [message] = stack.deliveries.messages;
    stack.triggers.failNextSends = 1;

    const first = await stack.drain();
    expect(first.failures).toHaveLength(1);
    expect(stack.sentTriggers()).toHaveLength(0);

    // SQS makes the failed record visible again.
    stack.deliveries.messages.push(message as (typeof stack.deliveries.messages)[number]);
    const second = await stack.drain();
    expect(second.failures).toHaveLength(0);
    expect(stack.sentTriggers()).toHaveLength(1);

    // A third delivery of the same message (at-least-once) sends nothing more.
    stack.deliveries.messages.push(message as (typeof stack.deliveries.messages)[number]);
    await stack.drain();
    expect(stack.sentTriggers()).toHaveLength(1);
  });

  it('sends the trigger exactly once when the crash comes after the send, before it is marked sent', async () => {
    const stack = await createStack();
    const realMark = stack.store.markTriggerSent.bind(stack.store);
    let crashes = 1;
    stack.store.markTriggerSent = async (id, at) => {
      if (crashes-- > 0) throw new Error('crash after send (injected)');
      return realMark(id, at);
    };
    await stack.deliver(push(), 'repo:push');
    const [message] = stack.deliveries.messages;
    expect((await stack.drain()).failures).toHaveLength(1);
    stack.deliveries.messages.push(message as (typeof stack.deliveries.messages)[number]);
    expect((await stack.drain()).failures).toHaveLength(0);
    expect(stack.triggers.sends).toBe(2);
    expect(stack.sentTriggers()).toHaveLength(1);
  });

  it('keeps the first decisions on redelivery even after PR state moved on', async () => {
    const stack = await createStack({ buildForkedPullRequests: true });
    const forked = readFixtureJson<any>('cloud/jenkins-bbsource__updatePayload_newCommit.json');
    forked.repository.uuid = REPO;
    forked.pullrequest.destination.repository.uuid = REPO;
    const { deliveryId } = await stack.deliver(forked, 'pullrequest:updated');
    const [message] = stack.deliveries.messages;
    stack.triggers.failNextSends = 1;
    await stack.drain();
    // Decisions were stored once, before the crash; the PR state has moved on since.
    expect((await stack.store.getDelivery('acme', deliveryId))?.status).toBe('decided');
    stack.deliveries.messages.push(message as (typeof stack.deliveries.messages)[number]);
    await stack.drain();
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({ reason: 'forked-pr', trust: 'untrusted' }),
    ]);
    expect((await stack.store.getDelivery('acme', deliveryId))?.status).toBe('processed');
  });
});

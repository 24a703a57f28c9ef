import { beforeEach, describe, expect, it } from 'vitest';
import { readFixtureJson } from '../support/fixtures';
import { ADMIN_ARN, type Harness, useHarness } from './support';

const REPO = '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}'; // cloudbeers/temp in the jenkins-bbsource captures

const harness = useHarness();
let h: Harness;
let secret: string;
let projectId: string;

beforeEach(async () => {
  h = harness.current();
  const created = await h.call('POST', '/admin/integrations', {
    body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default' },
  });
  secret = created.body.webhookSecret;
  const connected = await h.call('POST', '/admin/projects', {
    body: { integration: 'acme', repository: 'cloudbeers/temp', repositoryId: REPO, defaultBranch: 'main' },
  });
  projectId = connected.body.project.id;
});

const push = (branch = 'main') => {
  const payload = readFixtureJson<any>('cloud/jenkins-bbsource__updatePayload.json');
  payload.push.changes[0].new.name = branch;
  return payload;
};

/** Delivers through the webhook path and lets the processor decide, a second apart. */
async function deliverAndProcess(payload: unknown, eventKey = 'repo:push') {
  h.advance(1_000);
  const delivery = await h.deliver('acme', payload, eventKey, secret);
  expect(delivery.status).toBe(202);
  expect(await h.drain()).toEqual([]);
  return delivery.deliveryId;
}

describe('listing deliveries', () => {
  it('lists an integration’s deliveries newest first with their decisions', async () => {
    const first = await deliverAndProcess(push('main'));
    const second = await deliverAndProcess(push('feature/x'));

    const response = await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } });

    expect(response.status).toBe(200);
    expect(response.body.next).toBeNull();
    expect(response.body.items).toEqual([
      {
        deliveryId: second,
        integration: 'acme',
        eventKey: 'repo:push',
        receivedAt: expect.any(String),
        status: 'processed',
        projectId,
        decisions: [expect.objectContaining({ action: 'trigger', reason: 'branch-push' })],
      },
      expect.objectContaining({
        deliveryId: first,
        decisions: [expect.objectContaining({ action: 'trigger', reason: 'default-branch' })],
      }),
    ]);
  });

  it('marks each trigger as sent by its delivery, or as already sent by an earlier one', async () => {
    const first = await deliverAndProcess(push('main'));
    // The same commit under another delivery id: decided again, its trigger not sent again.
    const again = await deliverAndProcess(push('main'));
    expect(h.sentTriggers()).toHaveLength(1);

    const listed = await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } });
    expect(listed.body.items.map((d: any) => [d.deliveryId, d.decisions.map((x: any) => x.sent)])).toEqual([
      [again, [false]],
      [first, [true]],
    ]);
    const byProject = await h.call('GET', '/admin/deliveries', { query: { project: projectId } });
    expect(byProject.body.items[0].decisions[0]).toMatchObject({ reason: 'default-branch', sent: false });
    const detail = await h.call('GET', `/admin/deliveries/${again}`);
    expect(detail.body.decisions).toEqual([
      expect.objectContaining({ action: 'trigger', reason: 'default-branch', sent: false }),
    ]);
    expect(detail.body.alreadySent).toBeUndefined();

    // Skips carry no `sent`; a trigger of a delivery not processed yet carries none either.
    await deliverAndProcess(readFixtureJson('cloud/jenkins-bbsource__branch_deleted.json'));
    h.advance(1_000);
    const waiting = await h.deliver('acme', push('feature/y'), 'repo:push', secret);
    const newest = (await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } })).body.items;
    expect(newest[0]).toMatchObject({ deliveryId: waiting.deliveryId, status: 'received', decisions: [] });
    expect(newest[1].decisions[0]).not.toHaveProperty('sent');
  });

  it('lists a project’s deliveries, and only those decided for it', async () => {
    const ours = await deliverAndProcess(push('main'));
    await deliverAndProcess(readFixtureJson('cloud/jenkins-bbsource__branch_created.json'));

    const byProject = await h.call('GET', '/admin/deliveries', { query: { project: projectId } });
    const byIntegration = await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } });

    expect(byProject.body.items.map((d: { deliveryId: string }) => d.deliveryId)).toEqual([ours]);
    expect(byIntegration.body.items).toHaveLength(2);
    expect(byIntegration.body.items[0].decisions[0].reason).toBe('unknown-repository');
  });

  it('pages with an opaque next cursor until the last page, which has none', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await deliverAndProcess(push(`branch-${i}`)));

    const seen: string[] = [];
    let next: string | undefined;
    const pages: number[] = [];
    do {
      const query: Record<string, string> = { integration: 'acme', limit: '2', ...(next ? { next } : {}) };
      const page = await h.call('GET', '/admin/deliveries', { query });
      expect(page.status).toBe(200);
      pages.push(page.body.items.length);
      seen.push(...page.body.items.map((d: { deliveryId: string }) => d.deliveryId));
      next = page.body.next ?? undefined;
    } while (next);

    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  it('pages a project listing the same way', async () => {
    for (let i = 0; i < 3; i++) await deliverAndProcess(push(`branch-${i}`));

    const first = await h.call('GET', '/admin/deliveries', { query: { project: projectId, limit: '2' } });
    const second = await h.call('GET', '/admin/deliveries', {
      query: { project: projectId, limit: '2', next: first.body.next },
    });

    expect(first.body.items).toHaveLength(2);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeNull();
  });

  it('reads listings without bodies or headers', async () => {
    await deliverAndProcess(push('main'));

    const page = await h.store.listDeliveries({ integration: 'acme', limit: 10 });

    expect(page.items).toHaveLength(1);
    expect(page.items[0]).not.toHaveProperty('bodyGzip');
    expect(page.items[0]).not.toHaveProperty('headers');
    expect(page.items[0]).toMatchObject({ eventKey: 'repo:push', status: 'processed', projectId });
  });

  it('defaults to 25 a page', async () => {
    for (let i = 0; i < 26; i++) {
      h.advance(1_000);
      await h.deliver('acme', push(`b-${i}`), 'repo:push', secret);
    }

    const page = await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } });

    expect(page.body.items).toHaveLength(25);
    expect(page.body.next).toEqual(expect.any(String));
  });

  it.each([
    [{ integration: 'acme', limit: '0' }, 'limit must be a whole number from 1 to 100'],
    [{ integration: 'acme', limit: '101' }, 'limit must be a whole number from 1 to 100'],
    [{ integration: 'acme', limit: 'ten' }, 'limit must be a whole number from 1 to 100'],
    [{}, 'give exactly one of integration and project'],
    [{ integration: 'acme', project: 'p' }, 'give exactly one of integration and project'],
    [{ integration: 'acme', next: 'not-a-cursor' }, 'invalid cursor'],
  ])('refuses %o with 400', async (query, message) => {
    const response = await h.call('GET', '/admin/deliveries', { query });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain(message);
  });

  it('refuses a cursor of another listing with 400', async () => {
    for (let i = 0; i < 2; i++) await deliverAndProcess(push(`branch-${i}`));
    const page = await h.call('GET', '/admin/deliveries', { query: { integration: 'acme', limit: '1' } });

    const other = await h.call('GET', '/admin/deliveries', {
      query: { project: projectId, next: page.body.next },
    });

    expect(other.status).toBe(400);
  });
});

describe('reading one delivery', () => {
  it('answers its decisions and headers, never a signature', async () => {
    const id = await deliverAndProcess(push('main'));

    const response = await h.call('GET', `/admin/deliveries/${id}`, { query: { integration: 'acme' } });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      deliveryId: id,
      integration: 'acme',
      provider: 'bitbucket-cloud',
      eventKey: 'repo:push',
      status: 'processed',
      projectId,
      repositoryId: REPO,
      decisions: [expect.objectContaining({ action: 'trigger', reason: 'default-branch' })],
      headers: expect.objectContaining({ 'x-event-key': 'repo:push', 'x-request-uuid': id }),
    });
    expect(JSON.stringify(response.body)).not.toContain('sha256=');
    expect(Object.keys(response.body.headers)).not.toContain('x-hub-signature');
  });

  it('finds it across integrations when none is given', async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'other', provider: 'bitbucket-cloud', scope: { space: 's' } },
    });
    const id = await deliverAndProcess(push('main'));

    const response = await h.call('GET', `/admin/deliveries/${id}`);

    expect(response.status).toBe(200);
    expect(response.body.integration).toBe('acme');
  });

  it('answers 404 for an unknown delivery', async () => {
    expect((await h.call('GET', '/admin/deliveries/nope')).status).toBe(404);
    expect((await h.call('GET', '/admin/deliveries/nope', { query: { integration: 'acme' } })).status).toBe(
      404,
    );
  });
});

describe('replaying a delivery', () => {
  it('re-runs the stored body through today’s settings and sends what they now build', async () => {
    await h.call('PATCH', `/admin/projects/${projectId}`, {
      body: { settings: { onlyBuildPullRequests: true } },
    });
    const id = await deliverAndProcess(push('feature/x'));
    expect(h.sentTriggers()).toEqual([]);
    await h.call('PATCH', `/admin/projects/${projectId}`, {
      body: { settings: { onlyBuildPullRequests: false } },
    });

    const response = await h.call('POST', `/admin/deliveries/${id}/replay`);

    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      deliveryId: `replay-${id}-1`,
      integration: 'acme',
      replayOf: id,
      status: 'received',
    });
    await h.drain();
    const replay = await h.call('GET', `/admin/deliveries/replay-${id}-1`, {
      query: { integration: 'acme' },
    });
    expect(replay.body).toMatchObject({
      status: 'processed',
      replayOf: id,
      decisions: [expect.objectContaining({ action: 'trigger', reason: 'branch-push' })],
    });
    expect(h.sentTriggers()).toEqual([
      expect.objectContaining({ reason: 'branch-push', ref: { type: 'branch', name: 'feature/x' } }),
    ]);
    expect((await h.store.getDelivery('acme', id))?.decisions?.[0]?.reason).toBe('no-open-pull-request');
    expect(h.log.audits().at(-1)).toMatchObject({
      principal: ADMIN_ARN,
      action: 'delivery.replay',
      resource: `delivery/acme/${id}`,
      replay: `replay-${id}-1`,
    });
  });

  it('does not send a trigger again that the first delivery already sent', async () => {
    const id = await deliverAndProcess(push('main'));
    expect(h.sentTriggers()).toHaveLength(1);

    const first = await h.call('POST', `/admin/deliveries/${id}/replay`);
    await h.drain();
    const second = await h.call('POST', `/admin/deliveries/${first.body.deliveryId}/replay`);
    await h.drain();

    expect(second.body.deliveryId).toBe(`replay-${id}-2`);
    expect(second.body.replayOf).toBe(id);
    expect(h.sentTriggers()).toHaveLength(1);
    const replayed = await h.store.getDelivery('acme', `replay-${id}-2`);
    expect(replayed?.decisions?.[0]).toMatchObject({ action: 'trigger', reason: 'default-branch' });
  });

  it('enqueues a replay still waiting to be decided again rather than recording another', async () => {
    const id = await deliverAndProcess(push('main'));

    const first = await h.call('POST', `/admin/deliveries/${id}/replay`);
    const again = await h.call('POST', `/admin/deliveries/${id}/replay`);
    await h.drain();

    expect(again.status).toBe(202);
    expect(again.body.deliveryId).toBe(first.body.deliveryId);
    expect(await h.store.getDelivery('acme', `replay-${id}-2`)).toBeUndefined();
    expect((await h.store.getDelivery('acme', `replay-${id}-1`))?.status).toBe('processed');
    const decided = await h.call('POST', `/admin/deliveries/${id}/replay`);
    expect(decided.body.deliveryId).toBe(`replay-${id}-2`);
  });

  it('keeps a reused replay when its enqueue fails, for the sweeper', async () => {
    const id = await deliverAndProcess(push('main'));
    await h.call('POST', `/admin/deliveries/${id}/replay`);
    h.deliveries.failNextSends = 1;

    const response = await h.call('POST', `/admin/deliveries/${id}/replay`);

    expect(response.status).toBe(503);
    expect((await h.store.getDelivery('acme', `replay-${id}-1`))?.status).toBe('received');
  });

  it('finds the delivery without an integration, and answers 404 for an unknown one', async () => {
    const id = await deliverAndProcess(push('main'));

    expect((await h.call('POST', `/admin/deliveries/${id}/replay`)).status).toBe(202);
    expect((await h.call('POST', '/admin/deliveries/nope/replay')).status).toBe(404);
  });

  it('answers 410 for a delivery of a deleted integration', async () => {
    const id = await deliverAndProcess(push('main'));
    await h.call('DELETE', '/admin/integrations/acme');

    const response = await h.call('POST', `/admin/deliveries/${id}/replay`, {
      query: { integration: 'acme' },
    });

    expect(response.status).toBe(410);
  });

  it('undoes the replay record when it cannot be enqueued', async () => {
    const id = await deliverAndProcess(push('main'));
    h.deliveries.failNextSends = 1;

    const response = await h.call('POST', `/admin/deliveries/${id}/replay`);

    expect(response.status).toBe(503);
    expect(await h.store.getDelivery('acme', `replay-${id}-1`)).toBeUndefined();
  });
});

describe('evaluating a payload', () => {
  it('answers the decisions for given settings and default branch, with no side effects', async () => {
    const response = await h.call('POST', '/admin/evaluate', {
      body: {
        eventKey: 'repo:push',
        payload: push('wip/x'),
        settings: { ignoreBranches: ['wip/*'] },
        defaultBranch: 'main',
      },
    });

    expect(response.status).toBe(200);
    expect(response.body.decisions).toEqual([
      expect.objectContaining({ action: 'skip', reason: 'branch-ignored' }),
    ]);
    expect(h.deliveries.sends).toBe(0);
    expect((await h.call('GET', '/admin/deliveries', { query: { integration: 'acme' } })).body.items).toEqual(
      [],
    );
  });

  it('uses the project’s settings, default branch and open pull requests when given a project id', async () => {
    await h.call('PATCH', `/admin/projects/${projectId}`, {
      body: { settings: { onlyBuildPullRequests: true } },
    });
    const evaluate = () =>
      h.call('POST', '/admin/evaluate', { body: { eventKey: 'repo:push', payload: push('foo'), projectId } });

    expect((await evaluate()).body.decisions[0]).toMatchObject({
      action: 'skip',
      reason: 'no-open-pull-request',
    });

    await deliverAndProcess(
      readFixtureJson('cloud/jenkins-bbsource__createPayloadOrigin.json'),
      'pullrequest:created',
    );
    expect((await evaluate()).body.decisions[0]).toMatchObject({
      action: 'trigger',
      reason: 'pr-branch-push',
    });
    expect(h.sentTriggers().map((t) => t.reason)).toEqual(['pr-opened']);
  });

  it('refuses a project id together with settings, a bad payload and unknown settings keys with 400', async () => {
    const both = await h.call('POST', '/admin/evaluate', {
      body: { eventKey: 'repo:push', payload: push(), projectId, settings: {} },
    });
    const badPayload = await h.call('POST', '/admin/evaluate', {
      body: { eventKey: 'repo:push', payload: { push: 'nope' } },
    });
    const badSettings = await h.call('POST', '/admin/evaluate', {
      body: { eventKey: 'repo:push', payload: push(), settings: { buildTag: true } },
    });
    const noPayload = await h.call('POST', '/admin/evaluate', { body: { eventKey: 'repo:push' } });

    for (const response of [both, badPayload, badSettings, noPayload]) expect(response.status).toBe(400);
    expect(both.body.error.message).toContain('give projectId, or settings and defaultBranch, not both');
    expect(badSettings.body.error.message).toContain('unknown key "buildTag"');
    expect(noPayload.body.error.message).toContain('payload is missing');
  });

  it('answers 404 for an unknown project', async () => {
    const response = await h.call('POST', '/admin/evaluate', {
      body: { eventKey: 'repo:push', payload: push(), projectId: 'prj-nope' },
    });

    expect(response.status).toBe(404);
  });
});

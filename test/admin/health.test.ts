import { beforeEach, describe, expect, it } from 'vitest';
import { projectIdOf } from '../../shared/admin/project-id';
import { secretIds } from '../../shared/secrets/secrets';
import { generatePublicKey } from '../support/fake-bitbucket/keys';
import { DC_KNOWN_HOST, KITS, PIPELINE_FILE, type PlatformKit } from './kits';
import { ADMIN_ARN, createDcIntegration, type Harness, STAGE, useHarness, WEBHOOK_BASE } from './support';

const harness = useHarness();
let h: Harness;

beforeEach(async () => {
  h = harness.current();
});

const ALL_OK = ['integration', 'known-hosts', 'credentials', 'webhook', 'deploy-key', 'pipeline-file'].map(
  (name) => ({ name, status: 'ok' }),
);

/** The checks of a health answer, with `ok` everywhere except the one named. */
function allOkBut(name: string, reason: unknown) {
  return ALL_OK.map((check) => (check.name === name ? { name, status: 'broken', reason } : check));
}

interface Breakage {
  what: string;
  check: string;
  reason: string;
  breakIt: (kit: PlatformKit, h: Harness) => void;
  /** What the repair answers among its actions. */
  repairAction?: string;
}

const BREAKAGES: Breakage[] = [
  {
    what: 'the webhook is deleted',
    check: 'webhook',
    reason: 'no webhook with URL',
    breakIt: (kit, h) => kit.deleteHook(h, kit.hooks(h)[0]?.id ?? ''),
    repairAction: 'create-webhook',
  },
  {
    what: 'the webhook events are changed',
    check: 'webhook',
    reason: 'events missing:',
    breakIt: (kit, h) => kit.setHookEvents(h, kit.hooks(h)[0]?.id ?? '', [kit.events[0] as string]),
    repairAction: 'update-webhook',
  },
  {
    what: 'the webhook secret is unset',
    check: 'webhook',
    reason: 'no secret is set',
    breakIt: (kit, h) => kit.unsetHookSecret(h, kit.hooks(h)[0]?.id ?? ''),
    repairAction: 'update-webhook',
  },
  {
    what: 'the deploy key is removed',
    check: 'deploy-key',
    reason: 'is not on the repository',
    breakIt: (kit, h) => kit.deleteKey(h, kit.keys(h)[0]?.id ?? ''),
    repairAction: 'regenerate-deploy-key',
  },
  {
    what: 'the pipeline file is missing',
    check: 'pipeline-file',
    reason: '.hookgate/pipeline.yml is not on the default branch main',
    breakIt: (kit, h) => kit.removePipelineFile(h),
  },
];

describe.each(KITS)('health and repair on $name', (kit: PlatformKit) => {
  let projectId: string;
  let webhookSecret: string;
  const webhookUrl = `${WEBHOOK_BASE}/webhooks/${kit.integration}`;

  beforeEach(async () => {
    const setup = await kit.setup(h);
    webhookSecret = setup.webhookSecret;
    projectId = projectIdOf(kit.integration, setup.repositoryId);
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository, pipelineFile: PIPELINE_FILE },
    });
    expect(connected.status).toBe(201);
  });

  const health = async () => (await h.call('GET', `/admin/projects/${projectId}/health`)).body;
  const repair = (body?: unknown) =>
    h.call('POST', `/admin/projects/${projectId}/repair`, body === undefined ? {} : { body });

  it('reports every check ok after connecting', async () => {
    expect(await health()).toEqual({ status: 'ok', checks: ALL_OK });
  });

  it.each(BREAKAGES)('reports only $check broken when $what, with a reason', async (breakage) => {
    breakage.breakIt(kit, h);

    expect(await health()).toEqual({
      status: 'broken',
      checks: allOkBut(breakage.check, expect.stringContaining(breakage.reason)),
    });
  });

  it.each(BREAKAGES.filter((b) => b.repairAction))(
    'repairs it when $what, and health is ok after',
    async (breakage) => {
      breakage.breakIt(kit, h);

      const response = await repair();

      expect(response.status).toBe(200);
      expect(response.body.actions).toContainEqual(
        expect.objectContaining({ action: breakage.repairAction, result: 'done' }),
      );
      expect(response.body.health).toEqual({ status: 'ok', checks: ALL_OK });
      expect(await health()).toEqual({ status: 'ok', checks: ALL_OK });
      expect(kit.hooks(h)).toEqual([
        expect.objectContaining({
          url: webhookUrl,
          events: [...kit.events],
          secret: webhookSecret,
          active: true,
        }),
      ]);
      expect(kit.keys(h)).toHaveLength(1);
      expect(h.log.audits().at(-1)).toMatchObject({
        principal: ADMIN_ARN,
        action: 'project.repair',
        resource: `project/${projectId}`,
      });
    },
  );

  it('cannot repair a missing pipeline file and still says so after a repair', async () => {
    kit.removePipelineFile(h);

    const response = await repair();

    expect(response.body.health).toEqual({
      status: 'broken',
      checks: allOkBut('pipeline-file', expect.stringContaining('is not on the default branch')),
    });
  });

  it('finds a pipeline file set on the project', async () => {
    await h.call('PATCH', `/admin/projects/${projectId}`, { body: { pipelineFile: 'ci/other.yml' } });

    expect((await health()).checks[5]).toEqual({
      name: 'pipeline-file',
      status: 'broken',
      reason: 'ci/other.yml is not on the default branch main',
    });
  });

  it('reports the credentials broken when the token is revoked, and what it cannot check as unknown', async () => {
    kit.revokeCredentials(h);

    const report = await health();

    expect(report.status).toBe('broken');
    expect(report.checks[0]).toEqual({ name: 'integration', status: 'ok' });
    expect(report.checks[2]).toMatchObject({
      name: 'credentials',
      status: 'broken',
      reason: expect.stringContaining('Bitbucket rejected the credentials'),
    });
    for (const check of report.checks.slice(3)) {
      expect(check).toMatchObject({
        status: 'unknown',
        reason: expect.stringContaining('rejects the credentials'),
      });
    }
    const repaired = await repair();
    expect(repaired.body.actions).toEqual([
      expect.objectContaining({ action: 'check-credentials', result: 'failed' }),
    ]);
  });

  it('reports the private key missing from the secret store, and repair regenerates it', async () => {
    await h.secrets.delete(secretIds.deployKey(STAGE, projectId));

    expect(await health()).toEqual({
      status: 'broken',
      checks: allOkBut('deploy-key', expect.stringContaining('private key is missing')),
    });
    const oldKey = kit.keys(h)[0];
    const response = await repair();

    expect(response.body.health.status).toBe('ok');
    expect(kit.keys(h)).toHaveLength(1);
    expect(kit.keys(h)[0]?.id).not.toBe(oldKey?.id);
  });

  it('regenerates the deploy key on request, deleting the old one on Bitbucket', async () => {
    const before = JSON.parse(h.secrets.values.get(secretIds.deployKey(STAGE, projectId)) ?? '{}');
    const oldKey = kit.keys(h)[0];

    const response = await repair({ rotateDeployKey: true });

    const after = JSON.parse(h.secrets.values.get(secretIds.deployKey(STAGE, projectId)) ?? '{}');
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(kit.keys(h)).toEqual([
      expect.objectContaining({ body: after.publicKey.split(' ').slice(0, 2).join(' '), readOnly: true }),
    ]);
    expect(response.body.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'regenerate-deploy-key', target: after.fingerprint }),
        expect.objectContaining({ action: 'delete-deploy-key', target: oldKey?.id }),
      ]),
    );
    const project = await h.call('GET', `/admin/projects/${projectId}`);
    expect(project.body.deployKey).toMatchObject({
      publicKey: after.publicKey,
      fingerprint: after.fingerprint,
    });
    expect(response.body.health.status).toBe('ok');
  });

  it('puts the new deploy key on the repository before taking the old one off', async () => {
    const server = kit.server(h);
    const from = server.requests.length;

    await repair({ rotateDeployKey: true });

    const keyChanges = server.requests
      .slice(from)
      .filter((request) => request.method !== 'GET' && /\/(deploy-keys|ssh)(\/|$)/.test(request.path))
      .map((request) => request.method);
    expect(keyChanges).toEqual(['POST', 'DELETE']);
  });

  it('deletes stale keys and hooks of ours, and duplicate hooks, leaving others alone', async () => {
    kit.addKey(h, { text: generatePublicKey('stale'), label: `Hookgate ${STAGE} ${projectId}` });
    kit.addKey(h, { text: generatePublicKey('theirs'), label: 'someone else' });
    kit.addHook(h, {
      url: 'https://old-domain.example.test/webhooks/x',
      description: `Hookgate ${STAGE} ${kit.integration}`,
      events: [kit.events[0] as string],
      secret: 'old',
      active: true,
    });
    kit.addHook(h, {
      url: webhookUrl,
      description: 'a copy',
      events: [...kit.events],
      secret: 'copy',
      active: true,
    });
    kit.addHook(h, {
      url: 'https://ci.example.com/hook',
      description: 'another CI',
      events: [kit.events[0] as string],
      secret: null,
      active: true,
    });
    expect((await health()).checks[3]).toMatchObject({
      status: 'broken',
      reason: expect.stringContaining('2 webhooks have our URL'),
    });

    const response = await repair();

    expect(
      kit
        .keys(h)
        .map((key) => key.label)
        .sort(),
    ).toEqual([`Hookgate ${STAGE} ${projectId}`, 'someone else']);
    expect(
      kit
        .hooks(h)
        .map((hook) => hook.url)
        .sort(),
    ).toEqual(['https://ci.example.com/hook', webhookUrl]);
    expect(
      response.body.actions.filter((a: { action: string }) => a.action === 'delete-webhook'),
    ).toHaveLength(2);
    expect(
      response.body.actions.filter((a: { action: string }) => a.action === 'delete-deploy-key'),
    ).toHaveLength(1);
    expect(response.body.health.status).toBe('ok');
  });
});

describe('what runners need besides the repository', () => {
  it('reports known-hosts broken for a Data Center integration without SSH known hosts, and ok once set', async () => {
    const created = await createDcIntegration(h, 'dc-bare');
    expect(created.status).toBe(201);
    const repo = h.dc.addRepository({ projectKey: 'ACME', slug: 'web', files: { main: {} } });
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: 'dc-bare', repository: 'ACME/web' },
    });
    const id = connected.body.project.id;
    expect(id).toBe(projectIdOf('dc-bare', String(repo.id)));

    const bare = (await h.call('GET', `/admin/projects/${id}/health`)).body;
    expect(bare.status).toBe('broken');
    expect(bare.checks[1]).toEqual({
      name: 'known-hosts',
      status: 'broken',
      reason: expect.stringContaining('integration "dc-bare" has no SSH known hosts'),
    });
    expect(bare.checks[1].reason).toContain('StrictHostKeyChecking=yes');
    expect(bare.checks[1].reason).toContain('--ssh-known-hosts-file');
    expect(bare.checks.filter((c: { status: string }) => c.status !== 'ok')).toHaveLength(1);

    await h.call('PATCH', '/admin/integrations/dc-bare', { body: { sshKnownHosts: [DC_KNOWN_HOST] } });
    expect((await h.call('GET', `/admin/projects/${id}/health`)).body.status).toBe('ok');
  });

  it('reports no pipeline file to look for as ok, saying none is set', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const id = projectIdOf(kit.integration, repositoryId);
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    expect(connected.body.project.pipelineFile).toBeUndefined();
    kit.removePipelineFile(h);

    const report = (await h.call('GET', `/admin/projects/${id}/health`)).body;
    expect(report).toEqual({
      status: 'ok',
      checks: [
        ...ALL_OK.slice(0, 5),
        {
          name: 'pipeline-file',
          status: 'ok',
          reason: 'no pipelineFile is set, so there is none to look for',
        },
      ],
    });
  });
});

describe('health of projects that cannot be checked', () => {
  it('answers 404 for an unknown project', async () => {
    expect((await h.call('GET', '/admin/projects/prj-nope/health')).status).toBe(404);
    expect((await h.call('POST', '/admin/projects/prj-nope/repair')).status).toBe(404);
  });

  it('reports credentials a scope short as broken, naming the scope', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const id = projectIdOf(kit.integration, repositoryId);
    await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    h.cloud.addAccessToken('narrow-token', ['repository', 'repository:admin', 'webhook']);
    await h.call('PATCH', `/admin/integrations/${kit.integration}`, {
      body: { credentials: { kind: 'access-token', token: 'narrow-token' } },
    });

    const report = (await h.call('GET', `/admin/projects/${id}/health`)).body;

    expect(report.checks[2]).toMatchObject({
      name: 'credentials',
      status: 'broken',
      reason: expect.stringContaining('the credentials lack: pullrequest'),
    });
    expect(report.checks.slice(3).map((c: { status: string }) => c.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('reports the pipeline file unknown on Cloud when the default branch name has a slash', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const id = projectIdOf(kit.integration, repositoryId);
    await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository, pipelineFile: PIPELINE_FILE },
    });
    await h.call('PATCH', `/admin/projects/${id}`, { body: { defaultBranch: 'release/1.x' } });

    const report = (await h.call('GET', `/admin/projects/${id}/health`)).body;

    expect(report.checks[5]).toEqual({
      name: 'pipeline-file',
      status: 'unknown',
      reason: expect.stringContaining('branch whose name has "/" (release/1.x)'),
    });
  });

  it('reports Bitbucket being unavailable as unknown, not broken', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const id = projectIdOf(kit.integration, repositoryId);
    await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    h.cloud.failNext(3, 502, { json: { error: { message: 'bad gateway upstream' } } });

    const report = (await h.call('GET', `/admin/projects/${id}/health`)).body;

    expect(report.status).toBe('unknown');
    expect(report.checks[2]).toMatchObject({
      name: 'credentials',
      status: 'unknown',
      reason: expect.stringContaining('bad gateway upstream'),
    });
  });

  it('reports a step Bitbucket refuses as failed and still repairs the rest', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const id = projectIdOf(kit.integration, repositoryId);
    await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    kit.deleteHook(h, kit.hooks(h)[0]?.id ?? '');
    h.cloud.addAccessToken('no-admin-token', ['repository', 'pullrequest', 'webhook']);
    await h.call('PATCH', `/admin/integrations/${kit.integration}`, {
      body: { credentials: { kind: 'access-token', token: 'no-admin-token' } },
    });

    const response = await h.call('POST', `/admin/projects/${id}/repair`);

    expect(response.status).toBe(200);
    expect(response.body.actions).toEqual([
      expect.objectContaining({
        action: 'regenerate-deploy-key',
        result: 'failed',
        reason: expect.stringContaining('lack of permission or scope'),
      }),
      expect.objectContaining({ action: 'create-webhook', result: 'done' }),
    ]);
    expect(kit.hooks(h)).toHaveLength(1);
    expect(response.body.health.checks[2]).toMatchObject({ name: 'credentials', status: 'broken' });
  });
});

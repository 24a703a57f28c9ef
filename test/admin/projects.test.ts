import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { projectIdOf } from '../../shared/admin/project-id';
import { DEFAULT_SETTINGS } from '../../shared/domain/settings';
import { secretIds } from '../../shared/secrets/secrets';
import { generatePublicKey } from '../support/fake-bitbucket/keys';
import { readFixtureJson } from '../support/fixtures';
import { KITS, PIPELINE_FILE, type PlatformKit } from './kits';
import { ADMIN_ARN, CLOUD_TOKEN, DC_TOKEN, type Harness, STAGE, useHarness, WEBHOOK_BASE } from './support';

const harness = useHarness();
let h: Harness;

beforeEach(async () => {
  h = harness.current();
});

const hasSshKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // ssh-keygen -? exits non-zero after printing its usage; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();

/** `type base64` of a public key line. */
const bodyOf = (key: string) => key.split(' ').slice(0, 2).join(' ');

describe.each(KITS)('connecting a repository on $name', (kit: PlatformKit) => {
  let repositoryId: string;
  let webhookSecret: string;
  let projectId: string;
  const webhookUrl = `${WEBHOOK_BASE}/webhooks/${kit.integration}`;

  beforeEach(async () => {
    ({ repositoryId, webhookSecret } = await kit.setup(h));
    projectId = projectIdOf(kit.integration, repositoryId);
  });

  const connect = (extra: Record<string, unknown> = {}) =>
    h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository, ...extra },
    });

  it('reads the repository, registers a read-only deploy key with our label and our webhook, and answers 201', async () => {
    const response = await connect({ settings: { buildTags: true }, pipelineFile: PIPELINE_FILE });

    expect(response.status).toBe(201);
    expect(response.body.project).toMatchObject({
      id: projectId,
      integration: kit.integration,
      provider: kit.provider,
      repository: kit.repository,
      repositoryId,
      defaultBranch: 'main',
      status: 'connected',
      pipelineFile: PIPELINE_FILE,
      settings: { ...DEFAULT_SETTINGS, buildTags: true },
      webhookUrl,
    });
    expect(response.body.project.cloneUrls.ssh).toMatch(/^(git@|ssh:\/\/)/);
    expect(response.body.publicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(response.body.webhook).toMatchObject({ action: 'created', events: [...kit.events] });

    const keys = kit.keys(h);
    expect(keys).toEqual([
      {
        id: response.body.deployKey.id,
        body: bodyOf(response.body.publicKey),
        label: `Hookgate ${STAGE} ${projectId}`,
        readOnly: true,
      },
    ]);
    expect(kit.hooks(h)).toEqual([
      {
        id: response.body.webhook.id,
        url: webhookUrl,
        description: `Hookgate ${STAGE} ${kit.integration}`,
        events: [...kit.events],
        secret: webhookSecret,
        active: true,
      },
    ]);
    expect(await h.store.findProjectByRepository(kit.integration, repositoryId)).toMatchObject({
      id: projectId,
    });
    expect(h.log.audits().at(-1)).toMatchObject({
      principal: ADMIN_ARN,
      action: 'project.connect',
      resource: `project/${projectId}`,
    });
  });

  it('stores the deploy key as {privateKey, publicKey, fingerprint}, and the private key is never answered', async () => {
    const response = await connect();

    const stored = JSON.parse(h.secrets.values.get(secretIds.deployKey(STAGE, projectId)) ?? '{}');
    expect(Object.keys(stored).sort()).toEqual(['fingerprint', 'privateKey', 'publicKey']);
    expect(stored.publicKey).toBe(response.body.publicKey);
    expect(stored.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(stored.privateKey).toContain('-----BEGIN OPENSSH PRIVATE KEY-----');
    const answers = JSON.stringify([
      response.body,
      (await h.call('GET', `/admin/projects/${projectId}`)).body,
    ]);
    expect(answers).not.toContain('PRIVATE KEY');
  });

  it.skipIf(!hasSshKeygen)(
    'stores a private key from which ssh-keygen derives the registered public key',
    async () => {
      const response = await connect();
      const stored = JSON.parse(h.secrets.values.get(secretIds.deployKey(STAGE, projectId)) ?? '{}');
      const dir = mkdtempSync(join(tmpdir(), 'hookgate-key-'));
      const file = join(dir, 'id_ed25519');
      try {
        writeFileSync(file, stored.privateKey, { mode: 0o600 });
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
        expect(bodyOf(derived.trim())).toBe(bodyOf(response.body.publicKey));
        expect(kit.keys(h)[0]?.body).toBe(bodyOf(derived.trim()));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('answers 409 when the repository is already connected, leaving one hook and one key', async () => {
    await connect();
    const again = await connect();

    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already-connected');
    expect(kit.hooks(h)).toHaveLength(1);
    expect(kit.keys(h)).toHaveLength(1);
  });

  it('updates a hook that already has our URL instead of adding a second one', async () => {
    kit.addHook(h, {
      url: webhookUrl,
      description: 'made by hand',
      events: ['repo:push'.replace('repo:push', kit.events[0] as string)],
      secret: null,
      active: false,
    });

    const response = await connect();

    expect(response.body.webhook.action).toBe('updated');
    expect(kit.hooks(h)).toEqual([
      expect.objectContaining({
        url: webhookUrl,
        events: [...kit.events],
        secret: webhookSecret,
        active: true,
      }),
    ]);
  });

  it('retries a 429 from Bitbucket and connects', async () => {
    kit.server(h).failNext(2, 429, { retryAfter: '0' });

    const response = await connect();

    expect(response.status).toBe(201);
    expect(kit.hooks(h)).toHaveLength(1);
  });

  it('answers 503 with Retry-After when Bitbucket asks to wait longer than a request may', async () => {
    kit.server(h).failNext(1, 429, { retryAfter: '120' });

    const response = await connect();

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('120');
    expect(response.body.error.code).toBe('bitbucket-unavailable');
    expect(response.body.error.message).toContain('asked to wait 120 s');
  });

  it("answers 503 with Bitbucket's message when Bitbucket keeps failing, and stores nothing", async () => {
    // Enough failures for every attempt of the first calls (DC reads two resources at once).
    const down = 'Bitbucket is down for maintenance';
    kit.server(h).failNext(6, 503, {
      json:
        kit.provider === 'bitbucket-cloud' ? { error: { message: down } } : { errors: [{ message: down }] },
    });

    const response = await connect();

    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('bitbucket-unavailable');
    expect(response.body.error.message).toContain('Bitbucket is down for maintenance');
    expect(JSON.stringify(response.body)).not.toContain(
      kit.provider === 'bitbucket-cloud' ? CLOUD_TOKEN : DC_TOKEN,
    );
    expect(await h.store.getProject(projectId)).toBeUndefined();
  });

  it('answers 404 naming the repository when Bitbucket does not know it', async () => {
    const response = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository.replace('web', 'missing') },
    });

    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('bitbucket-not-found');
    expect(response.body.error.message).toContain('missing');
  });

  it('gives the managed hook the new secret when the integration secret is rotated', async () => {
    await connect();

    const rotated = await h.call('POST', `/admin/integrations/${kit.integration}/rotate-secret`);

    expect(rotated.status).toBe(200);
    expect(rotated.body.projects).toEqual([
      { projectId, repository: kit.repository, status: 'updated', hookIds: [kit.hooks(h)[0]?.id] },
    ]);
    expect(kit.hooks(h)[0]).toMatchObject({
      secret: rotated.body.webhookSecret,
      events: [...kit.events],
      active: true,
    });
  });

  it('removes our hook, our deploy key, the key secret, the project and its mapping on disconnect', async () => {
    kit.addHook(h, {
      url: 'https://ci.example.com/hook',
      description: 'someone else',
      events: [kit.events[0] as string],
      secret: null,
      active: true,
    });
    await connect();

    const response = await h.call('DELETE', `/admin/projects/${projectId}`);

    expect(response.status).toBe(204);
    expect(kit.hooks(h).map((hook) => hook.url)).toEqual(['https://ci.example.com/hook']);
    expect(kit.keys(h)).toEqual([]);
    expect(h.secrets.values.has(secretIds.deployKey(STAGE, projectId))).toBe(false);
    expect(await h.store.getProject(projectId)).toBeUndefined();
    expect(await h.store.findProjectByRepository(kit.integration, repositoryId)).toBeUndefined();
    expect((await h.call('GET', `/admin/projects/${projectId}`)).status).toBe(404);
    expect(h.log.audits().at(-1)).toMatchObject({
      action: 'project.disconnect',
      resource: `project/${projectId}`,
    });
  });
});

describe('disconnecting when the credentials cannot be read', () => {
  it('still disconnects, leaving Bitbucket as it is', async () => {
    const kit = KITS[0] as PlatformKit;
    await kit.setup(h);
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    await h.secrets.delete(secretIds.credentials(STAGE, kit.integration));

    const response = await h.call('DELETE', `/admin/projects/${connected.body.project.id}`);

    expect(response.status).toBe(204);
    expect(await h.store.getProject(connected.body.project.id)).toBeUndefined();
    expect(kit.hooks(h)).toHaveLength(1);
    expect(h.log.audits().at(-1)).toMatchObject({
      action: 'project.disconnect',
      bitbucket: expect.stringContaining('skipped: the credentials of integration'),
    });
  });
});

describe('connecting without credentials', () => {
  beforeEach(async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'manual', provider: 'bitbucket-cloud', scope: { space: 's' } },
    });
  });

  it('answers 400 naming what is missing', async () => {
    const none = await h.call('POST', '/admin/projects', {
      body: { integration: 'manual', repository: 'acme/web' },
    });
    const half = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'acme/web',
        repositoryId: '{3deb8c29-778a-450c-8f69-3e50a18079df}',
      },
    });

    expect(none.status).toBe(400);
    expect(none.body.error.message).toContain('pass repositoryId and defaultBranch');
    expect(half.status).toBe(400);
    expect(half.body.error.message).toContain('pass defaultBranch');
    expect(half.body.error.message).not.toContain('repositoryId and');
  });

  it('connects with an explicit repository id and default branch and answers what to set up by hand', async () => {
    const response = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'acme/web',
        repositoryId: '{3deb8c29-778a-450c-8f69-3e50a18079df}',
        defaultBranch: 'trunk',
      },
    });

    expect(response.status).toBe(201);
    expect(response.body.project).toMatchObject({
      id: projectIdOf('manual', '{3deb8c29-778a-450c-8f69-3e50a18079df}'),
      repositoryId: '{3deb8c29-778a-450c-8f69-3e50a18079df}',
      defaultBranch: 'trunk',
      cloneUrls: { ssh: 'git@bitbucket.org:acme/web.git', https: 'https://bitbucket.org/acme/web.git' },
    });
    expect(response.body.webhookUrl).toBe(`${WEBHOOK_BASE}/webhooks/manual`);
    expect(response.body.manualSetup.webhook).toMatchObject({
      url: `${WEBHOOK_BASE}/webhooks/manual`,
      secret: expect.stringContaining('shown when it was created or its secret was last rotated'),
    });
    expect(response.body.manualSetup.deployKey).toMatchObject({
      publicKey: response.body.publicKey,
      permission: 'read-only',
    });
    expect(response.body.webhookSecret).toBeUndefined();
  });

  it('stores a Cloud uuid as deliveries carry it, in braces and lower case, so the next delivery finds the project', async () => {
    // amuniz/test-repos in the captured "branch created" push.
    const payload = readFixtureJson<any>('cloud/jenkins-bbsource__branch_created.json');
    const uuid = payload.repository.uuid as string;
    const response = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'amuniz/test-repos',
        repositoryId: uuid.slice(1, -1).toUpperCase(),
        defaultBranch: 'main',
        settings: { ignoreBranches: ['feature/*'] },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.project).toMatchObject({ id: projectIdOf('manual', uuid), repositoryId: uuid });

    const secret = (await h.call('POST', '/admin/integrations/manual/rotate-secret')).body.webhookSecret;
    const delivery = await h.deliver('manual', payload, 'repo:push', secret);
    expect(delivery.status).toBe(202);
    await h.drain();
    const record = await h.store.getDelivery('manual', delivery.body.deliveryId);
    expect(record).toMatchObject({ projectId: response.body.project.id });
    expect(record?.decisions).toEqual([
      expect.objectContaining({ action: 'skip', reason: 'branch-ignored' }),
    ]);
  });

  it.each([
    ['42', 'bitbucket-cloud', 'a Bitbucket Cloud repository uuid in braces'],
    ['{3deb8c29-778a-450c-8f69}', 'bitbucket-cloud', 'a Bitbucket Cloud repository uuid in braces'],
    [
      '{3deb8c29-778a-450c-8f69-3e50a18079df',
      'bitbucket-cloud',
      'a Bitbucket Cloud repository uuid in braces',
    ],
    ['{3deb8c29-778a-450c-8f69-3e50a18079df}', 'bitbucket-data-center', 'a positive whole number such as 42'],
    ['0', 'bitbucket-data-center', 'a positive whole number such as 42'],
    ['-3', 'bitbucket-data-center', 'a positive whole number such as 42'],
    ['99999999999', 'bitbucket-data-center', 'a positive whole number such as 42'],
  ])(
    'refuses repository id %s on a %s integration with 400 saying what is expected, storing nothing',
    async (raw, provider, expected) => {
      await h.call('POST', '/admin/integrations', {
        body: { name: 'other', provider, scope: { space: 's' }, baseUrl: 'https://bitbucket.example.com' },
      });
      const response = await h.call('POST', '/admin/projects', {
        body: { integration: 'other', repository: 'acme/web', repositoryId: raw, defaultBranch: 'main' },
      });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(/^repositoryId must be a Bitbucket /);
      expect(response.body.error.message).toContain(expected);
      expect(response.body.error.message).toContain(`not "${raw}"`);
      expect(await h.store.listProjects('other')).toEqual([]);
    },
  );

  it('takes a Data Center id with leading zeros as the number deliveries carry', async () => {
    await h.call('POST', '/admin/integrations', {
      body: {
        name: 'dc-manual',
        provider: 'bitbucket-data-center',
        scope: { space: 's' },
        baseUrl: 'https://bitbucket.example.com',
      },
    });
    const response = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'dc-manual',
        repository: 'PRJ/my-repo',
        repositoryId: ' 042 ',
        defaultBranch: 'main',
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.project).toMatchObject({
      repositoryId: '42',
      provider: 'bitbucket-data-center',
      cloneUrls: { https: 'https://bitbucket.example.com/scm/prj/my-repo.git' },
    });
  });

  it('reports the Bitbucket checks as unknown in health, and refuses repair with 409', async () => {
    const connected = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'acme/web',
        repositoryId: '{3deb8c29-778a-450c-8f69-3e50a18079df}',
        defaultBranch: 'main',
      },
    });
    const id = connected.body.project.id;

    const health = await h.call('GET', `/admin/projects/${id}/health`);
    const repair = await h.call('POST', `/admin/projects/${id}/repair`);

    expect(health.body.status).toBe('unknown');
    expect(health.body.checks).toEqual([
      { name: 'integration', status: 'ok' },
      { name: 'known-hosts', status: 'ok' },
      ...['credentials', 'webhook', 'deploy-key'].map((name) => ({
        name,
        status: 'unknown',
        reason: 'integration "manual" has no credentials, so Bitbucket cannot be asked',
      })),
      { name: 'pipeline-file', status: 'ok', reason: 'no pipelineFile is set, so there is none to look for' },
    ]);
    expect(repair.status).toBe(409);
    expect(repair.body.error.code).toBe('no-credentials');
  });
});

describe('connecting to an integration that is not there', () => {
  it('answers 404 for an unknown integration and 410 for a deleted one', async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'gone', provider: 'bitbucket-cloud', scope: 'default' },
    });
    await h.call('DELETE', '/admin/integrations/gone');
    const request = (integration: string) => ({
      body: { integration, repository: 'a/b', repositoryId: '1', defaultBranch: 'main' },
    });

    expect((await h.call('POST', '/admin/projects', request('nope'))).status).toBe(404);
    const gone = await h.call('POST', '/admin/projects', request('gone'));
    expect(gone.status).toBe(410);
    expect(gone.body.error.message).toContain('integration "gone" was deleted');
  });

  it('refuses a repository that is not owner/slug and settings with an unknown key with 400', async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'manual', provider: 'bitbucket-cloud', scope: 'default' },
    });

    const badRepo = await h.call('POST', '/admin/projects', {
      body: { integration: 'manual', repository: 'just-a-name' },
    });
    const badSettings = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'a/b',
        repositoryId: '1',
        defaultBranch: 'main',
        settings: { onlyBuildPullRequest: true },
      },
    });

    expect(badRepo.status).toBe(400);
    expect(badRepo.body.error.message).toContain('owner/slug');
    expect(badSettings.status).toBe(400);
    expect(badSettings.body.error.message).toContain('unknown key "onlyBuildPullRequest"');
  });
});

describe('patching a project', () => {
  let id: string;

  beforeEach(async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'manual', provider: 'bitbucket-cloud', scope: 'default' },
    });
    const connected = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'manual',
        repository: 'acme/web',
        repositoryId: '{3deb8c29-778a-450c-8f69-3e50a18079df}',
        defaultBranch: 'main',
        settings: { onlyBuildPullRequests: true },
      },
    });
    id = connected.body.project.id;
  });

  it('merges settings over the current ones', async () => {
    const response = await h.call('PATCH', `/admin/projects/${id}`, {
      body: { settings: { ignoreBranches: ['wip/*'] } },
    });

    expect(response.status).toBe(200);
    expect(response.body.settings).toEqual({
      ...DEFAULT_SETTINGS,
      onlyBuildPullRequests: true,
      ignoreBranches: ['wip/*'],
    });
    expect((await h.store.getProject(id))?.settings.onlyBuildPullRequests).toBe(true);
    expect(h.log.audits().at(-1)).toMatchObject({
      action: 'project.update',
      resource: `project/${id}`,
      settings: ['ignoreBranches'],
    });
  });

  it('refuses an unknown settings key with 400 naming it, changing nothing', async () => {
    const response = await h.call('PATCH', `/admin/projects/${id}`, {
      body: { settings: { buildTag: true, ignoreBranches: ['x'] } },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('unknown key "buildTag"');
    expect((await h.store.getProject(id))?.settings.ignoreBranches).toEqual([]);
  });

  it('refuses a settings value of the wrong type with 400 naming the setting', async () => {
    const response = await h.call('PATCH', `/admin/projects/${id}`, {
      body: { settings: { buildTags: 'yes' } },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('buildTags');
  });

  it('refuses settings that are not an object with 400, changing nothing', async () => {
    for (const settings of [['wip/*'], 'onlyBuildPullRequests', null]) {
      const response = await h.call('PATCH', `/admin/projects/${id}`, { body: { settings } });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain('settings');
    }
    expect((await h.store.getProject(id))?.settings.onlyBuildPullRequests).toBe(true);
  });

  it('removes the pipeline file with null, and has none by default', async () => {
    expect((await h.call('GET', `/admin/projects/${id}`)).body.pipelineFile).toBeUndefined();
    await h.call('PATCH', `/admin/projects/${id}`, { body: { pipelineFile: 'ci/build.yml' } });
    const removed = await h.call('PATCH', `/admin/projects/${id}`, { body: { pipelineFile: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.pipelineFile).toBeUndefined();
    expect((await h.store.getProject(id))?.pipelineFile).toBeUndefined();
  });

  it('sets the pipeline file and the default branch, and refuses a path that leaves the repository', async () => {
    const response = await h.call('PATCH', `/admin/projects/${id}`, {
      body: { pipelineFile: 'ci/build.yml', defaultBranch: 'develop' },
    });
    const escaping = await h.call('PATCH', `/admin/projects/${id}`, {
      body: { pipelineFile: '../etc/passwd' },
    });

    expect(response.body).toMatchObject({ pipelineFile: 'ci/build.yml', defaultBranch: 'develop' });
    expect(escaping.status).toBe(400);
    expect(escaping.body.error.message).toContain('pipelineFile');
  });

  it('refuses an unknown field with 400 and answers 404 for an unknown project', async () => {
    expect((await h.call('PATCH', `/admin/projects/${id}`, { body: { colour: 'red' } })).status).toBe(400);
    expect((await h.call('PATCH', '/admin/projects/prj-nope', { body: { settings: {} } })).status).toBe(404);
    expect((await h.call('GET', '/admin/projects/prj-nope')).status).toBe(404);
    expect((await h.call('DELETE', '/admin/projects/prj-nope')).status).toBe(404);
  });

  it('lists the projects of an integration', async () => {
    const response = await h.call('GET', '/admin/projects', { query: { integration: 'manual' } });

    expect(response.body.items.map((p: { id: string }) => p.id)).toEqual([id]);
  });
});

describe('deleting the integration of a connected project', () => {
  it('detaches the project so deliveries no longer reach it, and repair attaches it again once the name is revived', async () => {
    const kit = KITS[0] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    const connected = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });
    const id = connected.body.project.id;

    await h.call('DELETE', `/admin/integrations/${kit.integration}`);

    expect(await h.store.getProject(id)).toMatchObject({ status: 'detached' });
    expect(await h.store.findProjectByRepository(kit.integration, repositoryId)).toBeUndefined();
    const health = await h.call('GET', `/admin/projects/${id}/health`);
    expect(health.body.checks[0]).toMatchObject({
      name: 'integration',
      status: 'broken',
      reason: expect.stringContaining('was deleted'),
    });
    expect((await h.call('POST', `/admin/projects/${id}/repair`)).status).toBe(410);

    const again = await h.call('POST', '/admin/integrations', {
      body: {
        name: kit.integration,
        provider: kit.provider,
        scope: 'default',
        baseUrl: h.cloud.apiUrl,
        credentials: { kind: 'access-token', token: CLOUD_TOKEN },
      },
    });
    const repair = await h.call('POST', `/admin/projects/${id}/repair`);

    expect(repair.status).toBe(200);
    expect(repair.body.actions[0]).toMatchObject({ action: 'reattach', result: 'done' });
    expect(repair.body.health.status).toBe('ok');
    expect(await h.store.findProjectByRepository(kit.integration, repositoryId)).toMatchObject({ id });
    expect(kit.hooks(h)).toEqual([expect.objectContaining({ secret: again.body.webhookSecret })]);
  });
});

describe('registering a key the repository already has', () => {
  it('replaces an earlier key of the project (our label) instead of keeping two', async () => {
    const kit = KITS[1] as PlatformKit;
    const { repositoryId } = await kit.setup(h);
    kit.addKey(h, {
      text: generatePublicKey('old'),
      label: `Hookgate ${STAGE} ${projectIdOf(kit.integration, repositoryId)}`,
    });

    const from = kit.server(h).requests.length;
    const response = await h.call('POST', '/admin/projects', {
      body: { integration: kit.integration, repository: kit.repository },
    });

    expect(kit.keys(h)).toEqual([expect.objectContaining({ body: bodyOf(response.body.publicKey) })]);
    const keyChanges = kit
      .server(h)
      .requests.slice(from)
      .filter((request) => request.method !== 'GET' && /\/ssh(\/|$)/.test(request.path))
      .map((request) => request.method);
    expect(keyChanges).toEqual(['POST', 'DELETE']);
  });
});

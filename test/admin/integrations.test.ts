import { beforeEach, describe, expect, it } from 'vitest';
import { APP_PASSWORDS_REFUSED } from '../../shared/bitbucket/rest/credentials';
import { secretIds } from '../../shared/secrets/secrets';
import { WebhookSecrets } from '../../shared/secrets/webhook-secrets';
import { readFixtureJson } from '../support/fixtures';
import {
  ADMIN_ARN,
  CLOUD_TOKEN,
  createCloudIntegration,
  createDcIntegration,
  createHarness,
  DC_TOKEN,
  expectNoSecretLogged,
  type Harness,
  STAGE,
  useHarness,
  WEBHOOK_BASE,
} from './support';

const harness = useHarness();
let h: Harness;

beforeEach(async () => {
  h = harness.current();
});

const body = (extra: Record<string, unknown> = {}) => ({
  name: 'acme',
  provider: 'bitbucket-cloud',
  scope: { space: 'team-a' },
  labels: ['team:a'],
  description: 'A team',
  ...extra,
});

describe('creating an integration', () => {
  it('answers 201 with the integration, its webhook URL and a fresh secret stored as the secret document', async () => {
    const response = await h.call('POST', '/admin/integrations', { body: body() });

    expect(response.status).toBe(201);
    expect(response.body.webhookUrl).toBe(`${WEBHOOK_BASE}/webhooks/acme`);
    expect(response.body.webhookSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.body.integration).toMatchObject({
      name: 'acme',
      provider: 'bitbucket-cloud',
      scope: { space: 'team-a' },
      labels: ['team:a'],
      status: 'active',
      version: 1,
      hasCredentials: false,
      webhookUrl: `${WEBHOOK_BASE}/webhooks/acme`,
    });
    expect(response.headers.etag).toBe('"1"');
    const stored = JSON.parse(h.secrets.values.get(secretIds.webhookSecret(STAGE, 'acme')) ?? '{}');
    expect(stored).toEqual({ current: response.body.webhookSecret });
  });

  it('keeps credentials in the secret store and only their kind on the integration', async () => {
    const response = await createCloudIntegration(h);

    expect(response.status).toBe(201);
    expect(response.body.integration).toMatchObject({ hasCredentials: true, credentialKind: 'access-token' });
    expect(JSON.stringify(response.body)).not.toContain(CLOUD_TOKEN);
    expect(JSON.parse(h.secrets.values.get(secretIds.credentials(STAGE, 'cloud-main')) ?? '{}')).toEqual({
      kind: 'access-token',
      token: CLOUD_TOKEN,
    });
    const record = await h.store.getIntegration('cloud-main');
    expect(record).toMatchObject({
      credentialsSecretId: secretIds.credentials(STAGE, 'cloud-main'),
      credentialsKind: 'access-token',
    });
    expect(JSON.stringify(record)).not.toContain(CLOUD_TOKEN);
  });

  it('derives the webhook URL from the request domain when no base URL is configured', async () => {
    const plain = await createHarness(harness.dynamo(), { webhookBaseUrl: null });
    const response = await plain.call('POST', '/admin/integrations', { body: body() });
    await plain.close();

    expect(response.body.webhookUrl).toBe(
      'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhooks/acme',
    );
  });

  it.each([
    ['upper case', 'Acme'],
    ['a leading dash', '-acme'],
    ['a trailing dash', 'acme-'],
    ['an underscore', 'ac_me'],
    ['64 characters', 'a'.repeat(64)],
    ['nothing', ''],
  ])('refuses a name with %s with 400 that says what a name may be', async (_what, name) => {
    const response = await h.call('POST', '/admin/integrations', { body: body({ name }) });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid-request');
    expect(response.body.error.message).toContain('name: must be a lowercase slug of 1 to 63 characters');
    expect(await h.store.getIntegration(name)).toBeUndefined();
  });

  it('accepts a one-character and a 63-character name', async () => {
    expect((await h.call('POST', '/admin/integrations', { body: body({ name: 'a' }) })).status).toBe(201);
    const long = `a${'-b'.repeat(31)}`;
    expect(long).toHaveLength(63);
    expect((await h.call('POST', '/admin/integrations', { body: body({ name: long }) })).status).toBe(201);
  });

  it('refuses a body with an unknown key, a missing provider, a bad scope or no JSON with 400 naming the problem', async () => {
    const unknown = await h.call('POST', '/admin/integrations', { body: body({ colour: 'red' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('unknown key "colour"');

    const { provider: _p, ...noProvider } = body();
    const missing = await h.call('POST', '/admin/integrations', { body: noProvider });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('provider');

    const scope = await h.call('POST', '/admin/integrations', { body: body({ scope: 'everywhere' }) });
    expect(scope.status).toBe(400);
    expect(scope.body.error.message).toContain('must be "default" or {"space": "<space id>"}');

    const notJson = await h.call('POST', '/admin/integrations', { rawBody: '{"name": ' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toBe('the request body is not valid JSON');
  });

  it('refuses an app password with 400 and the message that they were removed on 2026-07-28', async () => {
    const response = await h.call('POST', '/admin/integrations', {
      body: body({ credentials: { kind: 'app-password', username: 'alice', password: 'secret-pw-1' } }),
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe(APP_PASSWORDS_REFUSED);
    expect(h.secrets.values.size).toBe(0);
    expect(await h.store.getIntegration('acme')).toBeUndefined();
  });

  it('refuses Data Center credentials on a Cloud integration with 400', async () => {
    const response = await h.call('POST', '/admin/integrations', {
      body: body({ credentials: { kind: 'http-access-token', token: 'x' } }),
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain("credentials of kind 'http-access-token' do not work");
  });

  it('refuses a Data Center integration without its base URL with 400', async () => {
    const response = await h.call('POST', '/admin/integrations', {
      body: body({ provider: 'bitbucket-data-center' }),
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('needs baseUrl');
  });

  it('answers 409 for a name that is taken, leaving the first secret in place', async () => {
    const first = await h.call('POST', '/admin/integrations', { body: body() });
    const second = await h.call('POST', '/admin/integrations', { body: body({ scope: { space: 'other' } }) });

    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'name-taken' });
    const stored = JSON.parse(h.secrets.values.get(secretIds.webhookSecret(STAGE, 'acme')) ?? '{}');
    expect(stored.current).toBe(first.body.webhookSecret);
  });

  it('answers 409 for a second default integration of one provider, naming the first', async () => {
    expect(
      (await h.call('POST', '/admin/integrations', { body: body({ name: 'one', scope: 'default' }) })).status,
    ).toBe(201);
    const second = await h.call('POST', '/admin/integrations', {
      body: body({ name: 'two', scope: 'default' }),
    });

    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'default-taken' });
    expect(second.body.error.message).toContain(
      '"one" is already the default integration for bitbucket-cloud',
    );
    expect(await h.store.getIntegration('two')).toBeUndefined();
    expect(h.secrets.values.has(secretIds.webhookSecret(STAGE, 'two'))).toBe(false);
  });

  it('lets each provider have its own default', async () => {
    expect((await createCloudIntegration(h)).status).toBe(201);
    expect((await createDcIntegration(h)).status).toBe(201);
  });

  it('lets exactly one of two concurrent default creates for one provider win, the other answering 409', async () => {
    const results = await Promise.all(
      ['first', 'second'].map((name) =>
        h.call('POST', '/admin/integrations', { body: body({ name, scope: 'default' }) }),
      ),
    );

    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = results.find((r) => r.status === 201)?.body.integration.name;
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toMatchObject({ integration: winner });
    const loser = winner === 'first' ? 'second' : 'first';
    expect(await h.store.getIntegration(loser)).toBeUndefined();
  });

  it('lets exactly one of ten concurrent creates of the same name win', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => h.call('POST', '/admin/integrations', { body: body() })),
    );

    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    const winner = results.find((r) => r.status === 201);
    const stored = JSON.parse(h.secrets.values.get(secretIds.webhookSecret(STAGE, 'acme')) ?? '{}');
    expect(stored.current).toBe(winner?.body.webhookSecret);
  });

  it('takes over a default marker that a crash left behind once it is old', async () => {
    await h.store.claimDefault('bitbucket-cloud', 'ghost', new Date(Date.now() - 600_000).toISOString());
    const response = await h.call('POST', '/admin/integrations', { body: body({ scope: 'default' }) });

    expect(response.status).toBe(201);
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toMatchObject({ integration: 'acme' });
  });

  it('writes an audit line naming the IAM principal, the action and the integration', async () => {
    await createCloudIntegration(h);

    expect(h.log.audits()).toEqual([
      expect.objectContaining({
        principal: ADMIN_ARN,
        action: 'integration.create',
        resource: 'integration/cloud-main',
        credentialKind: 'access-token',
      }),
    ]);
  });
});

describe('listing and reading integrations', () => {
  beforeEach(async () => {
    await createCloudIntegration(h, 'cloud-main', { labels: ['team:platform', 'prod'] });
    await createDcIntegration(h, 'dc-main', { labels: ['prod'] });
    await h.call('POST', '/admin/integrations', { body: body({ name: 'cloud-a', labels: ['team:a'] }) });
  });

  it('lists every active integration by name', async () => {
    const response = await h.call('GET', '/admin/integrations');

    expect(response.status).toBe(200);
    expect(response.body.items.map((i: { name: string }) => i.name)).toEqual([
      'cloud-a',
      'cloud-main',
      'dc-main',
    ]);
  });

  it('filters by label, scope and provider', async () => {
    const names = async (query: Record<string, string>) =>
      (await h.call('GET', '/admin/integrations', { query })).body.items.map((i: { name: string }) => i.name);

    expect(await names({ label: 'prod' })).toEqual(['cloud-main', 'dc-main']);
    expect(await names({ label: 'prod,team:platform' })).toEqual(['cloud-main']);
    expect(await names({ scope: 'default' })).toEqual(['cloud-main', 'dc-main']);
    expect(await names({ scope: 'team-a' })).toEqual(['cloud-a']);
    expect(await names({ provider: 'bitbucket-data-center' })).toEqual(['dc-main']);
    expect(await names({ provider: 'bitbucket-cloud', label: 'prod' })).toEqual(['cloud-main']);
  });

  it('refuses an unknown provider filter with 400', async () => {
    const response = await h.call('GET', '/admin/integrations', { query: { provider: 'gitlab' } });

    expect(response.status).toBe(400);
  });

  it('leaves deleted integrations out unless asked for them', async () => {
    await h.call('DELETE', '/admin/integrations/cloud-a');

    const active = await h.call('GET', '/admin/integrations');
    const all = await h.call('GET', '/admin/integrations', { query: { includeDeleted: 'true' } });
    expect(active.body.items.map((i: { name: string }) => i.name)).not.toContain('cloud-a');
    expect(all.body.items.find((i: { name: string }) => i.name === 'cloud-a')).toMatchObject({
      status: 'deleted',
    });
  });

  it('gets one with its version as ETag and its webhook URL, and no credential or secret', async () => {
    const response = await h.call('GET', '/admin/integrations/dc-main');

    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(response.body).toEqual({
      name: 'dc-main',
      provider: 'bitbucket-data-center',
      scope: 'default',
      labels: ['prod'],
      description: 'Data Center',
      baseUrl: h.dc.url,
      status: 'active',
      version: 1,
      webhookUrl: `${WEBHOOK_BASE}/webhooks/dc-main`,
      hasCredentials: true,
      credentialKind: 'http-access-token',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('answers 404 for an unknown integration', async () => {
    const response = await h.call('GET', '/admin/integrations/nope');

    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'not-found', message: 'no integration named "nope"' });
  });
});

describe('patching an integration', () => {
  beforeEach(async () => {
    await h.call('POST', '/admin/integrations', { body: body() });
  });

  it('changes labels and description and bumps the version', async () => {
    const response = await h.call('PATCH', '/admin/integrations/acme', {
      body: { labels: ['team:b'], description: '# Team B' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.body).toMatchObject({ labels: ['team:b'], description: '# Team B', version: 2 });
    expect(h.log.audits().at(-1)).toMatchObject({
      principal: ADMIN_ARN,
      action: 'integration.update',
      resource: 'integration/acme',
      fields: ['labels', 'description'],
    });
  });

  it('refuses a new name with 400 that says names are immutable because the URL derives from them', async () => {
    const response = await h.call('PATCH', '/admin/integrations/acme', { body: { name: 'acme-2' } });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('integration names are immutable');
    expect(response.body.error.message).toContain('webhook URL (/webhooks/acme) derives from the name');
  });

  it('accepts the unchanged name alongside other fields', async () => {
    const response = await h.call('PATCH', '/admin/integrations/acme', {
      body: { name: 'acme', labels: [] },
    });

    expect(response.status).toBe(200);
  });

  it('answers 412 when If-Match names another version, and applies the patch when it matches', async () => {
    const stale = await h.call('PATCH', '/admin/integrations/acme', {
      body: { labels: ['x'] },
      headers: { 'If-Match': '"7"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('version-mismatch');
    expect((await h.store.getIntegration('acme'))?.labels).toEqual(['team:a']);

    const fresh = await h.call('PATCH', '/admin/integrations/acme', {
      body: { labels: ['x'] },
      headers: { 'If-Match': '"1"' },
    });
    expect(fresh.status).toBe(200);
    const again = await h.call('PATCH', '/admin/integrations/acme', {
      body: { labels: ['y'] },
      headers: { 'If-Match': '"1"' },
    });
    expect(again.status).toBe(412);
  });

  it('takes the default marker when the scope becomes default, and gives it back when it stops being', async () => {
    const toDefault = await h.call('PATCH', '/admin/integrations/acme', { body: { scope: 'default' } });
    expect(toDefault.status).toBe(200);
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toMatchObject({ integration: 'acme' });

    await h.call('POST', '/admin/integrations', { body: body({ name: 'other' }) });
    const taken = await h.call('PATCH', '/admin/integrations/other', { body: { scope: 'default' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('default-taken');

    await h.call('PATCH', '/admin/integrations/acme', { body: { scope: { space: 'team-a' } } });
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toBeUndefined();
    expect((await h.call('PATCH', '/admin/integrations/other', { body: { scope: 'default' } })).status).toBe(
      200,
    );
  });

  it('sets credentials, then removes them with null', async () => {
    h.cloud.addAccessToken(CLOUD_TOKEN, []);
    const set = await h.call('PATCH', '/admin/integrations/acme', {
      body: { credentials: { kind: 'access-token', token: CLOUD_TOKEN } },
    });
    expect(set.body).toMatchObject({ hasCredentials: true, credentialKind: 'access-token' });
    expect(h.secrets.values.has(secretIds.credentials(STAGE, 'acme'))).toBe(true);

    const removed = await h.call('PATCH', '/admin/integrations/acme', { body: { credentials: null } });
    expect(removed.body.hasCredentials).toBe(false);
    expect(removed.body.credentialKind).toBeUndefined();
    expect(h.secrets.values.has(secretIds.credentials(STAGE, 'acme'))).toBe(false);
  });

  it('refuses an app password in a patch with 400', async () => {
    const response = await h.call('PATCH', '/admin/integrations/acme', {
      body: { credentials: { username: 'alice', password: 'pw' } },
    });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe(APP_PASSWORDS_REFUSED);
  });

  it('refuses an unknown field and a provider change with 400', async () => {
    expect((await h.call('PATCH', '/admin/integrations/acme', { body: { colour: 'red' } })).status).toBe(400);
    const provider = await h.call('PATCH', '/admin/integrations/acme', {
      body: { provider: 'bitbucket-data-center' },
    });
    expect(provider.status).toBe(400);
    expect(provider.body.error.message).toContain('provider of an integration cannot change');
  });

  it('answers 404 for an unknown integration', async () => {
    expect((await h.call('PATCH', '/admin/integrations/nope', { body: { labels: [] } })).status).toBe(404);
  });
});

describe('deleting an integration', () => {
  it('answers 204, keeps a deleted record, deletes its secrets and frees the default', async () => {
    await createCloudIntegration(h);

    const response = await h.call('DELETE', '/admin/integrations/cloud-main');

    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
    expect(await h.store.getIntegration('cloud-main')).toMatchObject({ status: 'deleted', version: 2 });
    expect(h.secrets.values.has(secretIds.webhookSecret(STAGE, 'cloud-main'))).toBe(false);
    expect(h.secrets.values.has(secretIds.credentials(STAGE, 'cloud-main'))).toBe(false);
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toBeUndefined();
    expect(h.log.audits().at(-1)).toMatchObject({
      action: 'integration.delete',
      resource: 'integration/cloud-main',
    });
  });

  it('answers 410 to reads, patches, rotations and a second delete of a deleted integration', async () => {
    await h.call('POST', '/admin/integrations', { body: body() });
    await h.call('DELETE', '/admin/integrations/acme');

    for (const [method, path, request] of [
      ['GET', '/admin/integrations/acme', {}],
      ['PATCH', '/admin/integrations/acme', { body: { labels: [] } }],
      ['POST', '/admin/integrations/acme/rotate-secret', {}],
      ['DELETE', '/admin/integrations/acme', {}],
    ] as const) {
      const response = await h.call(method, path, request);
      expect(response.status, `${method} ${path}`).toBe(410);
      expect(response.body.error.message).toContain('integration "acme" was deleted');
    }
  });

  it('makes its webhook URL answer 410 saying it was deleted', async () => {
    const created = await h.call('POST', '/admin/integrations', { body: body() });
    await h.call('DELETE', '/admin/integrations/acme');

    const payload = readFixtureJson('cloud/jenkins-bbsource__updatePayload.json');
    const delivery = await h.deliver('acme', payload, 'repo:push', created.body.webhookSecret);

    expect(delivery.status).toBe(410);
    expect(delivery.body.error.message).toContain('integration "acme" was deleted');
  });

  it('revives the same URL with a new secret when the name is created again', async () => {
    const first = await h.call('POST', '/admin/integrations', { body: body() });
    await h.call('DELETE', '/admin/integrations/acme');

    const again = await h.call('POST', '/admin/integrations', { body: body({ labels: ['revived'] }) });

    expect(again.status).toBe(201);
    expect(again.body.webhookUrl).toBe(first.body.webhookUrl);
    expect(again.body.webhookSecret).not.toBe(first.body.webhookSecret);
    expect(again.body.integration).toMatchObject({ status: 'active', version: 3, labels: ['revived'] });
    const payload = readFixtureJson('cloud/jenkins-bbsource__updatePayload.json');
    expect((await h.deliver('acme', payload, 'repo:push', again.body.webhookSecret)).status).toBe(202);
    expect((await h.deliver('acme', payload, 'repo:push', first.body.webhookSecret)).status).toBe(401);
  });

  it('answers 404 for an unknown integration', async () => {
    expect((await h.call('DELETE', '/admin/integrations/nope')).status).toBe(404);
  });
});

describe('rotating the webhook secret', () => {
  it('answers a new secret and keeps the previous one valid until the grace period ends', async () => {
    const created = await h.call('POST', '/admin/integrations', { body: body() });
    const old = created.body.webhookSecret as string;

    const response = await h.call('POST', '/admin/integrations/acme/rotate-secret');

    expect(response.status).toBe(200);
    const { webhookSecret, previousValidUntil } = response.body;
    expect(webhookSecret).not.toBe(old);
    expect(Date.parse(previousValidUntil) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    const secrets = new WebhookSecrets({
      store: h.secrets,
      ttlMs: 0,
      now: () => new Date(),
    });
    expect(await secrets.secrets(secretIds.webhookSecret(STAGE, 'acme'))).toEqual([webhookSecret, old]);

    const payload = readFixtureJson('cloud/jenkins-bbsource__updatePayload.json');
    expect((await h.deliver('acme', payload, 'repo:push', old)).status).toBe(202);
    expect((await h.deliver('acme', payload, 'repo:push', webhookSecret)).status).toBe(202);

    h.advance(24 * 3_600_000 + 1_000);
    expect((await h.deliver('acme', payload, 'repo:push', old)).status).toBe(401);
    expect((await h.deliver('acme', payload, 'repo:push', webhookSecret)).status).toBe(202);
  });

  it('changes nothing when the credentials cannot be read, so no new secret is lost', async () => {
    await createCloudIntegration(h);
    const before = h.secrets.values.get(secretIds.webhookSecret(STAGE, 'cloud-main'));
    await h.secrets.delete(secretIds.credentials(STAGE, 'cloud-main'));

    const response = await h.call('POST', '/admin/integrations/cloud-main/rotate-secret');

    expect(response.status).toBe(503);
    expect(h.secrets.values.get(secretIds.webhookSecret(STAGE, 'cloud-main'))).toBe(before);
    expect((await h.store.getIntegration('cloud-main'))?.version).toBe(1);
  });

  it('uses the configured grace period', async () => {
    const short = await createHarness(harness.dynamo(), { rotationGraceHours: 2 });
    await short.call('POST', '/admin/integrations', { body: body() });
    const response = await short.call('POST', '/admin/integrations/acme/rotate-secret');
    await short.close();

    expect(Date.parse(response.body.previousValidUntil) - Date.now()).toBeLessThan(2 * 3_600_000 + 5_000);
  });

  it('writes an audit line without the secret', async () => {
    await h.call('POST', '/admin/integrations', { body: body() });
    await h.call('POST', '/admin/integrations/acme/rotate-secret');

    expect(h.log.audits().at(-1)).toMatchObject({
      principal: ADMIN_ARN,
      action: 'integration.rotate-secret',
      resource: 'integration/acme',
    });
  });

  it('answers 404 for an unknown integration', async () => {
    expect((await h.call('POST', '/admin/integrations/nope/rotate-secret')).status).toBe(404);
  });
});

describe('authentication', () => {
  it('answers 401 in local mode without the bearer token, and with a wrong one', async () => {
    const local = await createHarness(harness.dynamo(), {
      auth: { kind: 'token', token: 'local-admin-token-1' },
    });
    const none = await local.call('GET', '/admin/integrations');
    const wrong = await local.call('GET', '/admin/integrations', {
      headers: { authorization: 'Bearer local-admin-token-2' },
    });
    const basic = await local.call('GET', '/admin/integrations', {
      headers: { authorization: 'Basic bG9jYWwtYWRtaW4tdG9rZW4tMQ==' },
    });
    const right = await local.call('POST', '/admin/integrations', {
      headers: { authorization: 'Bearer local-admin-token-1' },
      body: body(),
    });
    await local.close();

    for (const refused of [none, wrong, basic]) {
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('unauthorized');
    }
    expect(right.status).toBe(201);
    expect(local.log.audits()).toEqual([expect.objectContaining({ principal: 'local-admin' })]);
  });

  it('answers 401 on AWS when the request carries no IAM principal', async () => {
    const response = await h.call('GET', '/admin/integrations', { anonymous: true });

    expect(response.status).toBe(401);
    expect(response.body.error.message).toContain('IAM-signed');
  });
});

describe('routing', () => {
  it('answers GET /admin and /admin/ with an index of the routes, without the token, naming how to authenticate', async () => {
    const local = await createHarness(harness.dynamo(), {
      auth: { kind: 'token', token: 'local-admin-token-1' },
    });
    const index = await local.call('GET', '/admin/');
    const bare = await local.call('GET', '/admin');
    const other = await local.call('POST', '/admin/');
    await local.close();

    expect(index.status).toBe(200);
    expect(bare.body).toEqual(index.body);
    expect(index.body.authentication).toContain('Authorization: Bearer <token>');
    expect(index.body.resources).toEqual(['integrations', 'projects', 'deliveries', 'evaluate']);
    expect(index.body.routes).toContain('GET /admin/projects/{id}/health');
    expect(index.body.routes).toContain('POST /admin/integrations/{id}/rotate-secret');
    expect(JSON.stringify(index.body)).not.toContain('local-admin-token-1');
    // Only GET is the index: anything else is refused as before.
    expect(other.status).toBe(401);
    expect((await h.call('GET', '/admin/')).body.authentication).toContain('SigV4');
  });

  it('answers 404 for an unknown admin path and 405 for a known path with another method', async () => {
    const unknown = await h.call('GET', '/admin/nothing-here');
    const method = await h.call('PUT', '/admin/integrations/acme');

    expect(unknown.status).toBe(404);
    expect(method.status).toBe(405);
    expect(method.body.error.message).toContain('takes GET, PATCH, DELETE');
  });
});

describe('the check that no secret is logged', () => {
  it('sees a secret inside a logged error’s message and inside its cause', () => {
    h.log.error('Bitbucket refused the request', new Error(`token ${CLOUD_TOKEN} was refused`));
    expect(() => expectNoSecretLogged(h)).toThrow(CLOUD_TOKEN);

    h.log.lines.length = 0;
    h.log.error(
      'Bitbucket refused the request',
      new Error('refused', { cause: new Error(`token ${DC_TOKEN}`) }),
    );
    expect(() => expectNoSecretLogged(h)).toThrow(DC_TOKEN);

    // The check after each test reads the same log.
    h.log.lines.length = 0;
  });
});

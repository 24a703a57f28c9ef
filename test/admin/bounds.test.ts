import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyError } from '../../shared/errors';
import { secretIds } from '../../shared/secrets/secrets';
import { itemSizeBytes } from '../../shared/store/item-size';
import { type Harness, STAGE, useHarness } from './support';

const harness = useHarness();
let h: Harness;

beforeEach(() => {
  h = harness.current();
});

/** Spies on every store method, so a test can say no storage call was made. */
function spyOnStore() {
  const store = h.store as unknown as Record<string, (...args: unknown[]) => unknown>;
  const proto = Object.getPrototypeOf(h.store) as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto)
    .filter((name) => name !== 'constructor' && typeof proto[name] === 'function')
    .map((name) => vi.spyOn(store, name as never));
}
const calls = (spies: ReturnType<typeof spyOnStore>) =>
  spies.reduce((n, spy) => n + spy.mock.calls.length, 0);

describe('names and ids beyond any real one', () => {
  it.each([3 * 1024, 10 * 1024])(
    'answers 404 for an integration name of %i bytes on every route, without a storage call',
    async (length) => {
      const name = 'a'.repeat(length);
      const spies = spyOnStore();
      for (const [method, path] of [
        ['GET', `/admin/integrations/${name}`],
        ['PATCH', `/admin/integrations/${name}`],
        ['DELETE', `/admin/integrations/${name}`],
        ['POST', `/admin/integrations/${name}/rotate-secret`],
      ] as const) {
        const response = await h.call(method, path, method === 'PATCH' ? { body: { labels: [] } } : {});
        expect(response.status, `${method} ${path.slice(0, 40)}`).toBe(404);
        expect(response.body.error.message.length).toBeLessThan(200);
      }
      expect(calls(spies)).toBe(0);
    },
  );

  it('answers 404 for project and delivery ids over 2 KB, without a storage call', async () => {
    const id = 'p'.repeat(2_100);
    const spies = spyOnStore();
    expect((await h.call('GET', `/admin/projects/${id}`)).status).toBe(404);
    expect((await h.call('PATCH', `/admin/projects/${id}`, { body: { settings: {} } })).status).toBe(404);
    expect((await h.call('DELETE', `/admin/projects/${id}`)).status).toBe(404);
    expect((await h.call('GET', `/admin/projects/${id}/health`)).status).toBe(404);
    expect((await h.call('GET', `/admin/deliveries/${id}?integration=acme`)).status).toBe(404);
    expect((await h.call('POST', `/admin/deliveries/${id}/replay`)).status).toBe(404);
    expect(calls(spies)).toBe(0);
  });

  it('answers 400 for list filters that cannot name an integration or project', async () => {
    const long = 'x'.repeat(3_000);
    expect((await h.call('GET', '/admin/projects', { query: { integration: long } })).status).toBe(400);
    expect((await h.call('GET', '/admin/deliveries', { query: { integration: long } })).status).toBe(400);
    expect((await h.call('GET', '/admin/deliveries', { query: { project: long } })).status).toBe(400);
    expect(
      (await h.call('GET', '/admin/deliveries', { query: { integration: 'acme', next: long.repeat(2) } }))
        .status,
    ).toBe(400);
  });

  it('answers 404 when connecting to an integration whose name is 10 KB', async () => {
    const response = await h.call('POST', '/admin/projects', {
      body: {
        integration: 'a'.repeat(10_240),
        repository: 'acme/web',
        repositoryId: '1',
        defaultBranch: 'main',
      },
    });
    expect(response.status).toBe(404);
  });
});

describe('an integration too big to store', () => {
  // 60 lines of 8 KB each, all within the per-line bound: about 480 KB in one item.
  const knownHosts = Array.from(
    { length: 60 },
    (_, i) => `host${i}.example.com ssh-ed25519 ${'A'.repeat(8_150)}`,
  );

  it('is refused with 400 naming the field, and writes no secret and no item', async () => {
    const response = await h.call('POST', '/admin/integrations', {
      body: {
        name: 'big',
        provider: 'bitbucket-data-center',
        scope: 'default',
        baseUrl: 'https://bitbucket.example.com',
        sshKnownHosts: knownHosts,
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/would take [\d,]+ bytes stored.*sshKnownHosts [\d,]+ bytes/);
    expect(h.secrets.values.size).toBe(0);
    expect(await h.store.getIntegration('big')).toBeUndefined();
    expect(await h.store.getDefaultMarker('bitbucket-data-center')).toBeUndefined();
  });

  it('is refused on patch too, leaving the stored integration as it was', async () => {
    await h.call('POST', '/admin/integrations', {
      body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default', description: 'before' },
    });
    const response = await h.call('PATCH', '/admin/integrations/acme', {
      body: { description: 'after', sshKnownHosts: knownHosts },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('sshKnownHosts');
    expect((await h.store.getIntegration('acme'))?.description).toBe('before');
  });

  it('refuses over-long fields with 400 naming them', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ description: 'd'.repeat(10_001) }, 'description'],
      [{ labels: Array.from({ length: 51 }, (_, i) => `l${i}`) }, 'labels'],
      [{ sshKnownHosts: ['h '.repeat(5_000)] }, 'sshKnownHosts'],
      [{ baseUrl: `https://bb.example.com/${'p'.repeat(3_000)}` }, 'base URL'],
      [{ credentials: { kind: 'access-token', token: 't'.repeat(70_000) } }, 'credentials'],
    ];
    for (const [extra, named] of cases) {
      const response = await h.call('POST', '/admin/integrations', {
        body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default', ...extra },
      });
      expect(response.status, named).toBe(400);
      expect(response.body.error.message).toContain(named);
    }
    expect(h.secrets.values.size).toBe(0);
  });

  it('measures the item as DynamoDB does: attribute names, UTF-8 values and list overheads', () => {
    // name: 4 + 2 (é is 2 bytes); labels: 6 + 3 + (1 + 2) + (1 + 1); version: 7 + (1 + 1); ok: 2 + 1.
    expect(
      itemSizeBytes({
        name: { S: 'é' },
        labels: { L: [{ S: 'ab' }, { S: 'c' }] },
        version: { N: '12' },
        ok: { BOOL: true },
      }),
    ).toBe(6 + 14 + 9 + 3);
  });
});

describe('a create that fails on its last write', () => {
  it('leaves no webhook secret or credentials behind', async () => {
    vi.spyOn(h.store, 'createIntegration').mockRejectedValueOnce(new DependencyError('storage unavailable'));
    const response = await h.call('POST', '/admin/integrations', {
      body: {
        name: 'acme',
        provider: 'bitbucket-cloud',
        scope: 'default',
        credentials: { kind: 'access-token', token: 'tok' },
      },
    });
    expect(response.status).toBe(503);
    expect(h.secrets.values.has(secretIds.webhookSecret(STAGE, 'acme'))).toBe(false);
    expect(h.secrets.values.has(secretIds.credentials(STAGE, 'acme'))).toBe(false);
    expect(await h.store.getDefaultMarker('bitbucket-cloud')).toBeUndefined();
    // And the name is free for the retry.
    const retry = await h.call('POST', '/admin/integrations', {
      body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default' },
    });
    expect(retry.status).toBe(201);
  });

  it('keeps the secrets when the integration was written and only its reply was lost', async () => {
    const original = h.store.createIntegration.bind(h.store);
    vi.spyOn(h.store, 'createIntegration').mockImplementationOnce(async (record) => {
      await original(record);
      throw new DependencyError('reply lost');
    });
    const response = await h.call('POST', '/admin/integrations', {
      body: { name: 'acme', provider: 'bitbucket-cloud', scope: { space: 's' } },
    });
    expect(response.status).toBe(503);
    expect(await h.store.getIntegration('acme')).toMatchObject({ status: 'active' });
    expect(h.secrets.values.has(secretIds.webhookSecret(STAGE, 'acme'))).toBe(true);
  });
});

describe('prototype keys in settings', () => {
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
      },
    });
    id = connected.body.project.id;
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'answers 400 naming "%s" in a settings patch, as for any unknown key',
    async (key) => {
      const before = (await h.store.getProject(id))?.updatedAt;
      const response = await h.call('PATCH', `/admin/projects/${id}`, {
        rawBody: `{"settings":{"${key}":{"onlyBuildPullRequests":true}}}`,
      });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain(`unknown key "${key}"`);
      expect((await h.store.getProject(id))?.updatedAt).toBe(before);
    },
  );

  it('answers 400 for "__proto__" in the settings of a connect', async () => {
    const response = await h.call('POST', '/admin/projects', {
      rawBody:
        '{"integration":"manual","repository":"acme/api","repositoryId":"{r-2}","defaultBranch":"main","settings":{"__proto__":{}}}',
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('unknown key "__proto__"');
  });
});

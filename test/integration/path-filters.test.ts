import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProjectSettingsInput } from '../../shared/domain/settings';
import { MAX_CHANGED_PATH_LOOKUPS } from '../../shared/ingest/process-delivery';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import { secretIds } from '../../shared/secrets/secrets';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { readFixtureJson } from '../support/fixtures';
import { createIngestStack, type IngestStackOptions, push } from '../support/ingest-stack';

// Path filters in the processor: the changed files asked of Bitbucket Cloud (a fake on loopback)
// before deciding, and a build with a note whenever Bitbucket cannot say.

const TOKEN = 'cloud-access-token-for-paths';
const CREDENTIALS_ID = secretIds.credentials('test', 'acme');
/** The previous head of the push in updatePayload.json. */
const OLD = '501bf5b99365d1d870882254b9360c17172bda0e';
const API_CHANGE = fakeSha('api-change');
const WEB_CHANGE = fakeSha('web-change');
const HUGE_CHANGE = fakeSha('huge-change');
const FILTERS: ProjectSettingsInput = { includePaths: ['services/api/**'], excludePaths: ['**/*.md'] };

let dynamo: LocalDynamo;
let fake: FakeCloud;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  fake = await startFakeCloud();
  fake.addAccessToken(TOKEN, ['repository', 'pullrequest']);
  fake.addRepository({
    workspace: 'cloudbeers',
    slug: 'temp',
    commits: ['a72355f35fde0123456789abcdef0123456789ab'],
    diffs: {
      [`${API_CHANGE}..${OLD}`]: ['README.md', 'services/api/src/handler.ts'],
      [`${WEB_CHANGE}..${OLD}`]: ['web/index.ts', 'services/api/NOTES.md'],
      [`${HUGE_CHANGE}..${OLD}`]: Array.from({ length: 41 }, (_, i) => `services/api/f${i}.ts`),
      'a72355f35fde..f612156eff2c': ['web/page.ts'],
    },
  });
});

afterEach(async () => {
  await fake.close();
});

function stack(settings: ProjectSettingsInput = FILTERS, extra: IngestStackOptions = {}) {
  return createIngestStack(dynamo, {
    settings,
    integration: {
      baseUrl: fake.apiUrl,
      credentialsSecretId: CREDENTIALS_ID,
      credentialsKind: 'access-token',
    },
    secrets: { [CREDENTIALS_ID]: JSON.stringify({ kind: 'access-token', token: TOKEN }) },
    lookup: (secrets) => createBitbucketLookup({ secrets, maxDelayMs: 10, network: 'local' }),
    ...extra,
  });
}

const pushTo = (branch: string, sha: string) =>
  push(branch, (payload) => {
    payload.push.changes[0].new.target.hash = sha;
  });

const diffstats = () => fake.requestsTo('').filter((r) => r.path.includes('/diffstat/'));

async function decisionsOf(s: Awaited<ReturnType<typeof stack>>, deliveryId: string) {
  return (await s.store.getDelivery('acme', deliveryId))?.decisions;
}

describe('path filters in the processor', () => {
  it('builds a push whose changed files match, naming the file, and asks once per range', async () => {
    const s = await stack();
    const { deliveryId } = await s.deliver(pushTo('feature/api', API_CHANGE), 'repo:push');
    await s.drain();
    expect(await decisionsOf(s, deliveryId)).toEqual([
      expect.objectContaining({
        action: 'trigger',
        reason: 'branch-push',
        message:
          'push to branch "feature/api"; changed file "services/api/src/handler.ts" matches includePaths pattern "services/api/**"',
      }),
    ]);
    expect(s.sentTriggers().map((t) => t.reason)).toEqual(['branch-push']);
    expect(diffstats()).toHaveLength(1);
    expect(diffstats()[0]?.path).toBe(`/2.0/repositories/cloudbeers/temp/diffstat/${API_CHANGE}..${OLD}`);
    expect(diffstats()[0]?.authorization).toBe(`Bearer ${TOKEN}`);

    // The same range again (another branch at that commit): answered from the cache.
    await s.deliver(pushTo('feature/api-copy', API_CHANGE), 'repo:push');
    await s.drain();
    expect(s.sentTriggers()).toHaveLength(2);
    expect(diffstats()).toHaveLength(1);
  });

  it('skips a push whose changed files match no include, or only excludes, naming the patterns', async () => {
    const s = await stack();
    const { deliveryId } = await s.deliver(pushTo('feature/web', WEB_CHANGE), 'repo:push');
    await s.drain();
    expect(await decisionsOf(s, deliveryId)).toEqual([
      expect.objectContaining({
        action: 'skip',
        reason: 'paths-not-matched',
        message:
          'every one of the 2 changed files of branch "feature/web" that matches includePaths ["services/api/**"] also matches excludePaths ["**/*.md"]',
      }),
    ]);
    expect(s.sentTriggers()).toEqual([]);
  });

  it('skips a pull request whose source changes nothing that counts against its destination', async () => {
    const s = await stack({ ...FILTERS, onlyBuildPullRequests: true });
    const opened = readFixtureJson<any>('cloud/jenkins-bbsource__createPayloadOrigin.json');
    const { deliveryId } = await s.deliver(opened, 'pullrequest:created');
    await s.drain();
    expect(await decisionsOf(s, deliveryId)).toEqual([
      expect.objectContaining({ action: 'skip', reason: 'paths-not-matched' }),
    ]);
    expect(diffstats().map((r) => r.path)).toEqual([
      '/2.0/repositories/cloudbeers/temp/diffstat/a72355f35fde..f612156eff2c',
    ]);
    expect(s.sentTriggers()).toEqual([]);
  });

  it('builds with the note when Bitbucket is down after retries, and the delivery does not fail', async () => {
    const s = await stack();
    fake.failNext(3, 503);
    const { deliveryId } = await s.deliver(pushTo('feature/web', WEB_CHANGE), 'repo:push');
    const { failures } = await s.drain();
    expect(failures).toEqual([]);
    expect((await s.store.getDelivery('acme', deliveryId))?.status).toBe('processed');
    expect(await decisionsOf(s, deliveryId)).toEqual([
      expect.objectContaining({
        action: 'trigger',
        reason: 'branch-push',
        message: expect.stringMatching(
          /^push to branch "feature\/web"; path filters not applied: listing changed files failed: Bitbucket could not be reached: /,
        ),
      }),
    ]);
    expect(diffstats()).toHaveLength(3);
    expect(s.sentTriggers().map((t) => t.reason)).toEqual(['branch-push']);
  });

  it('builds with the note when the diff is too large to list', async () => {
    fake.pageSize = 2; // 41 files: more than the 20 pages read
    const s = await stack();
    const { deliveryId } = await s.deliver(pushTo('feature/huge', HUGE_CHANGE), 'repo:push');
    await s.drain();
    expect((await decisionsOf(s, deliveryId))?.[0]).toMatchObject({
      action: 'trigger',
      message:
        'push to branch "feature/huge"; path filters not applied: too many changed files to list (over 5000, or 20 pages)',
    });
    expect(diffstats()).toHaveLength(20);
  });

  it('asks for the first ranges of a large push only, building the others with a note', async () => {
    const s = await stack();
    const payload = push('feature/0', (p) => {
      const [change] = p.push.changes;
      p.push.changes = Array.from({ length: MAX_CHANGED_PATH_LOOKUPS + 1 }, (_, i) => {
        const copy = structuredClone(change);
        copy.new.name = `feature/${i}`;
        copy.new.target.hash = fakeSha(`many-${i}`);
        return copy;
      });
    });
    const { deliveryId } = await s.deliver(payload, 'repo:push');
    await s.drain();
    const decisions = (await decisionsOf(s, deliveryId)) ?? [];
    expect(decisions).toHaveLength(MAX_CHANGED_PATH_LOOKUPS + 1);
    // Bitbucket knows none of these ranges (404): each is built, saying so.
    expect(decisions.every((d) => d.action === 'trigger')).toBe(true);
    expect(decisions[0]?.message).toMatch(/path filters not applied: listing changed files failed: /);
    expect(decisions.at(-1)?.message).toMatch(
      /path filters not applied: only the first 25 ref changes of a delivery are looked up$/,
    );
    expect(diffstats()).toHaveLength(MAX_CHANGED_PATH_LOOKUPS);
  });

  it('builds with the note for an integration without credentials, asking nothing', async () => {
    const s = await createIngestStack(dynamo, {
      settings: FILTERS,
      lookup: (secrets) => createBitbucketLookup({ secrets, network: 'local' }),
    });
    const { deliveryId } = await s.deliver(pushTo('feature/web', WEB_CHANGE), 'repo:push');
    await s.drain();
    expect((await decisionsOf(s, deliveryId))?.[0]).toMatchObject({
      action: 'trigger',
      reason: 'branch-push',
      message:
        'push to branch "feature/web"; path filters not applied: the integration has no Bitbucket credentials to list changed files with',
    });
    expect(fake.requests).toEqual([]);
  });

  it('asks nothing for the default branch, nor for any push when no path filter is set', async () => {
    const filtered = await stack();
    await filtered.deliver(pushTo('main', WEB_CHANGE), 'repo:push');
    await filtered.drain();
    expect(filtered.sentTriggers().map((t) => t.reason)).toEqual(['default-branch']);

    const unfiltered = await stack({});
    await unfiltered.deliver(pushTo('feature/web', WEB_CHANGE), 'repo:push');
    await unfiltered.drain();
    expect(unfiltered.sentTriggers().map((t) => t.reason)).toEqual(['branch-push']);
    expect(fake.requests).toEqual([]);
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBitbucketLookup } from '../../shared/ingest/repository-lookup';
import { secretIds } from '../../shared/secrets/secrets';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { fakeSha } from '../support/fake-bitbucket/fake-server';
import { readFixtureJson } from '../support/fixtures';
import { createIngestStack, type IngestStackOptions, PROJECT, push } from '../support/ingest-stack';

// The processor asking Bitbucket Cloud (a fake on loopback) for what PR events did not tell it:
// open pull requests before an only-PRs skip, full hashes of Cloud's 12-character PR commits.

const TOKEN = 'cloud-access-token-for-lookups';
const CREDENTIALS_ID = secretIds.credentials('test', 'acme');
/** PR #1 of createPayloadOrigin.json names its source commit by these 12 characters. */
const PR_COMMIT = 'a72355f35fde0123456789abcdef0123456789ab';
const BRANCH_COMMIT = fakeSha('feature-head');

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
    commits: [PR_COMMIT, BRANCH_COMMIT],
    pullRequests: [
      { sourceBranch: 'feature/known-to-bitbucket', sourceCommit: BRANCH_COMMIT },
      { sourceBranch: 'feature/from-fork', sourceRepositoryUuid: '{0f0f0f0f-0000-4000-8000-000000000001}' },
      { sourceBranch: 'feature/merged', state: 'MERGED' },
    ],
  });
});

afterEach(async () => {
  await fake.close();
});

/** The ingest stack with integration "acme" holding an access token for the fake. */
function stackWithCredentials(extra: IngestStackOptions = {}) {
  return createIngestStack(dynamo, {
    settings: { onlyBuildPullRequests: true },
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

const pullRequestRequests = () => fake.requestsTo('/pullrequests');

describe('the open-PR fallback before an only-PRs skip', () => {
  it('builds a push to a branch whose PR only Bitbucket knows, records the PR and asks once', async () => {
    const stack = await stackWithCredentials();
    const first = await stack.deliver(pushTo('feature/known-to-bitbucket', fakeSha('one')), 'repo:push');
    await stack.drain();

    expect((await stack.store.getDelivery('acme', first.deliveryId))?.decisions).toEqual([
      expect.objectContaining({ action: 'trigger', reason: 'pr-branch-push' }),
    ]);
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({
        reason: 'pr-branch-push',
        ref: { type: 'branch', name: 'feature/known-to-bitbucket' },
      }),
    ]);
    expect(pullRequestRequests()).toHaveLength(1);
    expect(pullRequestRequests()[0]?.query.get('q')).toBe(
      'source.branch.name = "feature/known-to-bitbucket"',
    );
    expect(pullRequestRequests()[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([
      expect.objectContaining({ id: 1, sourceBranch: 'feature/known-to-bitbucket', fromFork: false }),
    ]);

    // The PR is recorded now: the next push to the branch is decided without asking again.
    await stack.deliver(pushTo('feature/known-to-bitbucket', fakeSha('two')), 'repo:push');
    await stack.drain();
    expect(stack.sentTriggers()).toHaveLength(2);
    expect(pullRequestRequests()).toHaveLength(1);
  });

  it('skips a branch Bitbucket lists no open PR for, saying that Bitbucket was asked', async () => {
    const stack = await stackWithCredentials();
    const { deliveryId } = await stack.deliver(pushTo('feature/merged', fakeSha('merged')), 'repo:push');
    await stack.drain();
    expect((await stack.store.getDelivery('acme', deliveryId))?.decisions).toEqual([
      expect.objectContaining({
        action: 'skip',
        reason: 'no-open-pull-request',
        message: expect.stringMatching(/no open pull request \(Bitbucket lists none either\)$/),
      }),
    ]);
    expect(pullRequestRequests()).toHaveLength(1);
    expect(stack.sentTriggers()).toEqual([]);
  });

  it('does not count a pull request from a fork whose branch has the same name', async () => {
    const stack = await stackWithCredentials();
    const { deliveryId } = await stack.deliver(pushTo('feature/from-fork', fakeSha('fork')), 'repo:push');
    await stack.drain();
    expect((await stack.store.getDelivery('acme', deliveryId))?.decisions?.[0]?.reason).toBe(
      'no-open-pull-request',
    );
    expect(await stack.store.listOpenPullRequests(PROJECT)).toEqual([]);
    expect(pullRequestRequests()).toHaveLength(1);
  });

  it('asks nothing for an integration without credentials, and nothing for a branch it builds anyway', async () => {
    const stack = await createIngestStack(dynamo, {
      settings: { onlyBuildPullRequests: true },
      lookup: (secrets) => createBitbucketLookup({ secrets, network: 'local' }),
    });
    const { deliveryId } = await stack.deliver(
      pushTo('feature/known-to-bitbucket', fakeSha('x')),
      'repo:push',
    );
    await stack.drain();
    const decision = (await stack.store.getDelivery('acme', deliveryId))?.decisions?.[0];
    expect(decision?.reason).toBe('no-open-pull-request');
    expect(decision?.message).not.toMatch(/Bitbucket/);

    const withCredentials = await stackWithCredentials();
    await withCredentials.deliver(pushTo('main', fakeSha('main')), 'repo:push');
    await withCredentials.drain();
    expect(withCredentials.sentTriggers().map((t) => t.reason)).toEqual(['default-branch']);
    expect(fake.requests).toEqual([]);
  });

  it('skips with the reason when Bitbucket refuses the credentials, instead of retrying forever', async () => {
    fake.revoke(TOKEN);
    const stack = await stackWithCredentials();
    const { deliveryId } = await stack.deliver(
      pushTo('feature/known-to-bitbucket', fakeSha('r')),
      'repo:push',
    );
    const { failures } = await stack.drain();
    expect(failures).toEqual([]);
    const record = await stack.store.getDelivery('acme', deliveryId);
    expect(record?.status).toBe('processed');
    expect(record?.decisions?.[0]).toMatchObject({
      reason: 'no-open-pull-request',
      message: expect.stringMatching(/\(asking Bitbucket failed: .+\)$/),
    });
  });

  it('leaves the delivery undecided for SQS to retry while Bitbucket is down, then builds it', async () => {
    const stack = await stackWithCredentials({
      lookup: (secrets) =>
        createBitbucketLookup({ secrets, maxDelayMs: 10, pauseAfterOutageMs: 0, network: 'local' }),
    });
    fake.failNext(3, 503);
    const { deliveryId } = await stack.deliver(
      pushTo('feature/known-to-bitbucket', fakeSha('d')),
      'repo:push',
    );
    const [message] = stack.deliveries.messages;
    const { failures } = await stack.drain();
    expect(failures).toHaveLength(1);
    expect((await stack.store.getDelivery('acme', deliveryId))?.status).toBe('received');
    expect(stack.sentTriggers()).toEqual([]);

    // SQS redelivers the same message once the visibility timeout passes.
    stack.deliveries.messages.push(message as NonNullable<typeof message>);
    expect((await stack.drain()).failures).toEqual([]);
    expect(stack.sentTriggers().map((t) => t.reason)).toEqual(['pr-branch-push']);
  });
});

describe('full hashes for the abbreviated commits of Cloud PR events', () => {
  const opened = () => readFixtureJson<any>('cloud/jenkins-bbsource__createPayloadOrigin.json');

  it('sends the 40-character hash with abbreviated false, under the same trigger id', async () => {
    const withoutCredentials = await createIngestStack(dynamo, { settings: { onlyBuildPullRequests: true } });
    await withoutCredentials.deliver(opened(), 'pullrequest:created');
    await withoutCredentials.drain();
    const [plain] = withoutCredentials.sentTriggers();
    expect(plain?.commit).toMatchObject({ sha: 'a72355f35fde', abbreviated: true });

    const stack = await stackWithCredentials();
    await stack.deliver(opened(), 'pullrequest:created');
    await stack.drain();
    const [resolved] = stack.sentTriggers();
    expect(resolved?.commit).toMatchObject({ sha: PR_COMMIT, abbreviated: false });
    expect(resolved?.triggerId).toBe(plain?.triggerId);
    expect(fake.requestsTo('/commit/a72355f35fde')).toHaveLength(1);
  });

  it('sends the abbreviated hash, marked so, when Bitbucket cannot say', async () => {
    fake.revoke(TOKEN);
    const stack = await stackWithCredentials();
    await stack.deliver(opened(), 'pullrequest:created');
    const { failures } = await stack.drain();
    expect(failures).toEqual([]);
    expect(stack.sentTriggers()).toEqual([
      expect.objectContaining({
        reason: 'pr-opened',
        commit: expect.objectContaining({ abbreviated: true }),
      }),
    ]);
    expect(fake.requestsTo('/commit/a72355f35fde')).toHaveLength(1);
  });
});

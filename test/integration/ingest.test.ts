import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProcessorHandler } from '../../functions/processor/app';
import { createWebhookHandler, webhookDeps } from '../../functions/webhook/app';
import { signBody } from '../../shared/bitbucket/signature';
import { type ProjectSettingsInput, ProjectSettingsSchema } from '../../shared/domain/settings';
import { type TriggerMessage, TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { noTelemetry, silentLog } from '../../shared/observability';
import { secretIds } from '../../shared/secrets/secrets';
import { DynamoStore } from '../../shared/store/dynamo-store';
import type { Store } from '../../shared/store/store';
import { ensureTable } from '../../shared/store/table';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { readFixtureJson } from '../support/fixtures';
import { MemorySecretStore } from '../support/memory-secret-store';
import { RecordingQueue } from '../support/recording-queue';

const SECRET = 'integration-test-secret';
const REPO = '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}'; // cloudbeers/temp in the jenkins-bbsource captures
const PROJECT = 'prj-cloudbeers-temp';
const SHA_MAIN = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec'; // head of main in updatePayload.json
const context = { functionName: 'test', awsRequestId: 'req' } as Context;

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

/** The webhook and processor wired to dynalite, the SQS doubles and an in-memory secret store. */
async function createStack(settings: ProjectSettingsInput = {}) {
  const tableName = `ingest-${randomUUID()}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoStore(dynamo.client, tableName);
  const deliveries = new RecordingQueue();
  const triggers = new RecordingQueue();
  const secretStore = new MemorySecretStore();
  const now = () => new Date();
  const at = now().toISOString();
  const webhookSecretId = secretIds.webhookSecret('test', 'acme');
  await secretStore.put(webhookSecretId, JSON.stringify({ current: SECRET }));
  await store.putIntegration({
    name: 'acme',
    provider: 'bitbucket-cloud',
    scope: 'default',
    labels: [],
    description: '',
    webhookSecretId,
    status: 'active',
    version: 1,
    createdAt: at,
    updatedAt: at,
  });
  await store.putProject({
    id: PROJECT,
    integration: 'acme',
    provider: 'bitbucket-cloud',
    repositoryId: REPO,
    fullName: 'cloudbeers/temp',
    cloneUrls: {
      ssh: 'git@bitbucket.org:cloudbeers/temp.git',
      https: 'https://bitbucket.org/cloudbeers/temp.git',
    },
    defaultBranch: 'main',
    settings: ProjectSettingsSchema.parse(settings),
    deployKeySecretId: secretIds.deployKey('test', PROJECT),
    createdAt: at,
    updatedAt: at,
  });
  const webhook = createWebhookHandler(
    webhookDeps({ store, deliveries, secretStore, log: silentLog, telemetry: noTelemetry, now }),
  );
  const processorDeps = { store: store as Store, triggers, now, log: silentLog, telemetry: noTelemetry };
  const processor = createProcessorHandler(processorDeps);

  async function deliver(payload: unknown, eventKey: string, deliveryId = randomUUID()) {
    const body = JSON.stringify(payload);
    const event = {
      version: '2.0',
      routeKey: 'POST /webhooks/{integration}',
      rawPath: '/webhooks/acme',
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        'x-event-key': eventKey,
        'x-request-uuid': deliveryId,
        'x-hub-signature': signBody(body, SECRET),
      },
      pathParameters: { integration: 'acme' },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const response = (await webhook(event, context)) as APIGatewayProxyStructuredResultV2;
    return { status: response.statusCode, body: JSON.parse(response.body ?? '{}'), deliveryId };
  }

  /** Feeds everything on the deliveries queue to the processor, as SQS would. */
  async function drain() {
    const messages = deliveries.take();
    const event: SQSEvent = {
      Records: messages.map((message, index) => ({
        messageId: `m${index}`,
        receiptHandle: `r${index}`,
        body: message.body,
        attributes: { MessageGroupId: message.groupId } as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
        awsRegion: 'us-east-1',
      })),
    };
    const result = await processor(event, context);
    return { failures: result.batchItemFailures.map((f) => messages[Number(f.itemIdentifier.slice(1))]) };
  }

  const sentTriggers = (): TriggerMessage[] =>
    triggers.messages.map((m) => TriggerMessageSchema.parse(JSON.parse(m.body)));

  return { store, deliveries, triggers, deliver, drain, sentTriggers, processorDeps };
}

const push = (branch = 'main', edit?: (payload: any) => void) => {
  const payload = readFixtureJson<any>('cloud/jenkins-bbsource__updatePayload.json');
  payload.push.changes[0].new.name = branch;
  edit?.(payload);
  return payload;
};

describe('ingest path on dynalite', () => {
  let stack: Awaited<ReturnType<typeof createStack>>;

  beforeEach(async () => {
    stack = await createStack();
  });

  it('records one delivery and enqueues it once when 20 copies arrive at the same time', async () => {
    const id = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => stack.deliver(push(), 'repo:push', id)),
    );
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(responses.filter((r) => r.body.duplicate === true)).toHaveLength(19);
    expect(stack.deliveries.sends).toBe(1);
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

import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProcessorHandler } from '../../functions/processor/app';
import { ensureTable } from '../../local/dynamo';
import { lambdaContext, sqsEvent } from '../../local/lambda-events';
import { LocalFifoQueue } from '../../local/local-queue';
import type { AdminDeps } from '../../shared/admin/context';
import { getDelivery } from '../../shared/admin/deliveries';
import { DEFAULT_SETTINGS } from '../../shared/domain/settings';
import { TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { DependencyError } from '../../shared/errors';
import { enqueueDelivery } from '../../shared/ingest/delivery-message';
import { PARK_AFTER_FAILURES } from '../../shared/ingest/process-delivery';
import { noTelemetry, silentLog } from '../../shared/observability';
import { DELIVERIES_MAX_RECEIVE_COUNT } from '../../shared/queue/redrive';
import { INLINE_DECISIONS_MAX_BYTES } from '../../shared/store/dynamo-items';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { DECISIONS_PART_PREFIX, deliveryKey } from '../../shared/store/keys';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { readFixtureJson } from '../support/fixtures';
import { RecordingQueue } from '../support/recording-queue';
import { integrationRecord } from '../support/records';

// The processor on dynalite, fed by the local FIFO queue (SQS's receive counts and redrive, with
// the deliveries queue's maxReceiveCount), for what only shows over many batches: parking a
// failing delivery without dead-lettering its group-mates, and pushes of thousands of refs.

const INTEGRATION = 'dc-main';
const REPOSITORY = '1';
const PROJECT = 'p-dc';
const PUSH = 'server/drone-go-scm__push.json';
const SHA = '823b2230a56056231c9425d63758fa87078a66b4';

let local: LocalDynamo;
let tables = 0;
let store: DynamoStore;

beforeAll(async () => {
  local = await startDynalite();
});

afterAll(async () => {
  await local?.stop();
});

beforeEach(async () => {
  tables += 1;
  const tableName = `processor-faults-${tables}`;
  await ensureTable(local.client, tableName);
  store = new DynamoStore(local.api, tableName);
  const at = new Date().toISOString();
  await store.putIntegration(
    integrationRecord({
      name: INTEGRATION,
      provider: 'bitbucket-data-center',
      baseUrl: 'https://bitbucket.acme.internal',
      webhookSecretId: 'hookgate/test/integrations/dc-main/webhook-secret',
      createdAt: at,
      updatedAt: at,
    }),
  );
  await store.putProject({
    id: PROJECT,
    integration: INTEGRATION,
    provider: 'bitbucket-data-center',
    repositoryId: REPOSITORY,
    fullName: 'PRJ/my-repo',
    cloneUrls: { ssh: 'ssh://git@bitbucket.acme.internal:7999/prj/my-repo.git' },
    defaultBranch: 'master',
    settings: DEFAULT_SETTINGS,
    deployKeySecretId: 'hookgate/test/projects/p-dc/deploy-key',
    createdAt: at,
    updatedAt: at,
  });
});

/** A real DC refs_changed push, its one change repeated for `refs` distinct branches. */
function bigPush(refs: number, prefix: string): unknown {
  const payload = readFixtureJson<{ changes: Record<string, unknown>[] }>(PUSH);
  const change = payload.changes[0] as { ref: Record<string, unknown> };
  payload.changes = Array.from({ length: refs }, (_, index) => ({
    ...change,
    ref: { ...change.ref, id: `refs/heads/${prefix}/${index}`, displayId: `${prefix}/${index}` },
    refId: `refs/heads/${prefix}/${index}`,
  }));
  return payload;
}

async function partition(deliveryId: string) {
  const page = await local.api.query({
    TableName: `processor-faults-${tables}`,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: deliveryKey(INTEGRATION, deliveryId) } },
  });
  return page.Items ?? [];
}

async function storeDelivery(deliveryId: string, payload: unknown): Promise<number> {
  const body = Buffer.from(JSON.stringify(payload));
  await store.createDelivery(
    {
      integration: INTEGRATION,
      deliveryId,
      provider: 'bitbucket-data-center',
      eventKey: 'repo:refs_changed',
      headers: { 'x-event-key': 'repo:refs_changed' },
      bodyGzip: new Uint8Array(gzipSync(body)),
      repositoryId: REPOSITORY,
      receivedAt: new Date().toISOString(),
    },
    30,
  );
  return body.length;
}

/** The processor consuming a local deliveries.fifo with the deliveries queue's redrive policy. */
async function startPipeline(options: { failFor?: Set<string> } = {}) {
  const triggers = new RecordingQueue();
  const faulty = Object.create(store) as DynamoStore;
  // A delivery that keeps failing on a dependency fault after it was read: its own failures.
  faulty.getDelivery = async (integration, deliveryId) => {
    const record = await store.getDelivery(integration, deliveryId);
    if (options.failFor?.has(deliveryId)) throw new DependencyError('storage unavailable (injected)');
    return record;
  };
  const processor = createProcessorHandler({
    store: faulty,
    triggers,
    now: () => new Date(),
    log: silentLog,
    telemetry: noTelemetry,
  });
  const queue = await LocalFifoQueue.open({
    name: 'deliveries.fifo',
    maxReceiveCount: DELIVERIES_MAX_RECEIVE_COUNT,
    retryDelayMs: 1,
    deduplicationWindowMs: 0,
  });
  const receives = new Map<string, number>();
  queue.start(async (batch) => {
    for (const message of batch) receives.set(message.body, message.receiveCount);
    const result = await processor(sqsEvent('deliveries.fifo', batch), lambdaContext('processor', 60_000));
    return result.batchItemFailures.map((failure) => failure.itemIdentifier);
  });
  const enqueue = (deliveryId: string) =>
    enqueueDelivery(queue, { integration: INTEGRATION, deliveryId, repositoryId: REPOSITORY });
  const triggered = () => triggers.messages.map((m) => TriggerMessageSchema.parse(JSON.parse(m.body)));
  return { queue, triggers, enqueue, triggered, receives };
}

describe('a delivery that keeps failing in a group of normal ones', () => {
  it('is parked as failed after its own failures, while its group-mates are processed and none is dead-lettered', async () => {
    await storeDelivery('d-poison', bigPush(1, 'poison'));
    await storeDelivery('d-normal-1', bigPush(1, 'one'));
    await storeDelivery('d-normal-2', bigPush(1, 'two'));
    const failFor = new Set(['d-poison']);
    const pipeline = await startPipeline({ failFor });

    for (const id of ['d-poison', 'd-normal-1', 'd-normal-2']) await pipeline.enqueue(id);
    await pipeline.queue.whenIdle();

    expect(pipeline.queue.deadLetters()).toEqual([]);
    const poison = await store.getDelivery(INTEGRATION, 'd-poison');
    expect(poison).toMatchObject({
      status: 'failed',
      failures: PARK_AFTER_FAILURES,
      error: 'storage unavailable (injected)',
    });
    for (const id of ['d-normal-1', 'd-normal-2'])
      expect((await store.getDelivery(INTEGRATION, id))?.status).toBe('processed');
    expect(pipeline.triggered().map((t) => t.ref.name)).toEqual(['one/0', 'two/0']);
    // Handed back with the poison each time, the group-mates were received as often (processed
    // in the batch that parked it), well inside the redrive.
    expect(Math.max(...pipeline.receives.values())).toBe(PARK_AFTER_FAILURES);
    expect(PARK_AFTER_FAILURES).toBeLessThan(DELIVERIES_MAX_RECEIVE_COUNT);

    // A replay (or a sweep) enqueues the parked delivery again once the fault is gone.
    failFor.clear();
    await pipeline.enqueue('d-poison');
    await pipeline.queue.whenIdle();
    expect(await store.getDelivery(INTEGRATION, 'd-poison')).toMatchObject({
      status: 'processed',
      failures: 0,
    });
    expect(pipeline.triggered().map((t) => t.ref.name)).toEqual(['one/0', 'two/0', 'poison/0']);
    await pipeline.queue.close();
  });

  it('acknowledges a message whose delivery is not stored, with no retry', async () => {
    const pipeline = await startPipeline();

    await pipeline.enqueue('d-never-stored');
    await pipeline.queue.whenIdle();

    expect(pipeline.queue.deadLetters()).toEqual([]);
    expect([...pipeline.receives.values()]).toEqual([1]);
    await pipeline.queue.close();
  });
});

describe('a Data Center push of thousands of refs', () => {
  it('decides 5,000 ref changes, stores them, triggers each ref once and shows them through the admin API', async () => {
    const bytes = await storeDelivery('d-5000', bigPush(5_000, 'feature'));
    const pipeline = await startPipeline();

    await pipeline.enqueue('d-5000');
    await pipeline.queue.whenIdle();

    expect(bytes).toBeGreaterThan(1_000_000);
    const record = await store.getDelivery(INTEGRATION, 'd-5000');
    expect(record?.status).toBe('processed');
    expect(record?.decisions).toHaveLength(5_000);
    const names = pipeline.triggered().map((t) => t.ref.name);
    expect(names).toHaveLength(5_000);
    expect(new Set(names).size).toBe(5_000);
    expect(pipeline.triggered().every((t) => t.commit.sha === SHA)).toBe(true);
    expect(pipeline.queue.deadLetters()).toEqual([]);

    const answer = await getDelivery(
      { store } as unknown as AdminDeps,
      {} as never,
      {
        id: 'd-5000',
        query: { integration: INTEGRATION },
      } as never,
    );
    const body = answer.body as { status: string; decisions: { action: string; ref: { name: string } }[] };
    expect(body.status).toBe('processed');
    expect(body.decisions).toHaveLength(5_000);
    expect(body.decisions[4_999]).toMatchObject({ action: 'trigger', ref: { name: 'feature/4999' } });

    // Gzipped, they are beyond what the delivery item keeps inline: parts of its partition hold
    // them, each expiring with it.
    const items = await partition('d-5000');
    const head = items.find((item) => item.sk?.S === 'META');
    const parts = items.filter((item) => item.sk?.S?.startsWith(DECISIONS_PART_PREFIX));
    expect(head?.decisionsGzip).toBeUndefined();
    expect(Number(head?.decisionsParts?.N)).toBe(parts.length);
    const partBytes = parts.reduce((sum, item) => sum + (item.part?.B?.length ?? 0), 0);
    expect(partBytes).toBeGreaterThan(INLINE_DECISIONS_MAX_BYTES);
    expect(parts.every((item) => item.expiresAt?.N === head?.expiresAt?.N)).toBe(true);
    await pipeline.queue.close();
  }, 120_000);

  it('decides two 1,500-ref pushes and a normal push of the same repository, and triggers the normal one', async () => {
    await storeDelivery('d-big-1', bigPush(1_500, 'mirror-a'));
    await storeDelivery('d-big-2', bigPush(1_500, 'mirror-b'));
    await storeDelivery('d-normal', readFixtureJson(PUSH));
    const pipeline = await startPipeline();

    for (const id of ['d-big-1', 'd-big-2', 'd-normal']) await pipeline.enqueue(id);
    await pipeline.queue.whenIdle();

    for (const id of ['d-big-1', 'd-big-2', 'd-normal'])
      expect((await store.getDelivery(INTEGRATION, id))?.status).toBe('processed');
    const names = pipeline.triggered().map((t) => t.ref.name);
    expect(names).toHaveLength(3_001);
    expect(names.at(-1)).toBe('master');
    // 1,500 refs' decisions, 518 KB as JSON, fit gzipped in the delivery item itself.
    const head = (await partition('d-big-1')).find((item) => item.sk?.S === 'META');
    expect(head?.decisionsGzip?.B?.length).toBeLessThanOrEqual(INLINE_DECISIONS_MAX_BYTES);
    expect(pipeline.queue.deadLetters()).toEqual([]);
    await pipeline.queue.close();
  }, 120_000);
});

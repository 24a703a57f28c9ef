import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/dynamo';
import { Deadline } from '../../shared/deadline';
import { DeliveryMessageSchema } from '../../shared/ingest/delivery-message';
import { SWEEP_MAX_AGE_MS, type SweepStore, sweepDeliveries } from '../../shared/ingest/sweep-deliveries';
import { noTelemetry, silentLog, type Telemetry } from '../../shared/observability';
import { key } from '../../shared/store/dynamo-items';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { DynamoSweepStore } from '../../shared/store/dynamo-sweep-store';
import { deliveryKey } from '../../shared/store/keys';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { RecordingQueue } from '../support/recording-queue';

const MINUTE = 60_000;
const NOW = new Date('2025-06-02T12:00:00.000Z');
const INTEGRATION = 'acme';

let dynamo: LocalDynamo;
let tableName: string;
let store: DynamoStore;
let sweepStore: SweepStore;
let queue: RecordingQueue;
let counted: Record<string, number>;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tableName = `sweep-${randomUUID()}`;
  await ensureTable(dynamo.client, tableName);
  store = new DynamoStore(dynamo.api, tableName);
  sweepStore = new DynamoSweepStore(dynamo.api, tableName);
  queue = new RecordingQueue();
  counted = {};
  await store.putIntegration({
    name: INTEGRATION,
    provider: 'bitbucket-cloud',
    scope: 'default',
    labels: [],
    description: '',
    webhookSecretId: 'hookgate/test/integrations/acme/webhook-secret',
    status: 'active',
    version: 1,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  });
});

const telemetry: Telemetry = {
  ...noTelemetry,
  count(name, value = 1) {
    counted[name] = (counted[name] ?? 0) + value;
  },
};

function sweep(at: Date = NOW) {
  return sweepDeliveries({
    store: sweepStore,
    deliveries: queue,
    deadline: Deadline.in(60_000),
    now: () => at,
    log: silentLog,
    telemetry,
  });
}

async function deliver(minutesAgo: number, id = randomUUID()): Promise<string> {
  await store.createDelivery(
    {
      integration: INTEGRATION,
      deliveryId: id,
      provider: 'bitbucket-cloud',
      eventKey: 'repo:push',
      headers: { 'x-event-key': 'repo:push' },
      bodyGzip: gzipSync('{}'),
      repositoryId: '{repo}',
      receivedAt: new Date(NOW.getTime() - minutesAgo * MINUTE).toISOString(),
    },
    30,
  );
  return id;
}

async function setStatus(id: string, status: string): Promise<void> {
  await dynamo.client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: key(deliveryKey(INTEGRATION, id)),
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': { S: status } },
    }),
  );
}

const enqueuedIds = () =>
  queue.messages.map((m) => DeliveryMessageSchema.parse(JSON.parse(m.body)).deliveryId);

describe('the delivery sweep on dynalite', () => {
  it('enqueues a delivery left received for 6 minutes once, and neither a processed nor a 1-minute-old one', async () => {
    const stale = await deliver(6);
    const processed = await deliver(7);
    await store.saveDecisions(INTEGRATION, processed, {
      status: 'decided',
      decisions: [],
      at: NOW.toISOString(),
    });
    await store.markProcessed(INTEGRATION, processed, NOW.toISOString());
    await deliver(1);

    const counts = await sweep();

    expect(enqueuedIds()).toEqual([stale]);
    expect(queue.messages[0]?.groupId).toBe(`${INTEGRATION}#{repo}`);
    expect(counts).toMatchObject({ requeued: 1, parked: 0, read: 2 });
    expect(counted.DeliveriesRequeued).toBe(1);
  });

  it('enqueues a delivery decided but never processed', async () => {
    const decided = await deliver(8);
    await store.saveDecisions(INTEGRATION, decided, {
      status: 'decided',
      decisions: [],
      at: NOW.toISOString(),
    });
    await sweep();
    expect(enqueuedIds()).toEqual([decided]);
  });

  it('moves the checkpoint on, so a second run a minute later enqueues nothing again', async () => {
    const stale = await deliver(6);
    const done = await deliver(10);
    await setStatus(done, 'processed');
    await sweep();
    const first = await sweepStore.getCheckpoint(INTEGRATION);
    // The open delivery holds the checkpoint; the finished older one is behind it.
    expect(first?.from).toBe(`${new Date(NOW.getTime() - 6 * MINUTE).toISOString()}#${stale}`);

    await setStatus(stale, 'processed');
    const second = await sweep(new Date(NOW.getTime() + MINUTE));
    expect(queue.sends).toBe(1);
    expect(second).toMatchObject({ requeued: 0, read: 1 });
    const after = await sweepStore.getCheckpoint(INTEGRATION);
    // Nothing open: the next run starts at the end of this one's window and reads nothing.
    expect(after?.from).toBe(`${new Date(NOW.getTime() + MINUTE - 6 * MINUTE).toISOString()}$`);
    const third = await sweep(new Date(NOW.getTime() + 2 * MINUTE));
    expect(third.read).toBe(0);
  });

  it('enqueues a delivery still open again only at 12 minutes, not on every run', async () => {
    const stale = await deliver(6);
    await sweep();
    await sweep(new Date(NOW.getTime() + 3 * MINUTE));
    expect(queue.sends).toBe(1);
    await sweep(new Date(NOW.getTime() + 6 * MINUTE));
    expect(queue.sends).toBe(2);
    expect(enqueuedIds()).toEqual([stale]);
  });

  it('counts a failed delivery as parked once and never enqueues it', async () => {
    const failed = await deliver(9);
    await setStatus(failed, 'failed');
    const first = await sweep();
    const second = await sweep(new Date(NOW.getTime() + 5 * MINUTE));
    expect(queue.sends).toBe(0);
    expect(first.parked).toBe(1);
    expect(second.parked).toBe(0);
    expect(counted.DeliveriesParked).toBe(1);
  });

  it('gives up on a delivery open for a day and lets the checkpoint pass it', async () => {
    await deliver(SWEEP_MAX_AGE_MS / MINUTE - 1);
    await sweep();
    expect(queue.sends).toBe(1);
    const later = await sweep(new Date(NOW.getTime() + 2 * MINUTE));
    expect(later.stuck).toBe(1);
    expect(queue.sends).toBe(1);
    const checkpoint = await sweepStore.getCheckpoint(INTEGRATION);
    expect(checkpoint?.from).toBe(`${new Date(NOW.getTime() + 2 * MINUTE - 6 * MINUTE).toISOString()}$`);
  });
});

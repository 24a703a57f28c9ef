import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CallLedger } from '../../bench/lib/calls';
import { itemBytes, writeUnits } from '../../bench/lib/capacity';
import { FakeAws, fakeTransport, type MeteredCall } from '../../bench/lib/fake-aws';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoIngestStore } from '../../shared/store/dynamo-ingest-store';
import type { NewDelivery } from '../../shared/store/store';
import { readFixtureBytes } from '../support/fixtures';

function setup() {
  const fake = new FakeAws();
  const calls: MeteredCall[] = [];
  fake.meter = (call) => calls.push(call);
  const config = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-key' },
    transport: fakeTransport(fake),
  };
  return {
    fake,
    calls,
    store: new DynamoIngestStore(dynamoJsonApi(config), 'table'),
    queue: new SqsQueue(sqsJsonApi(config), 'https://sqs.us-east-1.amazonaws.com/000000000000/d.fifo'),
  };
}

// A real Cloud push, stored gzipped as the webhook stores it.
const body = readFixtureBytes('cloud/drone-go-scm__push.json');
const delivery: NewDelivery = {
  integration: 'acme',
  deliveryId: 'd-1',
  provider: 'bitbucket-cloud',
  eventKey: 'repo:push',
  headers: { 'x-event-key': 'repo:push' },
  bodyGzip: gzipSync(body, { level: 1 }),
  repositoryId: '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}',
  receivedAt: '2025-03-01T10:00:00.000Z',
};

describe('call accounting', () => {
  it('bills the webhook’s PutItem by the size of the delivery item it stores, index copies included', async () => {
    const { fake, calls, store } = setup();
    await store.createDelivery(delivery, 30);
    const stored = [...fake.allItems()][0];
    expect(stored).toBeDefined();
    const [put] = calls;
    expect(put).toMatchObject({ service: 'DynamoDB', operation: 'PutItem', status: 200 });
    expect(put?.units.write).toBe(writeUnits(itemBytes(stored)));
    expect(put?.units.write).toBeGreaterThan(1); // the gzipped body makes it more than a KB
    // Every index the item has both keys of gets an entry of its own (a small one: no body).
    const indexed = ['gsi1', 'gsi2'].filter((name) => stored?.[`${name}pk`] && stored?.[`${name}sk`]);
    expect(indexed.length).toBeGreaterThan(0);
    expect(Object.keys(put?.units.indexWrites ?? {}).sort()).toEqual(indexed);
    for (const name of indexed) expect(put?.units.indexWrites[name]).toBe(1);
  });

  it('counts a resent delivery as a refused PutItem billed for the item already there', async () => {
    const { fake, calls, store } = setup();
    await store.createDelivery(delivery, 30);
    await store.createDelivery(delivery, 30);
    const stored = [...fake.allItems()][0];
    const again = calls.filter((call) => call.operation === 'PutItem')[1];
    expect(again).toMatchObject({ status: 400, error: 'ConditionalCheckFailedException' });
    expect(again?.units).toEqual({ read: 0, write: writeUnits(itemBytes(stored)), indexWrites: {} });
  });

  it('bills SQS per started 64 KB of the message', async () => {
    const { calls, queue } = setup();
    await queue.send({ body: '{"deliveryId":"d-1"}', groupId: 'g', deduplicationId: 'a' });
    await queue.send({ body: 'x'.repeat(70 * 1024), groupId: 'g', deduplicationId: 'b' });
    expect(calls.map((call) => [call.service, call.operation, call.sqsRequests])).toEqual([
      ['SQS', 'SendMessage', 1],
      ['SQS', 'SendMessage', 2],
    ]);
  });

  it('adds up calls by function and operation, per delivery', async () => {
    const { calls, store } = setup();
    await store.createDelivery(delivery, 30);
    await store.createDelivery({ ...delivery, deliveryId: 'd-2' }, 30);
    await store.createDelivery(delivery, 30);
    await store.getDelivery('acme', 'missing');
    const ledger = new CallLedger();
    for (const call of calls) ledger.record('webhook', call);
    const per = ledger.perDelivery('webhook', 2);
    expect(per.calls).toBe(2); // 4 calls over 2 deliveries
    expect(per.byService).toEqual({ DynamoDB: 2 });
    expect(per.byOperation['DynamoDB.PutItem']?.calls).toBe(1.5);
    expect(per.byOperation['DynamoDB.PutItem']?.refused).toBe(0.5);
    // The missing item is still read: one unit (a consistent read), over two deliveries.
    expect(per.byOperation['DynamoDB.GetItem']?.readUnits).toBe(0.5);
    const puts = calls.filter((call) => call.operation === 'PutItem');
    const table = puts.reduce((sum, call) => sum + call.units.write, 0);
    const indexes = puts.reduce(
      (sum, call) => sum + Object.values(call.units.indexWrites).reduce((a, b) => a + b, 0),
      0,
    );
    expect(per.writeUnits).toBe(table / 2);
    expect(per.indexWriteUnits).toBe(indexes / 2);
    expect(ledger.perDelivery('processor', 0)).toMatchObject({ calls: 0, byOperation: {} });
  });
});

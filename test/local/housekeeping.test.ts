import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/dynamo';
import { deleteExpiredItems, EXPIRE_SCAN_LIMIT, startHousekeeping } from '../../local/housekeeping';
import { type LocalDynamo, startDynalite } from '../support/dynalite';

const NOW = new Date('2025-06-02T12:00:00.000Z');
const nowSeconds = NOW.getTime() / 1000;

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

async function table(): Promise<string> {
  const name = `expiry-${randomUUID()}`;
  await ensureTable(dynamo.client, name);
  return name;
}

async function put(tableName: string, pk: string, expiresAt?: number): Promise<void> {
  await dynamo.client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        pk: { S: pk },
        sk: { S: 'META' },
        ...(expiresAt === undefined ? {} : { expiresAt: { N: String(expiresAt) } }),
      },
    }),
  );
}

async function exists(tableName: string, pk: string): Promise<boolean> {
  const result = await dynamo.client.send(
    new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: 'META' } } }),
  );
  return result.Item !== undefined;
}

describe('local expiry of items', () => {
  it('deletes expired deliveries, trigger claims and leases, and keeps the rest', async () => {
    const name = await table();
    await put(name, 'DLV#acme#old', nowSeconds - 1);
    await put(name, 'TRG#old', nowSeconds - 86_400);
    await put(name, 'LEASE#old', nowSeconds - 60);
    await put(name, 'DLV#acme#new', nowSeconds + 30 * 86_400);
    await put(name, 'TRG#new', nowSeconds + 60);
    await put(name, 'INT#acme');

    const pass = await deleteExpiredItems(dynamo.client, name, NOW);

    expect(pass.deleted).toBe(3);
    expect(pass.next).toBeUndefined();
    for (const pk of ['DLV#acme#old', 'TRG#old', 'LEASE#old']) expect(await exists(name, pk)).toBe(false);
    for (const pk of ['DLV#acme#new', 'TRG#new', 'INT#acme']) expect(await exists(name, pk)).toBe(true);
  });

  it('examines a bounded page per call and continues where it stopped', async () => {
    const name = await table();
    const count = EXPIRE_SCAN_LIMIT + 20;
    for (let start = 0; start < count; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - start) }, (_, i) =>
          put(name, `TRG#${start + i}`, nowSeconds - 1),
        ),
      );
    }
    const first = await deleteExpiredItems(dynamo.client, name, NOW);
    expect(first.examined).toBe(EXPIRE_SCAN_LIMIT);
    expect(first.next).toBeDefined();
    const second = await deleteExpiredItems(dynamo.client, name, NOW, first.next);
    expect(first.deleted + second.deleted).toBe(count);
  });

  it('runs the sweep and an expiry page on each tick, and reports a failing tick', async () => {
    const name = await table();
    await put(name, 'TRG#old', nowSeconds - 1);
    let sweeps = 0;
    const errors: Error[] = [];
    const housekeeping = startHousekeeping({
      client: dynamo.client,
      tableName: name,
      now: () => NOW,
      sweep: async () => {
        sweeps++;
        if (sweeps === 2) throw new Error('sweep failed');
      },
      onError: (error) => errors.push(error),
      intervalMs: 3_600_000,
    });
    await housekeeping.tick();
    await housekeeping.tick();
    await housekeeping.stop();
    expect(sweeps).toBe(2);
    expect(await exists(name, 'TRG#old')).toBe(false);
    expect(errors.map((e) => e.message)).toEqual(['sweep failed']);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamo';

const TABLE = 'hookgate-local';
const started: LocalDynamo[] = [];
const folders: string[] = [];

async function start(path?: string) {
  const dynamo = await startLocalDynamo(path);
  started.push(dynamo);
  return dynamo;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((dynamo) => dynamo.stop()));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Resolves with the connection error's code, or 'answered' when something answers. */
function probe(endpoint: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(endpoint, { method: 'POST' }, (res) => {
      res.resume();
      resolve('answered');
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe('startLocalDynamo', () => {
  it('keeps what was written in the folder across a stop and a new start', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hookgate-dynamo-'));
    folders.push(folder);
    const path = join(folder, 'db');
    const item = { pk: { S: 'INT#local' }, sk: { S: 'META' }, name: { S: 'local' } };

    const first = await start(path);
    await ensureTable(first.client, TABLE);
    await first.api.putItem({ TableName: TABLE, Item: item });
    await first.stop();

    const second = await start(path);
    const read = await second.api.getItem({ TableName: TABLE, Key: { pk: item.pk, sk: item.sk } });
    expect(read.Item).toEqual(item);
  });

  it('keeps nothing without a folder', async () => {
    const first = await start();
    await ensureTable(first.client, TABLE);
    const second = await start();
    await expect(
      second.api.getItem({ TableName: TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }),
    ).rejects.toThrow(/not found/i);
  });

  it('stops the database thread: the endpoint refuses connections, and stopping again is a no-op', async () => {
    const dynamo = await start();
    expect(await probe(dynamo.endpoint)).toBe('answered');
    await dynamo.stop();
    expect(await probe(dynamo.endpoint)).toBe('ECONNREFUSED');
    await expect(dynamo.stop()).resolves.toBeUndefined();
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeadLetter,
  LocalFifoQueue,
  type LocalQueueOptions,
  type ReceivedMessage,
} from '../../local/local-queue';
import { DependencyError } from '../../shared/errors';

let dir: string;
const open: LocalFifoQueue[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-queue-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((queue) => queue.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function openQueue(options: Partial<LocalQueueOptions> = {}): Promise<LocalFifoQueue> {
  const queue = await LocalFifoQueue.open({ name: 'test.fifo', retryDelayMs: 5, ...options });
  open.push(queue);
  return queue;
}

const message = (body: string, groupId = 'g1', deduplicationId = body) => ({
  body,
  groupId,
  deduplicationId,
});

/** A consumer that records every receive and fails the bodies `fail` says to. */
function recorder(fail: (received: ReceivedMessage) => boolean = () => false) {
  const receives: ReceivedMessage[] = [];
  const batches: string[][] = [];
  return {
    receives,
    batches,
    bodies: () => receives.map((r) => r.body),
    consumer: async (batch: readonly ReceivedMessage[]) => {
      receives.push(...batch);
      batches.push(batch.map((r) => r.body));
      return batch.filter(fail).map((r) => r.messageId);
    },
  };
}

describe('LocalFifoQueue', () => {
  it('delivers the messages of a group in the order they were sent', async () => {
    const queue = await openQueue({ batchSize: 2 });
    for (const body of ['a1', 'a2', 'a3', 'a4', 'a5']) await queue.send(message(body));
    const consumer = recorder();
    queue.start(consumer.consumer);
    await queue.whenIdle();
    expect(consumer.bodies()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(consumer.batches).toEqual([['a1', 'a2'], ['a3', 'a4'], ['a5']]);
  });

  it('holds the rest of a group behind a failed message, while other groups go on', async () => {
    const queue = await openQueue({ batchSize: 1 });
    let failures = 0;
    const consumer = recorder((r) => r.body === 'a1' && failures++ < 2);
    await queue.send(message('a1', 'A'));
    await queue.send(message('a2', 'A'));
    await queue.send(message('b1', 'B'));
    queue.start(consumer.consumer);
    await queue.whenIdle();
    const order = consumer.bodies();
    // a2 never overtakes a1, however many times a1 is retried; b1 does not wait for A.
    expect(order.filter((body) => body.startsWith('a'))).toEqual(['a1', 'a1', 'a1', 'a2']);
    expect(order.indexOf('b1')).toBeLessThan(order.lastIndexOf('a1'));
  });

  it('drops a deduplication id seen within five minutes and accepts it once the window is over', async () => {
    let now = 1_000_000;
    const queue = await openQueue({ now: () => now });
    await queue.send(message('first', 'g', 'same-id'));
    now += 4 * 60_000;
    await queue.send(message('second', 'g', 'same-id'));
    expect(queue.depth).toBe(1);
    now += 60_000;
    await queue.send(message('third', 'g', 'same-id'));
    expect(queue.depth).toBe(2);
    const consumer = recorder();
    queue.start(consumer.consumer);
    await queue.whenIdle();
    expect(consumer.bodies()).toEqual(['first', 'third']);
  });

  it('accepts an id whose window ended a moment ago, before expired ids are swept out', async () => {
    let now = 1_000_000;
    const queue = await openQueue({ now: () => now, deduplicationWindowMs: 100 });
    await queue.send(message('first', 'g', 'same-id'));
    now += 99;
    await queue.send(message('second', 'g', 'same-id'));
    now += 1;
    await queue.send(message('third', 'g', 'same-id'));
    expect(queue.depth).toBe(2);
  });

  it('redelivers a failed message with its receive count raised, and deletes it once it succeeds', async () => {
    const queue = await openQueue();
    const consumer = recorder((r) => r.receiveCount < 3);
    await queue.send(message('flaky'));
    queue.start(consumer.consumer);
    await queue.whenIdle();
    expect(consumer.receives.map((r) => r.receiveCount)).toEqual([1, 2, 3]);
    expect(queue.depth).toBe(0);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('treats a consumer that throws as a failure of the whole batch', async () => {
    const errors: Error[] = [];
    const queue = await openQueue({ onError: (error) => errors.push(error) });
    let calls = 0;
    await queue.send(message('m'));
    queue.start(async () => {
      calls += 1;
      if (calls === 1) throw new Error('consumer crashed');
      return [];
    });
    await queue.whenIdle();
    expect(calls).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(['consumer crashed']);
  });

  it('moves a message to the dead-letter list after five failed receives, and the group goes on', async () => {
    const letters: DeadLetter[] = [];
    const deadLetterPath = join(dir, 'dead.ndjson');
    const queue = await openQueue({
      journalPath: join(dir, 'q.ndjson'),
      deadLetterPath,
      batchSize: 1,
      onDeadLetter: (letter) => letters.push(letter),
    });
    const consumer = recorder((r) => r.body === 'poison');
    await queue.send(message('poison'));
    await queue.send(message('next'));
    queue.start(consumer.consumer);
    await queue.whenIdle();
    expect(consumer.bodies()).toEqual(['poison', 'poison', 'poison', 'poison', 'poison', 'next']);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ body: 'poison', receiveCount: 5, queue: 'test.fifo', groupId: 'g1' });
    expect(queue.deadLetters()).toEqual(letters);
    const stored = readFileSync(deadLetterPath, 'utf8').trim().split('\n');
    expect(stored.map((line) => JSON.parse(line).body)).toEqual(['poison']);

    await queue.close();
    const reopened = await openQueue({ journalPath: join(dir, 'q.ndjson'), deadLetterPath });
    expect(reopened.depth).toBe(0);
    expect(reopened.deadLetters().map((letter) => letter.body)).toEqual(['poison']);
  });

  it('offers the messages not yet deleted again after a restart, in order, keeping their receive counts', async () => {
    const journalPath = join(dir, 'q.ndjson');
    // A long retry delay: the failed messages are received exactly once before the restart.
    const first = await openQueue({ journalPath, retryDelayMs: 60_000 });
    await first.send(message('done', 'A'));
    await first.send(message('failed-once', 'B'));
    await first.send(message('waiting', 'B'));
    const consumer = recorder((r) => r.body !== 'done');
    first.start(consumer.consumer);
    await expect.poll(() => consumer.receives.length).toBe(3);
    await first.close();

    const second = await openQueue({ journalPath });
    expect(second.depth).toBe(2);
    const after = recorder();
    second.start(after.consumer);
    await second.whenIdle();
    expect(after.bodies()).toEqual(['failed-once', 'waiting']);
    expect(after.receives.map((r) => r.receiveCount)).toEqual([2, 2]);
    // Deduplication ids are remembered across the restart too.
    await second.send(message('done', 'A'));
    expect(second.depth).toBe(0);
  });

  it('keeps a message accepted by send even when the process dies without closing the queue', async () => {
    const journalPath = join(dir, 'q.ndjson');
    const crashed = await LocalFifoQueue.open({ name: 'test.fifo', journalPath });
    open.push(crashed);
    await crashed.send(message('accepted'));
    // No close(): what is on disk is all a crash would leave, plus a torn half-written line.
    await appendFile(journalPath, '{"op":"send","id":"torn","gro');

    const restarted = await openQueue({ journalPath });
    const consumer = recorder();
    restarted.start(consumer.consumer);
    await restarted.whenIdle();
    expect(consumer.bodies()).toEqual(['accepted']);
  });

  it('compacts the journal at start, keeping only what is still needed', async () => {
    const journalPath = join(dir, 'q.ndjson');
    const queue = await openQueue({ journalPath });
    for (let i = 0; i < 20; i++) await queue.send(message(`m${i}`));
    queue.start(recorder().consumer);
    await queue.whenIdle();
    await queue.close();
    const lines = readFileSync(journalPath, 'utf8').trim().split('\n');
    expect(lines.every((line) => JSON.parse(line).op === 'dedup')).toBe(true);
    expect(lines).toHaveLength(20);
  });

  /**
   * The journal's size as each batch is handed out: appends make it grow, a rewrite shrinks it.
   * Each batch takes `batchMs`, time for the deletions of the one before to reach the journal.
   */
  function journalSizes(queue: LocalFifoQueue, journalPath: string, batchMs = 0) {
    const sizes: number[] = [];
    queue.start(async () => {
      sizes.push(statSync(journalPath).size);
      if (batchMs > 0) await new Promise((resolve) => setTimeout(resolve, batchMs));
      return [];
    });
    const shrinks = () => sizes.filter((size, i) => i > 0 && size < (sizes[i - 1] ?? 0)).length;
    return { sizes, shrinks };
  }

  it('does not rewrite the journal for every batch behind a long backlog', async () => {
    const journalPath = join(dir, 'q.ndjson');
    const queue = await openQueue({ journalPath });
    for (let i = 0; i < 2_500; i++) await queue.send(message(`m${i}`, `g${i % 8}`));
    const journal = journalSizes(queue, journalPath);
    await queue.whenIdle();
    // 250 batches; the live lines (2,500 messages and their deduplication ids) outnumber the dead ones throughout.
    expect(journal.sizes).toHaveLength(250);
    expect(journal.shrinks()).toBe(0);
  });

  it('rewrites the journal once most of its lines are dead', async () => {
    const journalPath = join(dir, 'q.ndjson');
    let now = 0;
    const queue = await openQueue({ journalPath, deduplicationWindowMs: 60_000, now: () => now });
    for (let i = 0; i < 1_500; i++) await queue.send(message(`m${i}`));
    // Past the deduplication window: the ids are no longer live either.
    now = 120_000;
    const journal = journalSizes(queue, journalPath, 2);
    await queue.whenIdle();
    // 1,500 sends and up to 1,500 deletions: one rewrite once the deletions outnumber what is left.
    expect(journal.sizes).toHaveLength(150);
    expect(journal.shrinks()).toBe(1);
  });

  it('refuses a send once closed, so a caller can answer 503', async () => {
    const queue = await openQueue();
    await queue.close();
    await expect(queue.send(message('late'))).rejects.toBeInstanceOf(DependencyError);
  });
});

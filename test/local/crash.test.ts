import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ensureFreshBundle, freePort, killAll } from './dev-process';
import {
  adminClient,
  cloudPush,
  type Delivery,
  dcPush,
  lostAndDoubled,
  retried,
  sendAll,
  startStack,
  tally,
  triggersIn,
  waitUntil,
} from './stack-client';

// `kill -9` of the real `npm start` process in the middle of a load of distinct signed pushes,
// a restart on the same data dir, and Bitbucket's retry of every attempt that got no 2xx (a 5xx,
// or no answer: a connection reset by the kill or refused while it is down counts as a timeout).
// Each push is a new branch at a new commit, so each must end as exactly one trigger.

const SECRET = 'crash-test-secret';
const ADMIN_TOKEN = 'crash-test-admin-token';
const CONCURRENCY = 16;
/** Bounded wait for the restarted stack to decide everything; it ends early once nothing moves. */
const SETTLE_TIMEOUT_MS = 120_000;
const SETTLED_AFTER_IDLE_MS = 8_000;

let scratch: string;

beforeAll(() => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-crash-'));
});

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Half Cloud, half Data Center pushes, each a new branch `crash/<n>` at its own commit. */
function pushes(count: number, run: string): Delivery[] {
  return Array.from({ length: count }, (_, n) =>
    n % 2 === 0 ? cloudPush(`${run}:${n}`, `crash/${n}`) : dcPush(`${run}:${n}`, `crash/${n}`),
  );
}

interface CrashRun {
  deliveries: number;
  firstAttempts: ReturnType<typeof tally>;
  resent: number;
  resends: ReturnType<typeof tally>;
  lost: string[];
  doubled: string[];
  /** Deliveries the listing named twice (see DynamoStore's fetchAll). */
  listedTwice: number;
  /** Trigger lines appended again, byte for byte, by the at-least-once redelivery after the kill. */
  redelivered: number;
  /** Deliveries whose record is still `received` (or `decided`) when the wait ends. */
  undecided: number;
  /** Deliveries Bitbucket sent that the store never recorded. */
  unrecorded: number;
  resendAfterKillMs: number;
  /** False when the bounded wait ran out while the stack was still working. */
  settled: boolean;
  seconds: number;
}

/**
 * Sends `count` pushes, kills the stack with SIGKILL once `killAfter` attempts have an outcome,
 * restarts it, resends every retried attempt once (`resendAfterKillMs` after the kill at the
 * earliest) and waits until the stack has decided everything it will decide.
 */
async function crashRun(options: { count: number; killAfter: number; resendAfterKillMs?: number }) {
  const started = Date.now();
  const dataDir = mkdtempSync(join(scratch, 'data-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/webhooks/local`;
  const deliveries = pushes(options.count, `${options.count}-${options.resendAfterKillMs ?? 0}`);

  const first = await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN }, { npm: true });
  let killedAt = 0;
  let killed: Promise<void> | undefined;
  const firstAttempts = await sendAll(url, deliveries, SECRET, {
    concurrency: CONCURRENCY,
    onOutcome: (done) => {
      if (done === options.killAfter) {
        killedAt = Date.now();
        killed = first.kill();
      }
    },
  });
  await killed;
  expect(first.running).toBe(false);

  const second = await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN }, { npm: true });
  const wait = killedAt + (options.resendAfterKillMs ?? 0) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const resendAfterKillMs = Date.now() - killedAt;
  const toResend = deliveries.filter((_, n) => retried(firstAttempts[n]));
  const resends = await sendAll(url, toResend, SECRET, { concurrency: CONCURRENCY, attempt: 2 });

  // Watched through what the stack writes (cheap), so the watching does not slow the processor;
  // the store is read once at the end.
  const expected = deliveries.map((d) => d.sha as string);
  let lastChange = Date.now();
  let fingerprint = '';
  const settled = await waitUntil(() => {
    const triggers = triggersIn(dataDir);
    if (lostAndDoubled(expected, triggers).lost.length === 0) return true;
    const now = `${triggers.length}/${second.stdout.length}`;
    if (now !== fingerprint) {
      fingerprint = now;
      lastChange = Date.now();
    }
    return Date.now() - lastChange > SETTLED_AFTER_IDLE_MS;
  }, SETTLE_TIMEOUT_MS);
  const admin = adminClient(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
  const expectedIds = new Set(deliveries.map((d) => d.deliveryId));
  const listed = (await admin.deliveries('local')).filter((d) => expectedIds.has(d.deliveryId));
  const statuses = new Map(listed.map((d) => [d.deliveryId, d.status]));
  // The listing reads an index; a delivery it shows unfinished is read again from the table.
  for (const [id, status] of statuses) {
    if (status === 'processed' || status === 'invalid') continue;
    const answer = await admin.call('GET', `/admin/deliveries/${encodeURIComponent(id)}?integration=local`);
    statuses.set(id, `${answer.body.status ?? answer.status}`);
  }

  const run: CrashRun = {
    deliveries: deliveries.length,
    firstAttempts: tally(firstAttempts),
    resent: toResend.length,
    resends: tally(resends),
    ...lostAndDoubled(expected, triggersIn(dataDir)),
    undecided: [...statuses.values()].filter((s) => s !== 'processed' && s !== 'invalid').length,
    unrecorded: expectedIds.size - statuses.size,
    listedTwice: listed.length - statuses.size,
    resendAfterKillMs,
    settled,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  await second.stop('SIGTERM');
  const errors = second.stderr.split('\n').filter(Boolean);
  if (errors.length > 0)
    console.info(`restarted stack stderr (${errors.length} lines):\n${errors.slice(0, 8).join('\n')}`);
  console.info(
    `crash run: ${JSON.stringify({ ...run, lost: run.lost.length, doubled: run.doubled.length })}`,
  );
  return run;
}

describe('hookgate dev killed with SIGKILL under load', () => {
  // Issue 13, finding 3 (re-enqueue grace): a delivery recorded `received` whose enqueue died with
  // the process was answered `202 duplicate` on Bitbucket's retry within 15 s and never queued.
  test('decides 2,000 distinct pushes exactly once when every attempt without a 2xx is resent once right after the restart', async () => {
    const run = await crashRun({ count: 2_000, killAfter: 800 });
    expect(run.firstAttempts['2xx']).toBeGreaterThan(0);
    expect(run.resent).toBeGreaterThan(0);
    expect({ lost: run.lost, doubled: run.doubled }).toEqual({ lost: [], doubled: [] });
    expect(run.undecided).toBe(0);
  }, 240_000);

  // Issue 13, finding 3: the resend lands 14 s after the kill, just inside the old 15 s grace, the
  // case seen losing 1 of 2,000.
  test('decides every push exactly once when the resend comes 14 s after the kill', async () => {
    const run = await crashRun({ count: 600, killAfter: 300, resendAfterKillMs: 14_000 });
    expect(run.resent).toBeGreaterThan(0);
    expect({ lost: run.lost, doubled: run.doubled }).toEqual({ lost: [], doubled: [] });
    expect(run.undecided).toBe(0);
  }, 240_000);
});

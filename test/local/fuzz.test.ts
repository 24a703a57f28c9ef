import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listFixtures, readFixtureJson } from '../support/fixtures';
import { type CliProcess, ensureFreshBundle, freePort, killAll } from './dev-process';
import { mutate, seededRandom } from './mutate';
import {
  adminClient,
  cloudPush,
  type Delivery,
  type DeliveryView,
  deadLettersIn,
  deliveryIdOf,
  is2xx,
  is5xx,
  noAnswer,
  type Outcome,
  sendAll,
  startStack,
  tally,
  triggersIn,
  waitUntil,
} from './stack-client';

// A few thousand mutated real payloads (every fixture of the corpus, seeded mutations), signed
// and sent to the real local stack over loopback. Bad input must cost a 4xx or an `invalid`
// delivery, never a 5xx, a dead letter or the health of the process.

const SEED = 13;
const DELIVERIES = 3_000;
const CONCURRENCY = 8;
const SECRET = 'fuzz-test-secret';
const ADMIN_TOKEN = 'fuzz-test-admin-token';
/** The processor retries a failing delivery 1 + 2 + 3 + 4 s apart: idle longer than that is done. */
const SETTLED_AFTER_IDLE_MS = 10_000;
const SETTLE_TIMEOUT_MS = 150_000;

interface Case {
  delivery: Delivery;
  applied: string[];
  fixture: string;
}

function cases(): Case[] {
  const random = seededRandom(SEED);
  const fixtures = listFixtures().map((fixture) => ({ fixture, payload: readFixtureJson(fixture) }));
  const pushes = fixtures.filter(
    ({ fixture }) => fixture.path === 'server/jenkins-bbsource__pushPayload.json',
  );
  return Array.from({ length: DELIVERIES }, (_, n) => {
    // Every 500th case is a push made of 1,500 ref changes: a ~400 KB body that is slow to decide.
    const big = n % 500 === 250;
    const { fixture, payload } = big ? random.pick(pushes) : random.pick(fixtures);
    const mutant = mutate(payload, fixture.eventKey, random, big ? { refChanges: 1_500 } : {});
    return {
      fixture: fixture.path,
      applied: mutant.applied,
      delivery: {
        deliveryId: deliveryIdOf(`fuzz:${SEED}:${n}`),
        platform: fixture.platform === 'cloud' ? 'cloud' : 'dc',
        eventKey: mutant.eventKey,
        body: Buffer.from(mutant.text),
      },
    };
  });
}

let scratch: string;
let dataDir: string;
let dev: CliProcess;
let url: string;
let fuzz: Case[];
let outcomes: Outcome[];
let accepted: DeliveryView[];
let deadLetters: unknown[];
let settled: boolean;

beforeAll(async () => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-fuzz-'));
  dataDir = join(scratch, 'data');
  const port = await freePort();
  url = `http://127.0.0.1:${port}/webhooks/local`;
  dev = await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN });
  const started = Date.now();
  fuzz = cases();
  outcomes = await sendAll(
    url,
    fuzz.map((c) => c.delivery),
    SECRET,
    { concurrency: CONCURRENCY },
  );
  let fingerprint = '';
  let lastChange = Date.now();
  settled = await waitUntil(() => {
    const now = `${dev.stdout.length}/${dev.stderr.length}`;
    if (now !== fingerprint) {
      fingerprint = now;
      lastChange = Date.now();
    }
    return Date.now() - lastChange > SETTLED_AFTER_IDLE_MS;
  }, SETTLE_TIMEOUT_MS);
  const admin = adminClient(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
  const ids = new Set(fuzz.filter((_, n) => is2xx(outcomes[n])).map((c) => c.delivery.deliveryId));
  accepted = (await admin.deliveries('local')).filter((d) => ids.has(d.deliveryId));
  deadLetters = deadLettersIn(dataDir, 'deliveries.fifo');
  const statuses: Record<string, number> = {};
  for (const d of accepted) statuses[d.status] = (statuses[d.status] ?? 0) + 1;
  console.info(
    `fuzz: ${JSON.stringify({
      seed: SEED,
      deliveries: fuzz.length,
      ...tally(outcomes),
      statuses,
      deadLetters: deadLetters.length,
      settled,
      seconds: Math.round((Date.now() - started) / 1000),
    })}`,
  );
}, 300_000);

afterAll(async () => {
  await killAll();
  rmSync(scratch, { recursive: true, force: true });
});

const described = (c: Case, outcome: Outcome | undefined) =>
  `${c.fixture} [${c.applied.join(', ')}] key=${c.delivery.eventKey.slice(0, 40)} → ${JSON.stringify(outcome)}`;

describe(`the webhook under ${DELIVERIES.toLocaleString('en')} mutated real payloads (seed ${SEED})`, () => {
  test('answers every mutated delivery with a 2xx or a 4xx, never a 5xx or no answer', () => {
    const bad = fuzz
      .map((c, n) => ({ c, outcome: outcomes[n] }))
      .filter(({ outcome }) => is5xx(outcome) || noAnswer(outcome))
      .map(({ c, outcome }) => described(c, outcome));
    expect(bad).toEqual([]);
  });

  // Issue 13, finding 5 (poison deliveries): a 1,500-ref push could not store its decisions, a 1e308
  // id overflowed, a key was too long: each was retried 5 times and dead-lettered with its group-mates.
  test('ends every accepted mutated delivery processed or invalid, with no dead letter', () => {
    expect(settled).toBe(true);
    expect(accepted.filter((d) => d.status !== 'processed' && d.status !== 'invalid')).toEqual([]);
    expect(deadLetters.length).toBe(0);
  });

  test('stays healthy: a normal push afterwards is accepted and triggered', async () => {
    expect(dev.running).toBe(true);
    const push = cloudPush(`fuzz-after:${SEED}`, 'after/fuzz');
    const [answer] = await sendAll(url, [push], SECRET, { concurrency: 1 });
    expect(answer).toEqual({ status: 202 });
    const triggered = await waitUntil(
      () => triggersIn(dataDir).some((t) => t.commit.sha === push.sha),
      20_000,
    );
    expect(triggered).toBe(true);
  }, 30_000);
});

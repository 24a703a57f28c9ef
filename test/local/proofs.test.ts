import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFixtureJson } from '../support/fixtures';
import { ensureFreshBundle, freePort, killAll } from './dev-process';
import {
  adminClient,
  cloudPush,
  type Delivery,
  type DeliveryView,
  deliveryIdOf,
  send,
  shaOf,
  startStack,
  triggersIn,
  waitUntil,
} from './stack-client';

// Two promises of issue 13 on the real local stack: a delivery too big to store its decisions
// does not sink the next delivery of its repository, and a new webhook secret works the moment
// it is rotated, also on an instance that has just fetched the old one.

const SECRET = 'proofs-test-secret';
const ADMIN_TOKEN = 'proofs-test-admin-token';
const REF_CHANGES = 1_500;
/** The processor tries a failing delivery 5 times, 1 + 2 + 3 + 4 s apart, before a dead letter. */
const DECIDED_WITHIN_MS = 45_000;

let scratch: string;
let dataDir: string;
let port: number;
let admin: ReturnType<typeof adminClient>;

beforeAll(async () => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-proofs-'));
  dataDir = join(scratch, 'data');
  port = await freePort();
  await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN });
  admin = adminClient(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
});

afterAll(async () => {
  await killAll();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * The captured Data Center push to main, moved to repository PROOF/big-pushes and given `refs`
 * branch updates, each to its own commit (1,500 of them make the ~390 KB body of finding 5).
 */
function dcPushOf(label: string, refs: number): Delivery & { shas: string[] } {
  const payload = readFixtureJson<any>('server/jenkins-bbsource__pushPayload.json');
  payload.repository.id = 9_013;
  payload.repository.slug = 'big-pushes';
  payload.repository.name = 'big-pushes';
  payload.repository.project.key = 'PROOF';
  const [first] = payload.changes;
  const shas: string[] = [];
  payload.changes = Array.from({ length: refs }, (_, n) => {
    const branch = refs === 1 ? `normal/${label}` : `big/${label}-${n}`;
    const sha = shaOf(`big:${label}:${n}`);
    shas.push(sha);
    return {
      ...first,
      ref: { ...first.ref, id: `refs/heads/${branch}`, displayId: branch },
      refId: `refs/heads/${branch}`,
      toHash: sha,
    };
  });
  // The capture's head commit (toCommit, commits[]) describes its own push, not these branches:
  // left in, a one-change push would be read as a push of the captured commit.
  delete payload.toCommit;
  delete payload.commits;
  return {
    deliveryId: deliveryIdOf(`big:${label}`),
    platform: 'dc',
    eventKey: 'repo:refs_changed',
    body: Buffer.from(JSON.stringify(payload, null, 2)),
    shas,
  };
}

describe('two 1,500-ref Data Center pushes followed by a normal push of the same repository', () => {
  const bigA = dcPushOf('a', REF_CHANGES);
  const bigB = dcPushOf('b', REF_CHANGES);
  const normal = dcPushOf('normal', 1);
  let decided: DeliveryView[] = [];
  let normalTriggered = false;

  beforeAll(async () => {
    const url = `http://127.0.0.1:${port}/webhooks/local`;
    // In order, as Bitbucket sends pushes of one repository: the normal push waits behind the
    // big ones in the repository's FIFO group.
    for (const delivery of [bigA, bigB, normal]) {
      expect(await send(url, delivery, SECRET)).toEqual({ status: 202 });
    }
    const ids = new Set([bigA, bigB, normal].map((d) => d.deliveryId));
    await waitUntil(async () => {
      normalTriggered = triggersIn(dataDir).some((t) => t.commit.sha === normal.shas[0]);
      decided = (await admin.deliveries('local')).filter(
        (d) => ids.has(d.deliveryId) && (d.status === 'processed' || d.status === 'invalid'),
      );
      return normalTriggered && decided.length === ids.size;
    }, DECIDED_WITHIN_MS);
    console.info(
      `big pushes: ${JSON.stringify({
        bodyKB: Math.round(bigA.body.length / 1024),
        decided: decided.map((d) => `${d.deliveryId.slice(0, 8)}:${d.status}`),
        normalTriggered,
        bigTriggers: triggersIn(dataDir).filter((t) => t.ref.name.startsWith('big/')).length,
      })}`,
    );
  }, DECIDED_WITHIN_MS + 15_000);

  test('sends a body the size of the one in the issue, under the webhook limit', () => {
    expect(bigA.body.length).toBeGreaterThan(350 * 1024);
    expect(bigA.body.length).toBeLessThan(1024 * 1024);
  });

  // Issue 13, finding 5 (poison deliveries): the big pushes could not store their decisions (item
  // over 400 KB), were retried to the DLQ, and took the normal push of their FIFO group with them.
  test('triggers the normal push queued behind them', () => {
    expect(normalTriggered).toBe(true);
  });

  // Issue 13, finding 5: decisions of 1,500 refs exceeded the item size limit.
  test('decides all three deliveries and triggers every ref of the big pushes', () => {
    expect(decided.map((d) => d.deliveryId).sort()).toEqual(
      [bigA, bigB, normal].map((d) => d.deliveryId).sort(),
    );
    const triggered = new Set(triggersIn(dataDir).map((t) => t.commit.sha));
    expect([...bigA.shas, ...bigB.shas].filter((sha) => !triggered.has(sha))).toEqual([]);
  });
});

describe('rotating a webhook secret on a warm instance', () => {
  let url: string;
  let oldSecret: string;
  let newSecret: string;
  let rotatedAt: number;
  let fetchedAt: number;

  beforeAll(async () => {
    const created = await admin.call('POST', '/admin/integrations', {
      name: 'rotation',
      provider: 'bitbucket-cloud',
      scope: { space: 'rotation' },
    });
    expect(created.status).toBe(201);
    url = created.body.webhookUrl;
    oldSecret = created.body.webhookSecret;
    // The first delivery makes the webhook fetch the secret document: the instance is warm.
    expect(await send(url, cloudPush('rotation:warm', 'rotation/warm'), oldSecret)).toEqual({ status: 202 });
    fetchedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rotated = await admin.call('POST', '/admin/integrations/rotation/rotate-secret');
    expect(rotated.status).toBe(200);
    rotatedAt = Date.now();
    newSecret = rotated.body.webhookSecret;
    expect(newSecret).not.toBe(oldSecret);
  });

  // Issue 13, finding 4 (rotation window): a mismatch used to refetch only when the cached document
  // was over 5 s old, so the new secret got 401, and Bitbucket never retries a 4xx.
  test('accepts a delivery signed with the new secret right after the rotation', async () => {
    const answer = await send(url, cloudPush('rotation:new', 'rotation/new'), newSecret);
    const sinceFetch = Date.now() - fetchedAt;
    console.info(`rotation: new secret answered ${JSON.stringify(answer)}, ${sinceFetch} ms after the fetch`);
    expect(rotatedAt - fetchedAt).toBeLessThan(5_000);
    expect(answer).toEqual({ status: 202 });
  });

  test('still accepts the previous secret during its grace period', async () => {
    expect(await send(url, cloudPush('rotation:old', 'rotation/old'), oldSecret)).toEqual({ status: 202 });
  });
});

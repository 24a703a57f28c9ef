import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signBody } from '../../shared/bitbucket/signature';
import type { TriggerMessage } from '../../shared/domain/trigger-message';
import { readFixtureBytes } from '../support/fixtures';
import { type CliProcess, startDev } from './dev-process';

// Talks to a running local stack the way Bitbucket and an operator do: signed deliveries over
// loopback HTTP, the admin API with the bearer token, and the triggers file it writes.

/** A delivery as Bitbucket would send it: fixed id and bytes, sent again unchanged on a retry. */
export interface Delivery {
  deliveryId: string;
  platform: 'cloud' | 'dc';
  eventKey: string;
  body: Buffer;
  /** The commit this delivery should trigger, when it should trigger one. */
  sha?: string;
}

/**
 * What one attempt got: a status (and, for a `202 {"duplicate": true}`, the status the first
 * attempt left), or `error` when no HTTP answer came back (reset, refused, timeout).
 */
export type Outcome = { status: number; duplicateOf?: string } | { error: string };

/** Bitbucket's request timeout: no answer within 10 s is a failed attempt. */
const BITBUCKET_TIMEOUT_MS = 10_000;

/** A deterministic 40-hex commit hash for a label, so runs and reruns name the same commits. */
export function shaOf(label: string): string {
  return createHash('sha1').update(label).digest('hex');
}

/** A deterministic delivery id (UUID-shaped) for a label. */
export function deliveryIdOf(label: string): string {
  const hex = createHash('sha256').update(label).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const CLOUD_BRANCH_CREATED = 'cloud/jenkins-bbsource__branch_created.json';
const CLOUD_SHA = '174561d625c9623b60d8aba09b7f08ddc9df45cd';
const DC_PUSH = 'server/jenkins-bbsource__pushPayload.json';
const DC_SHA = '9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a';

/**
 * The captured Cloud "branch created" push with its commit and branch name rewritten in the raw
 * text, so each copy is a new branch at a new commit of amuniz/test-repos (one `branch-push`).
 */
export function cloudPush(label: string, branch: string): Delivery {
  const sha = shaOf(`cloud:${label}`);
  const text = readFixtureBytes(CLOUD_BRANCH_CREATED)
    .toString('utf8')
    .replaceAll(CLOUD_SHA, sha)
    .replaceAll('feature/test', branch);
  return {
    deliveryId: deliveryIdOf(`cloud:${label}`),
    platform: 'cloud',
    eventKey: 'repo:push',
    body: Buffer.from(text),
    sha,
  };
}

/** The captured Data Center push to main of AMUNIZ/test-repos, rewritten to a new branch and commit. */
export function dcPush(label: string, branch: string): Delivery {
  const sha = shaOf(`dc:${label}`);
  const text = readFixtureBytes(DC_PUSH)
    .toString('utf8')
    .replaceAll(DC_SHA, sha)
    .replaceAll(DC_SHA.slice(0, 11), sha.slice(0, 11))
    .replaceAll('"refs/heads/main"', JSON.stringify(`refs/heads/${branch}`))
    .replaceAll('"displayId": "main"', `"displayId": ${JSON.stringify(branch)}`);
  return {
    deliveryId: deliveryIdOf(`dc:${label}`),
    platform: 'dc',
    eventKey: 'repo:refs_changed',
    body: Buffer.from(text),
    sha,
  };
}

/** Headers as each platform sends them; the attempt number is Cloud's retry counter. */
export function headersOf(delivery: Delivery, secret: string, attempt = 1): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': delivery.platform === 'cloud' ? 'Bitbucket-Webhooks/2.0' : 'Atlassian HttpClient 4.4.1',
    'x-event-key': delivery.eventKey,
    'x-hub-signature': signBody(delivery.body, secret),
    ...(delivery.platform === 'cloud'
      ? { 'x-request-uuid': delivery.deliveryId, 'x-attempt-number': String(attempt) }
      : { 'x-request-id': delivery.deliveryId }),
  };
}

/** One attempt of a delivery; never throws. */
export async function send(url: string, delivery: Delivery, secret: string, attempt = 1): Promise<Outcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: headersOf(delivery, secret, attempt),
      body: delivery.body,
      signal: AbortSignal.timeout(BITBUCKET_TIMEOUT_MS),
    });
    const text = await response.text();
    let answer: { duplicate?: boolean; status?: string } = {};
    try {
      answer = JSON.parse(text);
    } catch {
      // Not JSON: the status says enough.
    }
    return answer.duplicate && answer.status
      ? { status: response.status, duplicateOf: answer.status }
      : { status: response.status };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (error as Error).name };
  }
}

/** Sends every delivery with at most `concurrency` in flight; outcomes by index. */
export async function sendAll(
  url: string,
  deliveries: readonly Delivery[],
  secret: string,
  options: { concurrency: number; attempt?: number; onOutcome?: (done: number) => void },
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(deliveries.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      const delivery = deliveries[index];
      if (!delivery) return;
      outcomes[index] = await send(url, delivery, secret, options.attempt);
      options.onOutcome?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return outcomes;
}

export const is2xx = (outcome: Outcome | undefined) =>
  outcome !== undefined && 'status' in outcome && outcome.status >= 200 && outcome.status < 300;
export const is4xx = (outcome: Outcome | undefined) =>
  outcome !== undefined && 'status' in outcome && outcome.status >= 400 && outcome.status < 500;
export const is5xx = (outcome: Outcome | undefined) =>
  outcome !== undefined && 'status' in outcome && outcome.status >= 500;
export const noAnswer = (outcome: Outcome | undefined) => outcome === undefined || 'error' in outcome;

/** Bitbucket retries a 5xx and an attempt that got no answer; never a 2xx or a 4xx. */
export const retried = (outcome: Outcome | undefined) => is5xx(outcome) || noAnswer(outcome);

/** Counts of outcomes by class, for the figures a test reports. */
export function tally(outcomes: readonly (Outcome | undefined)[]) {
  return {
    '2xx': outcomes.filter(is2xx).length,
    '4xx': outcomes.filter(is4xx).length,
    '5xx': outcomes.filter(is5xx).length,
    noAnswer: outcomes.filter(noAnswer).length,
    duplicateOfReceived: outcomes.filter((o) => o && 'duplicateOf' in o && o.duplicateOf === 'received')
      .length,
  };
}

export function triggersIn(dataDir: string): TriggerMessage[] {
  const path = join(dataDir, 'triggers.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TriggerMessage);
}

/** Dead letters of a local queue (`deliveries.fifo`, `triggers.fifo`) kept in the data dir. */
export function deadLettersIn(dataDir: string, queue: string): unknown[] {
  const path = join(dataDir, 'queues', `${queue}.dead-letters.ndjson`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

/**
 * Commits with no trigger, and commits with more than one trigger message, among those expected.
 * The file is written at least once, as SQS delivers (README, Durability): a message offered
 * again after a kill is appended again, byte for byte, and counts as one (`redelivered`). Two
 * different messages for one commit (another trigger id, or the same one sent twice) are doubled.
 */
export function lostAndDoubled(expected: readonly string[], triggers: readonly TriggerMessage[]) {
  const messages = new Map<string, Set<string>>();
  for (const trigger of triggers) {
    const seen = messages.get(trigger.commit.sha) ?? new Set<string>();
    seen.add(JSON.stringify(trigger));
    messages.set(trigger.commit.sha, seen);
  }
  const distinct = [...messages.values()].reduce((sum, seen) => sum + seen.size, 0);
  return {
    lost: expected.filter((sha) => !messages.has(sha)),
    doubled: expected.filter((sha) => (messages.get(sha)?.size ?? 0) > 1),
    redelivered: triggers.length - distinct,
  };
}

export interface DeliveryView {
  deliveryId: string;
  status: string;
}

/** An admin API client for one running stack. */
export function adminClient(base: string, token: string) {
  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  }

  /** Every delivery the integration's URL received, all pages. */
  async function deliveries(integration: string): Promise<DeliveryView[]> {
    const all: DeliveryView[] = [];
    let next: string | null = null;
    for (let page = 0; page < 1_000; page++) {
      const query: string = `integration=${integration}&limit=100${next ? `&next=${encodeURIComponent(next)}` : ''}`;
      const answer = await call('GET', `/admin/deliveries?${query}`);
      if (answer.status !== 200)
        throw new Error(`deliveries list answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      all.push(...(answer.body.items as DeliveryView[]));
      next = answer.body.next;
      if (!next) return all;
    }
    throw new Error('deliveries list did not end within 1,000 pages');
  }

  return { call, deliveries };
}

/** Polls `done` every 250 ms until it holds or `timeoutMs` passes; true when it held. */
export async function waitUntil(done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The line `hookgate dev` prints once it takes deliveries. */
export const READY = /^Waiting for deliveries; Ctrl-C stops\.$/m;

/**
 * Starts the real stack on `port` with `dataDir`, the webhook secret and the admin token given,
 * and resolves once it takes deliveries (bounded: 30 s). `npm: true` runs it as `npm start`.
 */
export async function startStack(
  options: { port: number; dataDir: string; secret: string; adminToken: string },
  spawn: { npm?: boolean } = {},
): Promise<CliProcess> {
  const dev = startDev(
    [
      '--port',
      String(options.port),
      '--data-dir',
      options.dataDir,
      '--secret',
      options.secret,
      '--admin-token',
      options.adminToken,
    ],
    spawn,
  );
  await dev.waitFor(READY, 30_000);
  return dev;
}

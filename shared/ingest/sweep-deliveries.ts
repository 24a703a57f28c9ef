import type { Deadline } from '../deadline';
import type { Log, Telemetry } from '../observability';
import { DEDUPLICATION_WINDOW_MS, type Queue } from '../queue/queue';
import { receivedSortKeyFrom, receivedSortKeyThrough } from '../store/keys';
import { enqueueDelivery } from './delivery-message';

// The sweeper (DESIGN §11): finds deliveries left unfinished and enqueues them again, so a
// message lost between the webhook and the processor (an enqueue whose reply was lost, a
// crash, a dead letter) still gets decided. It reads each integration's deliveries by receive
// time (gsi2) from a stored checkpoint, so a run reads what is new plus what is still open.

const MINUTE_MS = 60_000;

/**
 * How old an unfinished delivery must be before it is enqueued again. A minute over SQS FIFO's
 * deduplication window from the webhook's send (which follows `receivedAt` by at most the
 * webhook's 10 s), so a re-enqueue is never dropped as a duplicate of the original message.
 */
export const SWEEP_AFTER_MS = DEDUPLICATION_WINDOW_MS + MINUTE_MS;

/**
 * Past this age an unfinished delivery is given up on (counted `DeliveriesStuck`, left for
 * replay) and no longer holds the checkpoint back: one that never gets processed must not make
 * every later run re-read a growing window.
 */
export const SWEEP_MAX_AGE_MS = 24 * 60 * MINUTE_MS;

/** Items per Query page, and pages per integration per run: at most 1,000 items read per integration. */
export const SWEEP_PAGE_SIZE = 200;
export const SWEEP_MAX_PAGES = 5;

/** Room one page (a Query and up to a page of sends) and the checkpoint write need. */
export const SWEEP_PAGE_BUDGET_MS = 5_000;

/** A delivery as the sweep reads it from the index: enough to classify and enqueue it. */
export interface SweptDelivery {
  integration: string;
  deliveryId: string;
  repositoryId?: string | undefined;
  status: string;
  receivedAt: string;
  /** Its position in the index: its `receivedSortKey`. */
  sortKey: string;
}

/** Where an integration's sweep stands (one small item per integration). */
export interface SweepCheckpoint {
  integration: string;
  /** Where the next pass starts (inclusive): the oldest delivery that was still unfinished. */
  from: string;
  /** Set while a pass is cut short by its bounds: the next run continues from here. */
  resumeAt?: string | undefined;
  /** The oldest unfinished delivery seen so far in a pass that is cut short. */
  oldestOpen?: string | undefined;
  /** The greatest sort key ever read: a delivery at or below it was seen by an earlier run. */
  seenTo: string;
  /** When the previous run read this integration. */
  lastRunAt: string;
}

export interface SweepPage {
  items: SweptDelivery[];
  /** Opaque; present when the window holds more. */
  next?: unknown;
}

/** What the sweep reads and writes (DynamoDB on AWS and locally). */
export interface SweepStore {
  /** Every integration name, deleted ones included (their deliveries still count). */
  listIntegrationNames(): Promise<string[]>;
  getCheckpoint(integration: string): Promise<SweepCheckpoint | undefined>;
  putCheckpoint(checkpoint: SweepCheckpoint): Promise<void>;
  /** Deliveries of an integration with `from <= sortKey < to`, oldest first. */
  readDeliveries(
    integration: string,
    from: string,
    to: string,
    limit: number,
    next?: unknown,
  ): Promise<SweepPage>;
}

export type SweepVerdict = 'requeue' | 'wait' | 'parked' | 'stuck' | 'done';

const OPEN = new Set(['received', 'decided']);

/**
 * What to do with one delivery of the window: enqueue it again, wait (enqueued before, not due
 * again yet), count it parked (`failed`: replay retries it, never the sweeper) or stuck (open
 * past the maximum age), or nothing (finished). `requeue` and `wait` keep the checkpoint at it.
 * Each is counted once: a delivery at or below `seenTo` was seen by an earlier run.
 */
export function sweepVerdict(
  delivery: SweptDelivery,
  checkpoint: Pick<SweepCheckpoint, 'seenTo' | 'lastRunAt'> | undefined,
  now: Date,
): SweepVerdict {
  const seen = checkpoint !== undefined && delivery.sortKey <= checkpoint.seenTo;
  if (delivery.status === 'failed') return seen ? 'done' : 'parked';
  if (!OPEN.has(delivery.status)) return 'done';
  const received = Date.parse(delivery.receivedAt);
  const age = now.getTime() - received;
  const previousAge = seen && checkpoint ? Date.parse(checkpoint.lastRunAt) - received : -1;
  if (age >= SWEEP_MAX_AGE_MS) return previousAge < SWEEP_MAX_AGE_MS ? 'stuck' : 'done';
  return !seen || crossedRequeueAge(previousAge, age) ? 'requeue' : 'wait';
}

/**
 * Whether a re-enqueue age (6, 12, 24, 48 … minutes: doubling, so a delivery that keeps failing
 * is enqueued about eight times in its 24 hours, not every run) lies in `(previousAge, age]`.
 */
export function crossedRequeueAge(previousAge: number, age: number): boolean {
  for (let due = SWEEP_AFTER_MS; due <= age; due *= 2) {
    if (due > previousAge) return true;
  }
  return false;
}

/**
 * The sort-key window of a run: from the checkpoint to the deliveries received `SWEEP_AFTER_MS`
 * ago, inclusive. Never older than the maximum age as of the previous run, so a delivery crossing
 * it is read once more and counted stuck.
 */
export function sweepWindow(
  checkpoint: SweepCheckpoint | undefined,
  now: Date,
): { from: string; to: string } {
  const lastRun = checkpoint ? Math.min(Date.parse(checkpoint.lastRunAt), now.getTime()) : now.getTime();
  const oldest = receivedSortKeyFrom(
    new Date(Math.max(lastRun, now.getTime() - SWEEP_MAX_AGE_MS) - SWEEP_MAX_AGE_MS).toISOString(),
  );
  const start = checkpoint?.resumeAt ?? checkpoint?.from ?? oldest;
  return {
    from: start < oldest ? oldest : start,
    to: receivedSortKeyThrough(new Date(now.getTime() - SWEEP_AFTER_MS).toISOString()),
  };
}

export interface SweepDeps {
  store: SweepStore;
  deliveries: Queue;
  deadline: Deadline;
  now: () => Date;
  log: Log;
  telemetry: Telemetry;
}

export interface SweepCounts {
  integrations: number;
  read: number;
  requeued: number;
  parked: number;
  stuck: number;
  /** Integrations left for the next run because the budget ran out. */
  deferred: number;
}

/**
 * One sweep over every integration: re-enqueues (through `enqueueDelivery`) deliveries left
 * `received` or `decided` past `SWEEP_AFTER_MS`, counts `failed` ones as parked, and moves each
 * checkpoint on. Bounded by `SWEEP_MAX_PAGES` per integration and by the deadline; what is left
 * waits for the next run. Throws the store's and queue's errors (a checkpoint is saved only after
 * its deliveries were enqueued, so a failed run is repeated, never skipped).
 */
export async function sweepDeliveries(deps: SweepDeps): Promise<SweepCounts> {
  const counts: SweepCounts = { integrations: 0, read: 0, requeued: 0, parked: 0, stuck: 0, deferred: 0 };
  const names = await deps.store.listIntegrationNames();
  try {
    for (const [index, integration] of names.entries()) {
      if (deps.deadline.shorterThan(2 * SWEEP_PAGE_BUDGET_MS)) {
        counts.deferred = names.length - index;
        break;
      }
      await sweepIntegration(deps, integration, counts);
      counts.integrations++;
    }
  } finally {
    deps.telemetry.count('DeliveriesRequeued', counts.requeued);
    deps.telemetry.count('DeliveriesParked', counts.parked);
    deps.telemetry.count('DeliveriesStuck', counts.stuck);
  }
  deps.log.info('sweep done', { ...counts });
  return counts;
}

async function sweepIntegration(deps: SweepDeps, integration: string, counts: SweepCounts): Promise<void> {
  const now = deps.now();
  const checkpoint = await deps.store.getCheckpoint(integration);
  const { from, to } = sweepWindow(checkpoint, now);
  if (from >= to) return;
  let oldestOpen = checkpoint?.resumeAt ? checkpoint.oldestOpen : undefined;
  let seenTo = checkpoint?.seenTo ?? '';
  let lastRead: string | undefined;
  let next: unknown;
  let pages = 0;
  do {
    const page = await deps.store.readDeliveries(integration, from, to, SWEEP_PAGE_SIZE, next);
    pages++;
    for (const delivery of page.items) {
      counts.read++;
      lastRead = delivery.sortKey;
      const verdict = sweepVerdict(delivery, checkpoint, now);
      if (verdict === 'requeue' || verdict === 'wait') oldestOpen ??= delivery.sortKey;
      if (verdict === 'requeue') {
        await enqueueDelivery(deps.deliveries, delivery);
        counts.requeued++;
        deps.log.warn('delivery left unfinished: enqueued again', {
          integration,
          deliveryId: delivery.deliveryId,
          status: delivery.status,
          receivedAt: delivery.receivedAt,
        });
      } else if (verdict === 'parked') {
        counts.parked++;
        deps.log.warn('delivery parked as failed: replay it once its cause is fixed', {
          integration,
          deliveryId: delivery.deliveryId,
        });
      } else if (verdict === 'stuck') {
        counts.stuck++;
        deps.log.error('delivery still unfinished after a day: no longer enqueued again; replay it', {
          integration,
          deliveryId: delivery.deliveryId,
          status: delivery.status,
        });
      }
    }
    next = page.next;
  } while (next !== undefined && pages < SWEEP_MAX_PAGES && !deps.deadline.shorterThan(SWEEP_PAGE_BUDGET_MS));
  if (lastRead !== undefined && lastRead > seenTo) seenTo = lastRead;
  const lastRunAt = now.toISOString();
  await deps.store.putCheckpoint(
    next === undefined
      ? // The pass reached the window's end: the next one starts at the oldest open delivery, or
        // at this window's end when nothing in it is open.
        { integration, from: oldestOpen ?? to, seenTo, lastRunAt }
      : {
          integration,
          from: checkpoint?.from ?? from,
          resumeAt: lastRead ?? from,
          oldestOpen,
          seenTo,
          lastRunAt,
        },
  );
}

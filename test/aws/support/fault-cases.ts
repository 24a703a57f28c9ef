import { gzipSync } from 'node:zlib';
import { DELIVERY_TTL_DAYS } from '../../../shared/ingest/accept-delivery';
import type { Fault } from '../../support/fault-proxy';
import {
  type Attempt,
  accepted,
  deadLettered,
  deadlineOrFiveHundred,
  deliveryRecord,
  type FaultStack,
  INTEGRATION,
  OP,
  pollAsLambda,
  sendAsBitbucket,
  settle,
  signedPush,
  triggersSent,
} from './fault-matrix';
import { FunctionError, FunctionTimeoutError } from './lambda';

/**
 * The rows of the fault matrix: every AWS call a function makes for one push to the default
 * branch, in the order it makes them (`nth` counts calls of one operation within the function).
 * A test checks that an unfaulted delivery makes exactly these calls, so a change to what a
 * function calls changes the matrix with it.
 */
export const MATRIX_CALLS = {
  webhook: [
    { operation: OP.getItem, nth: 0, purpose: 'reads the integration' },
    { operation: OP.getSecretValue, nth: 0, purpose: 'reads the webhook secret' },
    { operation: OP.putItem, nth: 0, purpose: 'records the delivery' },
    { operation: OP.sendMessage, nth: 0, purpose: 'enqueues the delivery' },
  ],
  processor: [
    { operation: OP.getItem, nth: 0, purpose: 'reads the delivery' },
    { operation: OP.getItem, nth: 1, purpose: 'finds the project of the repository' },
    { operation: OP.getItem, nth: 2, purpose: 'reads the project' },
    { operation: OP.query, nth: 0, purpose: 'lists open pull requests' },
    { operation: OP.updateItem, nth: 0, purpose: 'saves the decisions' },
    { operation: OP.getItem, nth: 3, purpose: 'reads the integration' },
    { operation: OP.putItem, nth: 0, purpose: 'claims the trigger' },
    { operation: OP.sendMessage, nth: 0, purpose: 'sends the trigger' },
    { operation: OP.updateItem, nth: 1, purpose: 'marks the trigger sent' },
    { operation: OP.updateItem, nth: 2, purpose: 'marks the delivery processed' },
  ],
  // The scheduled sweep finding a delivery recorded but never enqueued (its webhook died first).
  sweeper: [
    { operation: OP.query, nth: 0, purpose: 'lists the integrations' },
    { operation: OP.getItem, nth: 0, purpose: 'reads its checkpoint' },
    { operation: OP.query, nth: 1, purpose: 'reads the deliveries past the threshold' },
    { operation: OP.sendMessage, nth: 0, purpose: 'enqueues the delivery again' },
    { operation: OP.putItem, nth: 0, purpose: 'saves its checkpoint' },
  ],
  // `POST /admin/deliveries/{id}/replay` of a delivery already decided and triggered.
  replay: [
    { operation: OP.getItem, nth: 0, purpose: 'reads the delivery' },
    { operation: OP.getItem, nth: 1, purpose: 'reads the integration' },
    { operation: OP.putItem, nth: 0, purpose: 'records the replay' },
    { operation: OP.sendMessage, nth: 0, purpose: 'enqueues the replay' },
  ],
} as const;

export type MatrixFunction = keyof typeof MATRIX_CALLS;

/** The faults of the matrix. A 500 and a 503 are one case: the first call gets 500, the rest 503. */
export const MATRIX_FAULTS = ['hang', 'delay', '5xx', 'throttle', 'drop-reply'] as const;
export type MatrixFault = (typeof MATRIX_FAULTS)[number];

/** One cell: a fault on one call of one function, held until the first attempt (or batch) ends. */
export interface FaultCase {
  id: string;
  functionName: MatrixFunction;
  operation: string;
  nth: number;
  purpose: string;
  fault: MatrixFault;
}

/** What a case saw, plain data (it crosses a process boundary). */
export interface Observation {
  /** Bitbucket's attempts: status, time, whether it gave up waiting. */
  attempts: Array<Pick<Attempt, 'status' | 'ms' | 'timedOut'>>;
  accepted: boolean;
  /** Calls the fault was applied to. */
  faulted: number;
  /** Batches the event source ran. */
  batches: number;
  /** The delivery record's status at the end, if there is one. */
  recordStatus?: string;
  /** Decisions the record holds. */
  decisions: number;
  /** Commit hashes of the triggers on triggers.fifo. */
  triggerCommits: string[];
  /** The case's commit. */
  commit: string;
  deliveryId: string;
  /** Delivery ids on the deliveries DLQ. */
  deadLettered: string[];
  /** Invocations that outlived their deadline or answered 500. */
  deadlineOrFiveHundred: string[];
  /** Replay cases: the operator's attempts, and the replay records left, by id. */
  replays?: Array<{ status: number; deliveryId?: string }>;
  replayRecords?: Record<string, string>;
  /** Sweeper cases: how each scheduled run ended. */
  sweeps?: string[];
  /** How long the case took to set up, and in all (for the report). */
  prepareMs: number;
  totalMs: number;
}

export function matrixCases(): FaultCase[] {
  return Object.entries(MATRIX_CALLS).flatMap(([functionName, calls]) =>
    calls.flatMap((call) =>
      MATRIX_FAULTS.map((fault) => ({
        id: `${functionName}: ${call.purpose} (${call.operation}${call.nth ? ` #${call.nth + 1}` : ''}): ${fault}`,
        functionName: functionName as MatrixFunction,
        operation: call.operation,
        nth: call.nth,
        purpose: call.purpose,
        fault,
      })),
    ),
  );
}

/** The proxy faults a matrix fault stands for, applied from the `after`-th call on. */
function inject(stack: FaultStack, fault: MatrixFault, operation: string, after: number): void {
  const scripted: Record<MatrixFault, Fault[]> = {
    hang: [{ kind: 'hang' }],
    delay: [{ kind: 'delay', ms: 3_500 }],
    '5xx': [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
    ],
    throttle: [{ kind: 'throttle' }],
    'drop-reply': [{ kind: 'drop-reply' }],
  };
  const [first, ...rest] = scripted[fault];
  if (!first) return;
  if (rest.length) stack.proxy.inject(operation, first, { after, times: 1 });
  else stack.proxy.inject(operation, first, { after });
  for (const next of rest) stack.proxy.inject(operation, next);
}

/** How old the sweeper's delivery is: past the sweep threshold (6 minutes), as if its webhook died. */
const UNQUEUED_AGE_MS = 10 * 60_000;
/** An operator repeating a replay that answered 5xx, like Bitbucket: three tries in all. */
const REPLAY_TRIES = 3;

/**
 * Runs one case on a prepared stack. The fault is on from the start of the faulted function's
 * first invocation and lifted when that ends (the webhook: Bitbucket's first attempt; the
 * processor: the first batch; the sweeper: its first scheduled run; replay: the operator's first
 * try): an outage of one attempt's length.
 */
export async function runCase(stack: FaultStack, fault: FaultCase): Promise<Observation> {
  const t0 = Date.now();
  await stack.prepare();
  const prepareMs = Date.now() - t0;
  const delivery = signedPush(stack.secret);
  const commit = JSON.parse(delivery.body).push.changes[0].new.target.hash as string;
  const lift = () => stack.proxy.clear();
  const faultIt = () => inject(stack, fault.fault, fault.operation, fault.nth);

  let attempts: Attempt[] = [];
  let batches = 0;
  const extra: Pick<Observation, 'replays' | 'replayRecords' | 'sweeps'> = {};
  switch (fault.functionName) {
    case 'webhook':
      faultIt();
      attempts = await sendAsBitbucket(stack.stack, delivery, lift);
      lift();
      await settle(stack.proxy);
      batches = await pollAsLambda(stack.stack);
      break;
    case 'processor':
      attempts = await sendAsBitbucket(stack.stack, delivery, () => {});
      faultIt();
      batches = await pollAsLambda(stack.stack, lift);
      lift();
      break;
    case 'sweeper': {
      await recordUnqueued(stack, delivery);
      faultIt();
      const first = await sweep(stack);
      lift();
      await settle(stack.proxy);
      // The next scheduled run.
      extra.sweeps = [first, await sweep(stack)];
      batches = await pollAsLambda(stack.stack);
      break;
    }
    case 'replay': {
      attempts = await sendAsBitbucket(stack.stack, delivery, () => {});
      batches = await pollAsLambda(stack.stack);
      faultIt();
      extra.replays = await replayAsOperator(stack, delivery.deliveryId, lift);
      lift();
      await settle(stack.proxy);
      batches += await pollAsLambda(stack.stack);
      extra.replayRecords = {};
      for (let n = 1; n <= REPLAY_TRIES; n++) {
        const id = `replay-${delivery.deliveryId}-${n}`;
        const replayed = await deliveryRecord(stack, id);
        if (replayed) extra.replayRecords[id] = replayed.status;
      }
      break;
    }
  }
  await settle(stack.proxy);
  const faulted = stack.proxy.calls().filter((c) => c.fault !== undefined).length;
  const record = await deliveryRecord(stack, delivery.deliveryId);
  const triggers = await triggersSent(stack.stack);
  return {
    attempts: attempts.map(({ status, ms, timedOut }) => ({ status, ms, timedOut })),
    // The sweeper's delivery was answered 202 before the case began.
    accepted: fault.functionName === 'sweeper' || accepted(attempts),
    faulted,
    batches,
    ...(record ? { recordStatus: record.status } : {}),
    decisions: record?.decisions?.length ?? 0,
    triggerCommits: triggers.map((t) => t.commit.sha),
    commit,
    deliveryId: delivery.deliveryId,
    deadLettered: await deadLettered(stack.stack),
    deadlineOrFiveHundred: deadlineOrFiveHundred(stack.sandboxes.invocations),
    ...extra,
    prepareMs,
    totalMs: Date.now() - t0,
  };
}

/** The delivery as a webhook that died after recording it (before its enqueue) left it, minutes ago. */
async function recordUnqueued(stack: FaultStack, delivery: ReturnType<typeof signedPush>): Promise<void> {
  const payload = JSON.parse(delivery.body);
  await stack.store.createDelivery(
    {
      integration: INTEGRATION,
      deliveryId: delivery.deliveryId,
      provider: 'bitbucket-cloud',
      eventKey: 'repo:push',
      headers: { 'x-event-key': 'repo:push', 'x-request-uuid': delivery.deliveryId },
      bodyGzip: gzipSync(delivery.body),
      repositoryId: payload.repository.uuid,
      receivedAt: new Date(Date.now() - UNQUEUED_AGE_MS).toISOString(),
    },
    DELIVERY_TTL_DAYS,
  );
}

/** One scheduled run of the sweeper, as EventBridge invokes it: how it ended. */
async function sweep(stack: FaultStack): Promise<string> {
  const sweeper = stack.stack.functions.sweeper;
  if (!sweeper) throw new Error('the template has no sweeper function');
  try {
    await sweeper.invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    return 'answered';
  } catch (error) {
    if (error instanceof FunctionTimeoutError) return 'timeout';
    if (error instanceof FunctionError) return `error: ${error.message}`;
    throw error;
  }
}

/** `hookgate deliveries replay` as an operator runs it: again after a 5xx, three tries in all. */
async function replayAsOperator(
  stack: FaultStack,
  deliveryId: string,
  afterFirst: () => void,
): Promise<NonNullable<Observation['replays']>> {
  const replays: NonNullable<Observation['replays']> = [];
  for (let n = 1; n <= REPLAY_TRIES; n++) {
    const answer = await stack.stack.admin(
      'POST',
      `deliveries/${encodeURIComponent(deliveryId)}/replay?integration=${INTEGRATION}`,
    );
    const replayed = (answer.json as { deliveryId?: string } | undefined)?.deliveryId;
    replays.push({ status: answer.status, ...(replayed ? { deliveryId: replayed } : {}) });
    if (n === 1) afterFirst();
    if (answer.status < 500) break;
  }
  return replays;
}

/** The calls each flow makes unfaulted, as `operation#nth` rows, per matrix function. */
export async function unfaultedCalls(stack: FaultStack): Promise<Record<MatrixFunction, string[]>> {
  const rows = (prefix: string) => {
    const seen = new Map<string, number>();
    return stack.proxy
      .calls()
      .filter((c) => c.door.startsWith(`${prefix}-`))
      .map((c) => {
        const nth = seen.get(c.operation) ?? 0;
        seen.set(c.operation, nth + 1);
        return `${c.operation}#${nth}`;
      });
  };
  await stack.prepare();
  const delivery = signedPush(stack.secret);
  await sendAsBitbucket(stack.stack, delivery, () => {});
  await pollAsLambda(stack.stack);
  const webhook = rows('webhook');
  const processor = rows('processor');
  await replayAsOperator(stack, delivery.deliveryId, () => {});
  const replay = rows('admin');

  await stack.prepare();
  await recordUnqueued(stack, signedPush(stack.secret));
  await sweep(stack);
  return { webhook, processor, replay, sweeper: rows('sweeper') };
}

import type { Fault } from '../../support/fault-proxy';
import {
  type Attempt,
  accepted,
  deadLettered,
  deadlineOrFiveHundred,
  deliveryRecord,
  type FaultStack,
  OP,
  pollAsLambda,
  sendAsBitbucket,
  settle,
  signedPush,
  triggersSent,
} from './fault-matrix';

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

/**
 * Runs one case on a prepared stack: a signed push sent as Bitbucket sends it, then the deliveries
 * queue polled as Lambda's event source does. The fault is on from the start and lifted when the
 * first attempt (webhook) or the first batch (processor) ends: an outage of one attempt's length.
 */
export async function runCase(stack: FaultStack, fault: FaultCase): Promise<Observation> {
  await stack.prepare();
  const delivery = signedPush(stack.secret);
  const commit = JSON.parse(delivery.body).push.changes[0].new.target.hash as string;
  const lift = () => stack.proxy.clear();

  let attempts: Attempt[];
  let batches: number;
  if (fault.functionName === 'webhook') {
    inject(stack, fault.fault, fault.operation, fault.nth);
    attempts = await sendAsBitbucket(stack.stack, delivery, lift);
    lift();
    await settle(stack.proxy);
    batches = await pollAsLambda(stack.stack);
  } else {
    attempts = await sendAsBitbucket(stack.stack, delivery, () => {});
    inject(stack, fault.fault, fault.operation, fault.nth);
    batches = await pollAsLambda(stack.stack, lift);
    lift();
  }
  await settle(stack.proxy);
  const faulted = stack.proxy.calls().filter((c) => c.fault !== undefined).length;
  const record = await deliveryRecord(stack, delivery.deliveryId);
  const triggers = await triggersSent(stack.stack);
  return {
    attempts: attempts.map(({ status, ms, timedOut }) => ({ status, ms, timedOut })),
    accepted: accepted(attempts),
    faulted,
    batches,
    ...(record ? { recordStatus: record.status } : {}),
    decisions: record?.decisions?.length ?? 0,
    triggerCommits: triggers.map((t) => t.commit.sha),
    commit,
    deliveryId: delivery.deliveryId,
    deadLettered: await deadLettered(stack.stack),
    deadlineOrFiveHundred: deadlineOrFiveHundred(stack.sandboxes.invocations),
  };
}

/** The calls an unfaulted delivery makes, per function, as `operation#nth` rows. */
export async function unfaultedCalls(stack: FaultStack): Promise<Record<MatrixFunction, string[]>> {
  await stack.prepare();
  await sendAsBitbucket(stack.stack, signedPush(stack.secret), () => {});
  await pollAsLambda(stack.stack);
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
  return { webhook: rows('webhook'), processor: rows('processor') };
}

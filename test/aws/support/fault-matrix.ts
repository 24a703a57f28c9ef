import { randomBytes, randomUUID } from 'node:crypto';
import { signBody } from '../../../shared/bitbucket/signature';
import { type TriggerMessage, TriggerMessageSchema } from '../../../shared/domain/trigger-message';
import { DynamoIngestStore } from '../../../shared/store/dynamo-ingest-store';
import { sdkDynamoApi } from '../../../shared/store/sdk-dynamo-api';
import type { DeliveryRecord } from '../../../shared/store/store';
import { type Fault, type FaultProxy, startFaultProxy } from '../../support/fault-proxy';
import { push, REPO } from '../../support/ingest-stack';
import { type AwsStack, type HttpResponse, startAwsStack } from './aws-stack';
import { type FaultSandboxes, type Invocation, sandboxFunctions } from './fault-sandboxes';

export const INTEGRATION = 'acme';

/** The operations as the proxy names them (`X-Amz-Target`). */
export const OP = {
  getItem: 'DynamoDB_20120810.GetItem',
  putItem: 'DynamoDB_20120810.PutItem',
  updateItem: 'DynamoDB_20120810.UpdateItem',
  deleteItem: 'DynamoDB_20120810.DeleteItem',
  query: 'DynamoDB_20120810.Query',
  sendMessage: 'AmazonSQS.SendMessage',
  getSecretValue: 'secretsmanager.GetSecretValue',
} as const;

/**
 * The short budget the fault cases give a function's context (the product derives its budget
 * from what the context says remains, DESIGN §11), and a delay past any attempt that fits in it.
 */
export const SHORT_TIMEOUT_SECONDS = 3;
export const DELAY_MS = 3_500;

/** The fault list of the matrix: 500 and 503 are two cases of one kind. */
export const FAULT_CASES: ReadonlyArray<readonly [string, Fault]> = [
  ['hang', { kind: 'hang' }],
  ['delay past the attempt timeout', { kind: 'delay', ms: DELAY_MS }],
  ['500', { kind: 'status', status: 500 }],
  ['503', { kind: 'status', status: 503 }],
  ['throttle', { kind: 'throttle' }],
  ['reply dropped', { kind: 'drop-reply' }],
];

/** Bitbucket's own limits: an answer later than this is a timeout, and it sends at most 3 times. */
export const BITBUCKET_TIMEOUT_MS = 10_000;
export const BITBUCKET_ATTEMPTS = 3;

export interface FaultStack {
  stack: AwsStack;
  proxy: FaultProxy;
  sandboxes: FaultSandboxes;
  store: DynamoIngestStore;
  /** The webhook secret of the case's integration. */
  secret: string;
  /** Forgets moto's state, the proxy's faults and calls and every sandbox, then creates the integration and project. */
  prepare(): Promise<void>;
  stop(): Promise<void>;
}

/** The harness with the functions' AWS calls routed through a fault proxy, one sandbox per door. */
export async function startFaultStack(): Promise<FaultStack> {
  let proxy: FaultProxy | undefined;
  const stack = await startAwsStack({
    functionEndpoint: async (moto) => {
      proxy = await startFaultProxy(moto);
      return proxy.endpoint;
    },
  });
  if (!proxy) throw new Error('the harness did not ask for the function endpoint');
  const faults = proxy;
  const sandboxes = sandboxFunctions(stack, faults);
  const result: FaultStack = {
    stack,
    proxy: faults,
    sandboxes,
    store: new DynamoIngestStore(sdkDynamoApi(stack.clients.dynamo), stack.tableName),
    secret: '',
    async prepare() {
      faults.reset();
      await sandboxes.recycle();
      await stack.reset();
      for (const name of Object.keys(stack.functions)) sandboxes.setTimeout(name, undefined);
      const created = await stack.admin('POST', 'integrations', {
        name: INTEGRATION,
        provider: 'bitbucket-cloud',
        scope: 'default',
      });
      if (created.status !== 201) throw new Error(`create integration: ${created.status} ${created.body}`);
      result.secret = (created.json as { webhookSecret: string }).webhookSecret;
      const connected = await stack.admin('POST', 'projects', {
        integration: INTEGRATION,
        repository: 'cloudbeers/temp',
        repositoryId: REPO,
        defaultBranch: 'main',
      });
      if (connected.status !== 201) throw new Error(`connect project: ${connected.status} ${connected.body}`);
      // The setup's own calls are not the case's.
      faults.reset();
      await sandboxes.recycle();
    },
    async stop() {
      await sandboxes.recycle();
      await faults.stop();
      await stack.stop();
    },
  };
  return result;
}

/** A signed push to main with a commit of its own (so its trigger id is the case's own). */
export function signedPush(secret: string): {
  deliveryId: string;
  body: string;
  headers: Record<string, string>;
} {
  const body = JSON.stringify(
    push('main', (payload) => {
      payload.push.changes[0].new.target.hash = randomBytes(20).toString('hex');
    }),
  );
  const deliveryId = randomUUID();
  return {
    deliveryId,
    body,
    headers: {
      'content-type': 'application/json',
      'x-event-key': 'repo:push',
      'x-request-uuid': deliveryId,
      'x-hook-uuid': '{d6a9a2f4-4d1c-4d5b-9a7e-0d6f6f7b0c11}',
      'user-agent': 'Bitbucket-Webhooks/2.0',
      'x-hub-signature': signBody(body, secret),
    },
  };
}

/** One attempt as the sender saw it. */
export interface Attempt {
  status: number;
  ms: number;
  /** Whether the sender gave up waiting (Bitbucket: 10 s). */
  timedOut: boolean;
  response: HttpResponse;
}

/**
 * Acts as Bitbucket Cloud: sends the same bytes with the same delivery id, again after a 5xx or
 * a timeout (10 s), at most 3 times; a 2xx or 4xx is final. `afterFirst` runs after the first
 * attempt (the test lifts its fault there).
 */
export async function sendAsBitbucket(
  stack: AwsStack,
  delivery: { body: string; headers: Record<string, string> },
  afterFirst: () => void,
): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let n = 1; n <= BITBUCKET_ATTEMPTS; n++) {
    const started = Date.now();
    const response = await stack.request({
      method: 'POST',
      path: `/webhooks/${INTEGRATION}`,
      headers: { ...delivery.headers, 'x-attempt-number': String(n) },
      body: delivery.body,
    });
    const ms = Date.now() - started;
    const timedOut = ms > BITBUCKET_TIMEOUT_MS;
    attempts.push({ status: response.status, ms, timedOut, response });
    if (n === 1) afterFirst();
    if (!timedOut && response.status < 500) break;
  }
  return attempts;
}

/** Whether a sender would count the delivery accepted: some attempt got a 2xx in time. */
export function accepted(attempts: readonly Attempt[]): boolean {
  return attempts.some((a) => !a.timedOut && a.status >= 200 && a.status < 300);
}

/**
 * Acts as Lambda's SQS event source on `deliveries.fifo`: a failed record is made visible again at
 * once (the visibility timeout, shortened), and moto moves it to the DLQ after 5 receives.
 * `afterFirst` runs after the first batch. Bounded: 12 batches.
 */
export async function pollAsLambda(stack: AwsStack, afterFirst: () => void = () => {}): Promise<number> {
  let batches = 0;
  for (; batches < 12; batches++) {
    const result = await stack.pollOnce({ redeliverFailedNow: true });
    if (batches === 0) afterFirst();
    if (!result) break;
  }
  return batches;
}

/**
 * Waits until the proxy has nothing in flight but hung calls (a delayed call is applied late,
 * as AWS would), at most `limitMs`.
 */
export async function settle(proxy: FaultProxy, limitMs = DELAY_MS + 2_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    const open = proxy.calls().filter((c) => c.endedAt === undefined && c.fault !== 'hang');
    if (open.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The triggers on triggers.fifo (read and deleted). */
export async function triggersSent(stack: AwsStack): Promise<TriggerMessage[]> {
  return (await stack.receiveAll('triggers')).map((m) => TriggerMessageSchema.parse(JSON.parse(m.body)));
}

/** Ids of the delivery messages dead-lettered. */
export async function deadLettered(stack: AwsStack): Promise<string[]> {
  return (await stack.receiveAll('deliveries-dlq')).map(
    (m) => (JSON.parse(m.body) as { deliveryId: string }).deliveryId,
  );
}

export async function deliveryRecord(
  fault: FaultStack,
  deliveryId: string,
): Promise<DeliveryRecord | undefined> {
  return fault.store.getDelivery(INTEGRATION, deliveryId);
}

/** Invocations that ended after their deadline (Lambda's timeout) or answered 500. */
export function deadlineOrFiveHundred(invocations: readonly Invocation[]): string[] {
  return invocations.flatMap((i) => {
    const problems: string[] = [];
    if (i.outcome === 'timeout' || i.endedAt - i.startedAt > i.timeoutMs) {
      problems.push(`${i.functionName} ran ${i.endedAt - i.startedAt} ms of its ${i.timeoutMs} ms`);
    }
    if (i.status === 500) problems.push(`${i.functionName} answered 500`);
    return problems;
  });
}

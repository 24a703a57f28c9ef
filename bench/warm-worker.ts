// The warm measurement, in a process of its own (stdout discarded: the handlers' Powertools logs
// and metrics are written there, as on Lambda). Started by bench/warm.ts, which reads the result
// over IPC. Network mocked below the clients: AwsJsonClient's transport (what the handlers call
// AWS with, given to the webhook as deployed) and the SDK's NodeHttpHandler.handle (the
// processor and the reference SDK call) answer from an in-process fake, so signing,
// serialisation, retries and parsing all run.
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse } from 'aws-lambda';
import { createWebhookHandler, webhookDeps } from '../functions/webhook/app';
import { config } from '../functions/webhook/config';
import type { AwsTransport } from '../shared/aws/aws-json-client';
import { noTelemetry, silentLog } from '../shared/observability';
import { sqsJsonApi } from '../shared/queue/sqs-api';
import { SqsQueue } from '../shared/queue/sqs-queue';
import { getSecretValueJson, SecretsManagerReader } from '../shared/secrets/secrets-manager-reader';
import { dynamoJsonApi } from '../shared/store/dynamo-api';
import { key } from '../shared/store/dynamo-items';
import { DynamoStore } from '../shared/store/dynamo-store';
import { integrationKey } from '../shared/store/keys';
import { type Caller, CallLedger, type PerDelivery } from './lib/calls';
import {
  type CorpusEntry,
  DeliveryPlanner,
  isPush,
  loadCorpus,
  type PlanMix,
  seededRandom,
  variantBody,
} from './lib/corpus';
import { FakeAws, requestText, sdkResponse, targetOf } from './lib/fake-aws';
import { benchContext, deliveriesEvent, INTEGRATIONS, seedStore, webhookEvent } from './lib/seed';

export interface WarmRequest {
  warmup: number;
  iterations: number;
  /** Deliveries of the accounting pass (CallAccounting). */
  accountingDeliveries: number;
}

/** One invocation of the accounting pass: its CPU and its AWS calls by service. */
export interface InvocationSample {
  /** CPU microseconds, the fake's own taken out. */
  cpuUs: number;
  /** Calls by service (`DynamoDB`, `SQS`, `SecretsManager`). */
  calls: Record<string, number>;
}

/**
 * The accounting pass: deliveries in the corpus's event mix (every payload alike), a tenth of
 * them an earlier delivery resent (Bitbucket's retry) and a tenth an earlier commit under a new
 * delivery id (a second hook, a DC double send), each through the webhook and, when it enqueued
 * one, the processor. Calls per delivery are per webhook delivery for the webhook and per
 * delivery the processor handled for the processor.
 */
export interface CallAccounting {
  deliveries: number;
  /** Deliveries the webhook enqueued, each handed to the processor in an event of its own. */
  processed: number;
  /** Triggers the processor sent. */
  triggers: number;
  mix: Record<'fresh' | 'same-commit' | 'retry', number>;
  webhook: PerDelivery;
  processor: PerDelivery;
  invocations: Record<Caller, InvocationSample[]>;
}

/** CPU microseconds per call, one entry per measured iteration. */
export interface WarmSamples {
  /** functions/webhook/handler.ts: Powertools logger and metrics, SDK adapters. */
  webhook: number[];
  /** functions/processor/handler.ts, one delivery per SQS event. */
  processor: number[];
  /** HMAC-SHA256 of the body and JSON.parse of it: the least any webhook must do. */
  floor: number[];
  /** functions/webhook/app.ts with a silent log and no metrics, on the same SDK adapters. */
  webhookNoPowertools: number[];
  /** gzip level 1 of the body, as the webhook stores it. */
  gzip: number[];
  /** One DynamoDB GetItem through the SDK. */
  sdkCall: number[];
  /** The same GetItem through AwsJsonClient, as the handlers call DynamoDB. */
  jsonCall: number[];
  /** The fake's own CPU per webhook and per processor call (already taken out of those samples). */
  fakeWebhook: number[];
  fakeProcessor: number[];
  /** SDK calls per webhook and per processor invocation, on average. */
  callsPerWebhook: number;
  callsPerProcessor: number;
  /** Invocations that did not answer as expected (202, no batch failures). */
  errors: string[];
  /** AWS calls and units per delivery in a realistic mix (see CallAccounting). */
  accounting?: CallAccounting;
}

/** The accounting pass's mix: retries and repeated commits a fifth of all deliveries together. */
export function accountingMix(corpus: readonly CorpusEntry[]): PlanMix {
  return { retry: 0.1, sameCommit: 0.1, push: corpus.filter(isPush).length / corpus.length };
}

const fake = new FakeAws();
let fakeMicros = 0;
let fakeCalls = 0;
// Who the calls being answered are for (the accounting pass only) and what they were.
const ledger = new CallLedger();
let caller: Caller | undefined;
let invocationCalls: Record<string, number> = {};
fake.meter = (call) => {
  if (!caller) return;
  ledger.record(caller, call);
  invocationCalls[call.service] = (invocationCalls[call.service] ?? 0) + 1;
};

// Every client in this process answers from `fake`; nothing reaches a socket.
const transport: AwsTransport = async (request) => {
  const started = process.cpuUsage();
  const reply = fake.answer(targetOf(request.headers), request.body);
  const spent = process.cpuUsage(started);
  fakeMicros += spent.user + spent.system;
  fakeCalls += 1;
  return { status: reply.status, body: reply.body };
};

NodeHttpHandler.prototype.handle = async function handle(request) {
  const started = process.cpuUsage();
  const response = sdkResponse(fake.answer(targetOf(request.headers), requestText(request.body)));
  const spent = process.cpuUsage(started);
  fakeMicros += spent.user + spent.system;
  fakeCalls += 1;
  return response as Awaited<ReturnType<NodeHttpHandler['handle']>>;
};

function cpuSince(started: NodeJS.CpuUsage): number {
  const spent = process.cpuUsage(started);
  return spent.user + spent.system;
}

async function run(request: WarmRequest): Promise<WarmSamples> {
  const corpus = loadCorpus();
  const dynamo = new DynamoDBClient({});
  // The webhook's own settings (functions/webhook/config.ts), over the fake.
  const dynamoJson = dynamoJsonApi({ ...config.aws.dynamodb, transport });
  const store = new DynamoStore(dynamoJson, config.tableName);
  await seedStore(store, fake, corpus);
  const webhookModule = await import('../functions/webhook/handler');
  const processorModule = await import('../functions/processor/handler');
  const webhook = webhookModule.createDeployedWebhookHandler({ transport }) as unknown as (
    e: unknown,
    c: Context,
  ) => Promise<APIGatewayProxyStructuredResultV2>;
  const processor = processorModule.handler as unknown as (
    e: unknown,
    c: Context,
  ) => Promise<SQSBatchResponse>;
  const plain = createWebhookHandler(
    webhookDeps({
      store,
      deliveries: new SqsQueue(sqsJsonApi({ ...config.aws.sqs, transport }), config.deliveriesQueueUrl),
      secretStore: new SecretsManagerReader(getSecretValueJson({ ...config.aws.secretsmanager, transport })),
      log: silentLog,
      telemetry: noTelemetry,
    }),
  ) as unknown as (e: unknown, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  const integrationItemKey = key(integrationKey(INTEGRATIONS['bitbucket-cloud'].name));

  // Every payload of the corpus in turn, in a shuffled order so kinds do not come in runs.
  const random = seededRandom(7);
  const order = corpus.map((_, index) => index).sort(() => random() - 0.5);
  const samples: WarmSamples = {
    webhook: [],
    processor: [],
    floor: [],
    webhookNoPowertools: [],
    gzip: [],
    sdkCall: [],
    jsonCall: [],
    fakeWebhook: [],
    fakeProcessor: [],
    callsPerWebhook: 0,
    callsPerProcessor: 0,
    errors: [],
  };
  let webhookCalls = 0;
  let processorCalls = 0;
  const total = request.warmup + request.iterations;
  for (let i = 0; i < total; i++) {
    const keep = i >= request.warmup;
    const entry = corpus[order[i % order.length] as number];
    if (!entry) throw new Error('empty corpus');
    const body = variantBody(entry, i + 1);
    const secret = INTEGRATIONS[entry.provider].secret;

    let started = process.cpuUsage();
    createHmac('sha256', secret).update(body).digest();
    JSON.parse(body.toString('utf8'));
    const floor = cpuSince(started);

    started = process.cpuUsage();
    gzipSync(body, { level: 1 });
    const gzip = cpuSince(started);

    const event = webhookEvent(entry, body, randomUUID());
    fake.messages.length = 0;
    fakeMicros = 0;
    fakeCalls = 0;
    started = process.cpuUsage();
    const answer = await webhook(event, benchContext('hookgate-bench-webhook') as Context);
    const webhookCpu = cpuSince(started) - fakeMicros;
    const webhookFake = fakeMicros;
    webhookCalls += fakeCalls;
    if (answer.statusCode !== 202)
      samples.errors.push(`webhook ${entry.path}: ${answer.statusCode} ${answer.body}`);

    const message = fake.messages.at(-1);
    let processorCpu = 0;
    let processorFake = 0;
    if (message) {
      const sqsEvent = deliveriesEvent([message]);
      fakeMicros = 0;
      fakeCalls = 0;
      started = process.cpuUsage();
      const result = await processor(sqsEvent, benchContext('hookgate-bench-processor') as Context);
      processorCpu = cpuSince(started) - fakeMicros;
      processorFake = fakeMicros;
      processorCalls += fakeCalls;
      if (result.batchItemFailures.length > 0) samples.errors.push(`processor ${entry.path}: failed`);
    }
    fake.messages.length = 0;

    const again = webhookEvent(entry, body, randomUUID());
    fakeMicros = 0;
    started = process.cpuUsage();
    await plain(again, benchContext('hookgate-bench-webhook') as Context);
    const plainCpu = cpuSince(started) - fakeMicros;
    fake.messages.length = 0;

    fakeMicros = 0;
    started = process.cpuUsage();
    await dynamo.send(
      new GetItemCommand({ TableName: config.tableName, Key: integrationItemKey, ConsistentRead: true }),
    );
    const sdkCall = cpuSince(started) - fakeMicros;

    fakeMicros = 0;
    started = process.cpuUsage();
    await dynamoJson.getItem({
      TableName: config.tableName,
      Key: integrationItemKey,
      ConsistentRead: true,
    });
    const jsonCall = cpuSince(started) - fakeMicros;

    if (!keep) continue;
    samples.floor.push(floor);
    samples.gzip.push(gzip);
    samples.webhook.push(webhookCpu);
    samples.fakeWebhook.push(webhookFake);
    if (message) {
      samples.processor.push(processorCpu);
      samples.fakeProcessor.push(processorFake);
    }
    samples.webhookNoPowertools.push(plainCpu);
    samples.sdkCall.push(sdkCall);
    samples.jsonCall.push(jsonCall);
  }
  samples.callsPerWebhook = webhookCalls / total;
  samples.callsPerProcessor = processorCalls / total;
  samples.accounting = await accountCalls(
    corpus,
    request.accountingDeliveries,
    webhook,
    processor,
    samples.errors,
  );
  samples.errors = samples.errors.slice(0, 20);
  return samples;
}

type Handler<T> = (event: unknown, context: Context) => Promise<T>;

/** The accounting pass (CallAccounting), after the CPU measurement, on the same warm handlers. */
async function accountCalls(
  corpus: readonly CorpusEntry[],
  deliveries: number,
  webhook: Handler<APIGatewayProxyStructuredResultV2>,
  processor: Handler<SQSBatchResponse>,
  errors: string[],
): Promise<CallAccounting> {
  const planner = new DeliveryPlanner(corpus, randomUUID, seededRandom(11), accountingMix(corpus));
  const invocations: Record<Caller, InvocationSample[]> = { webhook: [], processor: [] };
  const mix = { fresh: 0, 'same-commit': 0, retry: 0 };
  let processed = 0;
  let triggers = 0;
  const invoke = async <T>(who: Caller, run: () => Promise<T>): Promise<T> => {
    caller = who;
    invocationCalls = {};
    fakeMicros = 0;
    const started = process.cpuUsage();
    try {
      return await run();
    } finally {
      invocations[who].push({ cpuUs: cpuSince(started) - fakeMicros, calls: invocationCalls });
      caller = undefined;
    }
  };
  for (let i = 0; i < deliveries; i++) {
    const plan = planner.next();
    mix[plan.kind] += 1;
    const entry = corpus[plan.entry] as CorpusEntry;
    const body = variantBody(entry, plan.variant);
    fake.messages.length = 0;
    const event = webhookEvent(entry, body, plan.deliveryId);
    const answer = await invoke('webhook', () =>
      webhook(event, benchContext('hookgate-bench-webhook') as Context),
    );
    if (answer.statusCode !== 202) errors.push(`accounting webhook ${entry.path}: ${answer.statusCode}`);
    const message = fake.messages.at(-1);
    fake.messages.length = 0;
    if (!message) continue;
    processed += 1;
    const sqsEvent = deliveriesEvent([message]);
    const result = await invoke('processor', () =>
      processor(sqsEvent, benchContext('hookgate-bench-processor') as Context),
    );
    if (result.batchItemFailures.length > 0) errors.push(`accounting processor ${entry.path}: failed`);
    triggers += fake.messages.length;
    fake.messages.length = 0;
  }
  return {
    deliveries,
    processed,
    triggers,
    mix,
    webhook: ledger.perDelivery('webhook', deliveries),
    processor: ledger.perDelivery('processor', processed),
    invocations,
  };
}

process.once('message', (request: WarmRequest) => {
  run(request).then(
    (samples) => process.send?.({ ok: true, samples }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.(
        { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
        () => process.exit(1),
      ),
  );
});

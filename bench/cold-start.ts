import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { repositoryIdOf } from '../shared/ingest/accept-delivery';
import { dynamoJsonApi } from '../shared/store/dynamo-api';
import { DynamoStore } from '../shared/store/dynamo-store';
import { type CorpusEntry, variantBody } from './lib/corpus';
import { FakeAws, fakeTransport, startFakeAwsServer } from './lib/fake-aws';
import { type FunctionName, functionEnvironment, REGION, TABLE_NAME } from './lib/functions';
import { adminEvent, deliveriesEvent, INTEGRATIONS, seedStore, webhookEvent } from './lib/seed';

const HARNESS = fileURLToPath(new URL('./lib/cold-harness.mjs', import.meta.url));

export interface ColdStartRuns {
  /** Milliseconds from spawn to exit of `node -e 0`. */
  baseline: number[];
  /** Milliseconds from spawn to exit of a process that loads the bundle and answers one event. */
  samples: Partial<Record<FunctionName, number[]>>;
  /** Why a function's runs stopped (it did not answer as expected). */
  failures: Partial<Record<FunctionName, string>>;
  /** Inside each kept run: ms to load the bundle, and to serve the first event once loaded. */
  phases: Partial<Record<FunctionName, { load: number[]; firstEvent: number[] }>>;
}

export interface ColdStartOptions {
  bundles: Partial<Record<FunctionName, { file: string }>>;
  corpus: readonly CorpusEntry[];
  runs: number;
  /** Rounds run first and thrown away: the page cache, not the code, is warm after them. */
  warmupRounds?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Spawns fresh `node` processes that import a bundle and serve its first event, against a
 * loopback fake of DynamoDB, SQS and Secrets Manager (`AWS_ENDPOINT_URL`, fake credentials).
 * Rounds interleave the `node -e 0` baseline and every function, rotating their order, so load
 * from other work on the machine falls on all of them alike.
 */
export async function measureColdStarts(options: ColdStartOptions): Promise<ColdStartRuns> {
  const fake = new FakeAws();
  fake.keepMessages = false;
  const server = await startFakeAwsServer(fake);
  const client = dynamoJsonApi({
    region: REGION,
    credentials: { accessKeyId: 'AKIDBENCHFAKE', secretAccessKey: 'bench-fake-secret-key' },
    transport: fakeTransport(fake),
  });
  const store = new DynamoStore(client, TABLE_NAME);
  try {
    await seedStore(store, fake, options.corpus);
    const push = options.corpus.find((entry) => entry.platform === 'cloud' && entry.heads.length > 0);
    if (!push) throw new Error('the corpus has no Cloud push');
    const names = Object.keys(options.bundles) as FunctionName[];
    const result: ColdStartRuns = { baseline: [], samples: {}, failures: {}, phases: {} };
    const warmup = options.warmupRounds ?? 2;
    const rounds = warmup + options.runs;
    for (let round = 0; round < rounds; round++) {
      const keep = round >= warmup;
      const order: (FunctionName | 'baseline')[] = ['baseline', ...names];
      const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      for (const what of rotated) {
        if (what === 'baseline') {
          const ms = await timeProcess(['-e', '0'], { PATH: process.env.PATH ?? '' });
          if (keep) result.baseline.push(ms.elapsed);
          continue;
        }
        if (result.failures[what]) continue;
        const bundle = options.bundles[what];
        if (!bundle) continue;
        const event = await eventFor(what, { push, round, store });
        const run = await timeProcess([HARNESS], {
          PATH: process.env.PATH ?? '',
          ...functionEnvironment(what, server.url),
          AWS_ENDPOINT_URL: server.url,
          BENCH_BUNDLE: pathToFileURL(bundle.file).href,
          BENCH_EVENT: JSON.stringify(event),
        });
        const answer = readAnswer(what, run);
        if (typeof answer === 'string') {
          result.failures[what] = answer;
          continue;
        }
        if (!keep) continue;
        const samples = result.samples[what] ?? [];
        const phases = result.phases[what] ?? { load: [], firstEvent: [] };
        samples.push(run.elapsed);
        phases.load.push(answer.loaded - answer.started);
        phases.firstEvent.push(answer.answered - answer.loaded);
        result.samples[what] = samples;
        result.phases[what] = phases;
      }
      options.onProgress?.(round + 1, rounds);
    }
    return result;
  } finally {
    client.destroy();
    await server.close();
  }
}

async function eventFor(
  name: FunctionName,
  context: { push: CorpusEntry; round: number; store: DynamoStore },
): Promise<unknown> {
  const { push, round, store } = context;
  const body = variantBody(push, 1_000_000 + round);
  if (name === 'webhook') return webhookEvent(push, body, randomUUID());
  if (name === 'admin') return adminEvent();
  // The processor's first event names a delivery the webhook stored: store one the same way.
  const integration = INTEGRATIONS[push.provider].name;
  const deliveryId = randomUUID();
  const repositoryId = repositoryIdOf(JSON.parse(body.toString('utf8')));
  await store.createDelivery(
    {
      integration,
      deliveryId,
      provider: push.provider,
      eventKey: push.eventKey,
      headers: { 'x-event-key': push.eventKey, 'x-request-uuid': deliveryId },
      bodyGzip: gzipSync(body, { level: 1 }),
      ...(repositoryId ? { repositoryId } : {}),
      receivedAt: new Date().toISOString(),
    },
    30,
  );
  return deliveriesEvent([
    { body: JSON.stringify({ integration, deliveryId }), groupId: `${integration}#${repositoryId}` },
  ]);
}

interface TimedProcess {
  elapsed: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function timeProcess(args: string[], env: Record<string, string>): Promise<TimedProcess> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let elapsed = 0;
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('exit', () => {
      elapsed = performance.now() - started;
    });
    child.once('close', (code) =>
      resolve({
        elapsed,
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

interface HarnessTimings {
  started: number;
  loaded: number;
  answered: number;
}

/** The harness's timings, or why the run does not count (it failed or answered wrongly). */
function readAnswer(name: FunctionName, run: TimedProcess): HarnessTimings | string {
  const line = run.stdout.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (run.code !== 0 || !line) {
    const reason = run.stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${run.code}`;
    return `did not answer: ${reason.slice(0, 300)}`;
  }
  const { result, timings } = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    result: { statusCode?: number; batchItemFailures?: unknown[] };
    timings: HarnessTimings;
  };
  if (name === 'processor') {
    return result.batchItemFailures?.length === 0
      ? timings
      : `answered ${JSON.stringify(result).slice(0, 200)}`;
  }
  const expected = name === 'webhook' ? 202 : 200;
  return result.statusCode === expected ? timings : `answered ${result.statusCode}, not ${expected}`;
}

/// <reference path="./autocannon.d.ts" />
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import autocannon from 'autocannon';
import { PROJECT_ROOT } from '../infra/bundling';
import { LOCAL_INTEGRATION } from '../local/bootstrap';
import { dataDirOf } from '../local/data-dir';
import { startLocalDynamo } from '../local/dynamo';
import { readEndpoint } from '../local/endpoint-file';
import { parseJournal, parseNdjson } from '../local/queue-journal';
import { deliveriesByIntegrationKey } from '../shared/store/keys';
import {
  type Accounting,
  account,
  decidedDeliveries,
  decisionSetsOf,
  expectedTriggerIds,
  type Recorded,
  triggerIdsOfNdjson,
} from './lib/accounting';
import { type CorpusEntry, DeliveryPlanner, deliveryHeaders, variantBody } from './lib/corpus';
import { type FlowRecord, type PhaseFlow, phaseFlow, type Window } from './lib/flow';
import { pacedLoad } from './lib/paced-load';
import { type Stamps, startStamping } from './lib/stamps';
import { percentile } from './lib/stats';

const BIN = join(PROJECT_ROOT, 'bin/hookgate.mjs');
const DEFAULT_BRANCH = 'main';
/** Requests a paced phase may have waiting for an answer; beyond it a due request is skipped. */
const PACED_MAX_IN_FLIGHT = 256;
const REQUEST_TIMEOUT_MS = 10_000;
const MIN_LAST_DRAIN_MS = 5_000;

/** One load phase of the end-to-end run. */
export interface PhaseSpec {
  /** `r100`, `c8`: how results.json names it. */
  key: string;
  /** `100/s offered`, `8 connections`: how the table names it. */
  name: string;
  /**
   * Requests per second offered on a fixed schedule whatever the answers (lib/paced-load.ts), to
   * measure latency below saturation. Without it, autocannon sends as fast as `connections`
   * connections are answered: the most the stack takes.
   */
  rate?: number;
  connections: number;
  durationSeconds: number;
  /** Closed-loop phases only: autocannon's warm-up, part of the phase's window. */
  warmupSeconds: number;
  /** Wait for the queues to drain after this phase (drain times are measured). */
  drain: boolean;
  /** How long that drain may take; then the run goes on and what is queued stays queued. */
  drainTimeoutMs: number;
}

export interface EndToEndOptions {
  corpus: readonly CorpusEntry[];
  /** Run in order, on the same stack. */
  phases: readonly PhaseSpec[];
  /** A fresh folder: the stack's data dir and its console output go here. */
  workdir: string;
  /**
   * Epoch ms by which the last drain must end (the quick run's budget). The last phase always
   * drains, until this deadline (but a few seconds at least) or its own timeout; what is still
   * queued then counts as pending. The drains between phases keep their own timeouts.
   */
  drainDeadline?: number;
  log: (line: string) => void;
  /** Extra `node` flags for the stack process (e.g. `--cpu-prof` to profile it). */
  stackNodeArgs?: readonly string[];
}

export interface PhaseResult {
  key: string;
  name: string;
  connections: number;
  rate?: number;
  durationSeconds: number;
  /** Deliveries answered 2xx per second of the measured run (warm-up excluded). */
  rps: number;
  /** Answer latency (the webhook's 202), as the load generator saw it. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 2xx, connection errors and timeouts, warm-up included. */
  errors: number;
  requests: number;
  /** Paced phases: requests due while too many were waiting, not sent. */
  skipped?: number;
  statuses: Record<string, number>;
  /** New deliveries (202 without `duplicate`) and repeats (202 with it) in this phase, warm-up included. */
  accepted: number;
  repeats: number;
  /** Epoch ms: the phase's first request and the end of its load. */
  window: Window;
  /** Accepted, decided and triggered over the window, backlog and latencies (lib/flow.ts). */
  flow?: PhaseFlow;
  /** From the end of the run until every accepted delivery had its decisions and triggers (if waited for). */
  drainMs?: number;
  drained?: boolean;
  /** CPU of the stack process (webhook, processor, dynalite, queues) per accepted delivery. */
  stackCpuMsPerDelivery?: number;
  loadAverage: { start: number; end: number };
}

export interface EndToEndResult {
  phases: PhaseResult[];
  accounting: Accounting;
  /** Messages the stack set aside after five failed attempts (deliveries, triggers). */
  deadLetters: number;
  /** Requests the stack took in but whose answer the load generator never read (cut off at the end). */
  acceptedUnanswered: number;
  planned: Record<'fresh' | 'same-commit' | 'retry', number>;
  stackStderr: string;
}

interface Sent {
  entry: number;
  variant: number;
}

/**
 * Starts the local stack (`bin/hookgate.mjs dev`) on a fresh data dir and loads it phase by phase:
 * every request a corpus payload, freshly signed, with its own delivery id (pushes carry new head
 * commits; some repeat an earlier commit or resend an earlier delivery). A thread of its own
 * stamps decisions and triggers as the stack writes them (lib/stamps.ts). After the last phase it
 * stops the stack and checks what was recorded against what was accepted (lib/accounting.ts).
 */
export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const { corpus, log } = options;
  await mkdir(options.workdir, { recursive: true });
  const dir = dataDirOf(join(options.workdir, 'stack'));
  const outPath = join(options.workdir, 'stack.out');
  const errPath = join(options.workdir, 'stack.err');
  const secret = randomBytes(18).toString('base64url');
  const stack = await startStack(dir.root, secret, outPath, errPath, options.stackNodeArgs ?? []);
  const stamping = startStamping(outPath, dir.triggers);
  // Delivery ids the stack has printed decisions for, read from its console as it goes.
  const decided = new DecidedIds(new FileTail(outPath));
  const sent = new Map<string, Sent>();
  const accepted = new Set<string>();
  /** New deliveries → when the bench read their 202 (epoch ms). */
  const acceptedAt = new Map<string, number>();
  const planned = { fresh: 0, 'same-commit': 0, retry: 0 };
  const planner = new DeliveryPlanner(corpus, randomUUID);
  // The trigger ids the rules give for each delivery, computed once.
  const triggerIds = new Map<string, readonly string[]>();
  const triggersOf = (deliveryId: string): readonly string[] => {
    let ids = triggerIds.get(deliveryId);
    if (ids) return ids;
    const what = sent.get(deliveryId);
    const entry = what && corpus[what.entry];
    ids = entry
      ? expectedTriggerIds(
          { deliveryId, eventKey: entry.eventKey, body: variantBody(entry, what.variant) },
          rules(),
        )
      : [];
    triggerIds.set(deliveryId, ids);
    return ids;
  };
  const expectedOf = (ids: Iterable<string>) => {
    const expected = new Set<string>();
    for (const id of ids) for (const triggerId of triggersOf(id)) expected.add(triggerId);
    return expected;
  };
  const phases: PhaseResult[] = [];
  let stamps: Stamps | undefined;
  try {
    const url = new URL(stack.webhookUrl);
    for (const [index, spec] of options.phases.entries()) {
      const statuses: Record<string, number> = {};
      let phaseAccepted = 0;
      let repeats = 0;
      const next = () => {
        const plan = planner.next();
        const entry = corpus[plan.entry] as CorpusEntry;
        const body = variantBody(entry, plan.variant);
        if (!sent.has(plan.deliveryId))
          sent.set(plan.deliveryId, { entry: plan.entry, variant: plan.variant });
        planned[plan.kind] += 1;
        return { path: url.pathname, headers: deliveryHeaders(entry, body, plan.deliveryId, secret), body };
      };
      const answered = (status: number, body: string) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status !== 202) return;
        const answer = JSON.parse(body) as { deliveryId?: string; duplicate?: boolean };
        if (!answer.deliveryId) return;
        if (answer.duplicate) repeats += 1;
        else {
          phaseAccepted += 1;
          if (!acceptedAt.has(answer.deliveryId)) acceptedAt.set(answer.deliveryId, Date.now());
        }
        accepted.add(answer.deliveryId);
      };
      const cpuBefore = processCpuMs(stack.pid);
      const loadStart = loadavg()[0] ?? 0;
      log(
        spec.rate
          ? `  e2e: ${spec.name}, ${spec.durationSeconds} s`
          : `  e2e: ${spec.name}, ${spec.warmupSeconds} s warm-up + ${spec.durationSeconds} s`,
      );
      const window: Window = { start: Date.now(), end: 0 };
      const load = spec.rate
        ? await pacedPhase(url.origin, spec.rate, spec, next, answered)
        : await closedPhase(stack.webhookUrl, spec, next, answered);
      window.end = Date.now();
      const loadEnd = loadavg()[0] ?? 0;
      const last = index === options.phases.length - 1;
      let drain: { drainMs: number; drained: boolean } | undefined;
      if (spec.drain || last) {
        const drainStarted = performance.now();
        // The run's deadline caps the last drain only (which always gets a few seconds): the
        // drains between phases are what lets the next start on empty queues.
        const own = Date.now() + spec.drainTimeoutMs;
        const deadline = last
          ? Math.min(
              own,
              Math.max(options.drainDeadline ?? Number.POSITIVE_INFINITY, Date.now() + MIN_LAST_DRAIN_MS),
            )
          : own;
        const drained = await waitForDrain({
          decided,
          triggersPath: dir.triggers,
          accepted,
          expected: () => expectedOf(accepted).size,
          deadline,
          log,
        });
        drain = { drainMs: performance.now() - drainStarted, drained };
      }
      const cpuAfter = processCpuMs(stack.pid);
      const phase: PhaseResult = {
        key: spec.key,
        name: spec.name,
        connections: spec.connections,
        ...(spec.rate ? { rate: spec.rate } : {}),
        ...load,
        statuses,
        accepted: phaseAccepted,
        repeats,
        window,
        ...drain,
        ...(cpuBefore !== undefined && cpuAfter !== undefined && phaseAccepted > 0 && drain?.drained
          ? { stackCpuMsPerDelivery: (cpuAfter - cpuBefore) / phaseAccepted }
          : {}),
        loadAverage: { start: loadStart, end: loadEnd },
      };
      phases.push(phase);
      const drained = drain
        ? `; ${drain.drained ? 'drained' : 'NOT drained'} in ${(drain.drainMs / 1000).toFixed(1)} s`
        : '';
      log(
        `  e2e ${spec.name}: ${phase.rps.toFixed(0)} deliveries/s answered, p50 ${phase.p50Ms.toFixed(1)} ms, ` +
          `p99 ${phase.p99Ms.toFixed(1)} ms, ${phase.errors} errors${drained}`,
      );
    }
  } finally {
    await stack.stop();
    stamps = await stamping.stop().catch((error: unknown) => {
      log(`  e2e: the stamping thread failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  }

  const stdout = await readFile(outPath, 'utf8');
  const decisionSets = decisionSetsOf(stdout);
  // Requests cut off when a run ended may still have been accepted: the stack decided them.
  let acceptedUnanswered = 0;
  for (const id of decisionSets.keys()) {
    if (!accepted.has(id) && sent.has(id)) {
      accepted.add(id);
      acceptedUnanswered += 1;
    }
  }
  const deliveriesQueue = await readQueue(join(dir.queues, 'deliveries.fifo'));
  const triggersQueue = await readQueue(join(dir.queues, 'triggers.fifo'));
  const recorded: Recorded = {
    decisionSets,
    storedStatus: await storedStatuses(dir.dynamo),
    writtenTriggers: triggerIdsOfNdjson(await readFile(dir.triggers, 'utf8').catch(() => '')),
    pendingDeliveries: new Set(deliveriesQueue.pending.map((body) => String(field(body, 'deliveryId')))),
    pendingTriggers: new Set(triggersQueue.pending.map((body) => String(field(body, 'triggerId')))),
  };
  if (stamps) {
    const record: FlowRecord = {
      accepted: acceptedAt,
      decided: stamps.decided,
      triggers: stamps.triggers,
      triggersOf,
    };
    for (const phase of phases) phase.flow = phaseFlow(phase.window, record);
  }
  // Triggers are due for decided deliveries only; the rest are still on the queue (or lost).
  const due = decidedDeliveries(accepted, recorded);
  return {
    phases,
    accounting: account(accepted, expectedOf(due), recorded),
    deadLetters: deliveriesQueue.deadLetters + triggersQueue.deadLetters,
    acceptedUnanswered,
    planned,
    stackStderr: (await readFile(errPath, 'utf8').catch(() => '')).slice(-4000),
  };
}

type LoadFigures = Pick<
  PhaseResult,
  'durationSeconds' | 'rps' | 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs' | 'errors' | 'requests' | 'skipped'
>;
type NextRequest = () => { path: string; headers: Record<string, string>; body: Buffer };
type OnAnswer = (status: number, body: string) => void;

/** A closed-loop phase: autocannon, as fast as `connections` connections are answered. */
async function closedPhase(
  webhookUrl: string,
  spec: PhaseSpec,
  next: NextRequest,
  answered: OnAnswer,
): Promise<LoadFigures> {
  const result = await autocannon({
    url: webhookUrl,
    connections: spec.connections,
    duration: spec.durationSeconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    ...(spec.warmupSeconds > 0
      ? { warmup: { connections: spec.connections, duration: spec.warmupSeconds } }
      : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, method: 'POST', ...next() }),
        onResponse: (status, body) => answered(status, body),
      },
    ],
  });
  return {
    durationSeconds: result.duration,
    rps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    // Warm-up requests are real deliveries too: their failures count.
    errors: [result, result.warmup].reduce(
      (sum, run) => sum + (run ? run.non2xx + run.errors + run.timeouts : 0),
      0,
    ),
    requests: result.requests.total,
  };
}

/** An open-loop phase at a fixed offered rate (lib/paced-load.ts). */
async function pacedPhase(
  origin: string,
  rate: number,
  spec: PhaseSpec,
  next: NextRequest,
  answered: OnAnswer,
): Promise<LoadFigures> {
  const result = await pacedLoad({
    origin,
    rate,
    durationSeconds: spec.durationSeconds,
    maxInFlight: PACED_MAX_IN_FLIGHT,
    timeoutMs: REQUEST_TIMEOUT_MS,
    next,
    onResponse: answered,
  });
  const latencies = result.latenciesMs.length > 0 ? result.latenciesMs : [0];
  return {
    durationSeconds: result.durationSeconds,
    rps: (result.answered - result.errors) / result.durationSeconds,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    errors: result.errors,
    requests: result.sent,
    skipped: result.skipped,
  };
}

function rules() {
  return { integration: LOCAL_INTEGRATION, defaultBranch: DEFAULT_BRANCH };
}

interface RunningStack {
  pid: number;
  webhookUrl: string;
  stop(): Promise<void>;
}

/** `hookgate dev` on a free port, its stdout and stderr in files (no pipe to keep up with). */
async function startStack(
  dataDir: string,
  secret: string,
  outPath: string,
  errPath: string,
  nodeArgs: readonly string[],
): Promise<RunningStack> {
  const out = await open(outPath, 'w');
  const err = await open(errPath, 'w');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      BIN,
      'dev',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--secret',
      secret,
      '--default-branch',
      DEFAULT_BRANCH,
    ],
    { cwd: PROJECT_ROOT, env, stdio: ['ignore', out.fd, err.fd] },
  );
  await Promise.all([out.close(), err.close()]);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const pid = child.pid ?? -1;
  const endpointPath = dataDirOf(dataDir).endpoint;
  const deadline = Date.now() + 60_000;
  let webhookUrl: string | undefined;
  while (!webhookUrl) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      const stderr = await readFile(errPath, 'utf8').catch(() => '');
      throw new Error(`the local stack did not start: ${stderr.trim().slice(-1000) || 'no output'}`);
    }
    const endpoint = await readEndpoint(endpointPath).catch(() => undefined);
    if (endpoint?.pid === pid) webhookUrl = endpoint.webhookUrl;
    else await sleep(100);
  }
  return {
    pid,
    webhookUrl,
    async stop() {
      if (gone) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface DrainWait {
  decided: DecidedIds;
  triggersPath: string;
  accepted: ReadonlySet<string>;
  expected: () => number;
  deadline: number;
  log: (line: string) => void;
}

/**
 * Waits until every accepted delivery has its decisions printed and the trigger file has the
 * expected number of lines (or stopped growing for 5 s: what is missing then is lost, not late).
 */
async function waitForDrain(wait: DrainWait): Promise<boolean> {
  let lastReport = Date.now();
  let expected: number | undefined;
  let lastCount = -1;
  let stableSince = Date.now();
  while (Date.now() < wait.deadline) {
    const seen = await wait.decided.read();
    let missing = 0;
    for (const id of wait.accepted) if (!seen.has(id)) missing += 1;
    if (missing === 0) {
      expected ??= wait.expected();
      const written = triggerIdsOfNdjson(await readFile(wait.triggersPath, 'utf8').catch(() => '')).length;
      if (written !== lastCount) {
        lastCount = written;
        stableSince = Date.now();
      }
      if (written >= expected || Date.now() - stableSince > 5_000) return true;
    }
    if (Date.now() - lastReport > 10_000) {
      wait.log(`  e2e: draining, ${missing} accepted deliveries still without decisions`);
      lastReport = Date.now();
    }
    await sleep(missing > 0 ? 250 : 100);
  }
  return false;
}

/** Every delivery id the stack has printed decisions for so far, over all phases. */
export class DecidedIds {
  private readonly ids = new Set<string>();

  constructor(private readonly tail: FileTail) {}

  async read(): Promise<ReadonlySet<string>> {
    for (const line of await this.tail.lines()) {
      const match = /^delivery (\S+)/.exec(line);
      if (match?.[1]) this.ids.add(match[1]);
    }
    return this.ids;
  }
}

/** Reads the lines appended to a file since the last call. */
export class FileTail {
  private offset = 0;
  private partial = '';

  constructor(private readonly path: string) {}

  async lines(): Promise<string[]> {
    const file = await open(this.path, 'r');
    try {
      const { size } = await file.stat();
      if (size <= this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      await file.read(buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.partial + buffer.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      return lines;
    } finally {
      await file.close();
    }
  }
}

/**
 * What a stopped stack left on a queue: the bodies of messages sent and not done (its journal,
 * replayed as the queue would at start), and how many it set aside as dead letters.
 */
async function readQueue(base: string): Promise<{ pending: string[]; deadLetters: number }> {
  const pending = new Map<string, string>();
  for (const entry of parseJournal(await readFile(`${base}.ndjson`, 'utf8').catch(() => ''))) {
    if (entry.op === 'send') pending.set(entry.id, entry.body);
    else if (entry.op === 'done') pending.delete(entry.id);
  }
  const dead = parseNdjson(await readFile(`${base}.dead-letters.ndjson`, 'utf8').catch(() => ''));
  return { pending: [...pending.values()], deadLetters: dead.length };
}

function field(json: string, name: string): unknown {
  try {
    return (JSON.parse(json) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** Status of every delivery the stack stored, read from its LevelDB once it has stopped. */
async function storedStatuses(path: string): Promise<Map<string, string>> {
  const dynamo = await startLocalDynamo(path);
  const statuses = new Map<string, string>();
  try {
    const tables = await dynamo.client.send(new ListTablesCommand({}));
    const table = tables.TableNames?.[0];
    if (!table) return statuses;
    let startKey: Record<string, never> | undefined;
    do {
      const page = await dynamo.client.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: deliveriesByIntegrationKey(LOCAL_INTEGRATION) } },
          ProjectionExpression: 'deliveryId, #status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const id = item.deliveryId?.S;
        if (id) statuses.set(id, item.status?.S ?? '');
      }
      startKey = page.LastEvaluatedKey as typeof startKey;
    } while (startKey);
  } finally {
    await dynamo.stop();
  }
  return statuses;
}

/** User plus system CPU of a process, from /proc (Linux); undefined elsewhere. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

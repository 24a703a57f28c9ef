import { join } from 'node:path';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { adminDeps, createAdminHandler } from '../functions/admin/app';
import { createProcessorHandler } from '../functions/processor/app';
import { createWebhookHandler, webhookDeps } from '../functions/webhook/app';
import { Deadline } from '../shared/deadline';
import { jsonResponse } from '../shared/http/http-errors';
import { createBitbucketLookup } from '../shared/ingest/repository-lookup';
import { sweepDeliveries } from '../shared/ingest/sweep-deliveries';
import { noTelemetry } from '../shared/observability';
import { DELIVERIES_MAX_RECEIVE_COUNT, TRIGGERS_MAX_RECEIVE_COUNT } from '../shared/queue/redrive';
import { DynamoSweepStore } from '../shared/store/dynamo-sweep-store';
import { autoConnect } from './auto-connect';
import { type Bootstrapped, bootstrapLocal, LOCAL_INTEGRATION, LOCAL_STAGE } from './bootstrap';
import { adminConsoleLog, consoleLog, describeError } from './console-log';
import { type DataDir, dataDirOf, lockDataDir, prepareDataDir } from './data-dir';
import { ensureTable, type LocalDynamo, startLocalDynamo } from './dynamo';
import { writeEndpoint } from './endpoint-file';
import { FileSecretStore } from './file-secret-store';
import { startHousekeeping } from './housekeeping';
import { createLocalServer, type HttpApiHandler } from './http-server';
import { lambdaContext, sqsEvent } from './lambda-events';
import { type DeadLetter, LocalFifoQueue } from './local-queue';
import { LocalStore } from './local-store';
import {
  formatAlreadySent,
  formatAudit,
  formatConnected,
  formatDeadLetter,
  formatDecisions,
  formatRejected,
} from './report';
import { StartupError } from './startup-error';
import { triggerSink } from './trigger-sink';

const TABLE_NAME = 'hookgate';

/** How long the previous webhook secret works after a rotation, as on AWS by default. */
const ROTATION_GRACE_HOURS = 24;

export interface StackOptions {
  port: number;
  dataDir: string;
  /** Webhook secret to use (and store); the saved or a generated one otherwise. */
  secret?: string;
  adminToken?: string;
  /** Default branch of automatically connected repositories. */
  defaultBranch: string;
  /** Shell command run once per trigger. */
  exec?: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface QueueState {
  name: string;
  /** Messages left from the last run, picked up at start. */
  resumed: number;
  deadLetters: number;
  deadLetterPath: string;
}

export interface RunningStack {
  dataDir: DataDir;
  port: number;
  webhookUrl: string;
  /** The admin API's base URL, `http://127.0.0.1:<port>/admin/`. */
  adminUrl: string;
  secret: string;
  adminToken: string;
  /** The `local` integration was created by this start (first start of this data dir). */
  firstStart: boolean;
  queues: QueueState[];
  /** Stops accepting, finishes the work in flight, closes the queues and the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the local stack on a data folder: dynalite, the file secret store, both FIFO queues
 * and the webhook, processor and admin handlers behind a loopback HTTP server. Throws
 * StartupError (one line) when it cannot start, after undoing what it had started.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dir = dataDirOf(options.dataDir);
  await prepareDataDir(dir);
  // Undone in reverse order: deliveries, triggers, database, lock; the server stops before them.
  const started: (() => Promise<void>)[] = [await lockDataDir(dir)];
  const handlers: Partial<Handlers> = {};
  const server = createServer(handlers, options);
  const stop = () => server.close().finally(() => undo(started));
  try {
    const port = await server.listen(options.port);
    const now = () => new Date();
    const storage = await openStorage(dir, started, options);
    const boot = await bootstrapLocal(
      { store: storage.store, secrets: storage.secrets, now },
      {
        ...(options.secret ? { secret: options.secret } : {}),
        ...(options.adminToken ? { adminToken: options.adminToken } : {}),
      },
    );
    if (boot.revived) options.out(REVIVED);
    const { deliveries, triggers } = await openQueues(dir, started, options);

    const wiring = { ...storage, deliveries: deliveries.queue, triggers: triggers.queue, now, port, boot };
    Object.assign(handlers, createHandlers(wiring, options));
    startConsumers(wiring, handlers as Handlers, dir, options);
    started.push(startSweeper(wiring, options));

    const webhookUrl = `http://127.0.0.1:${port}/webhooks/${LOCAL_INTEGRATION}`;
    await writeEndpoint(dir.endpoint, { webhookUrl, pid: process.pid, startedAt: now().toISOString() });

    let stopping: Promise<void> | undefined;
    return {
      dataDir: dir,
      port,
      webhookUrl,
      adminUrl: `http://127.0.0.1:${port}/admin/`,
      secret: boot.secret,
      adminToken: boot.adminToken,
      firstStart: boot.created,
      queues: [deliveries.state, triggers.state],
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
    };
  } catch (error) {
    await stop().catch(() => undefined);
    if (error instanceof StartupError) throw error;
    throw new StartupError(`cannot start the local stack: ${describeError(error as Error)}`, {
      cause: error,
    });
  }
}

const REVIVED =
  'revived the integration "local" (it had been deleted through the admin API): same URL, new secret below';

/** The handlers behind the server, set once everything they use is open. */
interface Handlers {
  webhook: HttpApiHandler;
  admin: HttpApiHandler;
  processor: ReturnType<typeof createProcessorHandler>;
}

/** What the handlers and the workers are wired to. */
interface Wiring {
  dynamo: LocalDynamo;
  store: LocalStore;
  secrets: FileSecretStore;
  deliveries: LocalFifoQueue;
  triggers: LocalFifoQueue;
  now: () => Date;
  port: number;
  boot: Bootstrapped;
}

/**
 * The loopback server, created first so a port in use fails before anything is created. Requests
 * that arrive while the rest starts get 503, which Bitbucket retries.
 */
function createServer(handlers: Partial<Handlers>, { out, err }: StackOptions) {
  return createLocalServer({
    webhook: (event, context) =>
      handlers.webhook ? handlers.webhook(event, context) : Promise.resolve(starting()),
    admin: (event, context) =>
      handlers.admin ? handlers.admin(event, context) : Promise.resolve(starting()),
    onWebhookResponse: (request, status, body) => {
      if (status >= 400) out(formatRejected(request.method, request.path, status, body));
      else if (status === 200)
        out(`ping ${request.path}: answered Bitbucket's connection test (nothing stored)`);
    },
    onError: (error) => err(`error: ${describeError(error)}`),
  });
}

/** dynalite with the table, the store over it, and the file secret store. */
async function openStorage(dir: DataDir, started: (() => Promise<void>)[], { out }: StackOptions) {
  const dynamo = await startLocalDynamo(dir.dynamo);
  started.push(() => dynamo.stop());
  await ensureTable(dynamo.client, TABLE_NAME);
  const store = new LocalStore(dynamo.api, TABLE_NAME, {
    bothPlatforms: LOCAL_INTEGRATION,
    onAlreadySent: (triggerId) => out(formatAlreadySent(triggerId)),
  });
  return { dynamo, store, secrets: new FileSecretStore(dir.secrets) };
}

/** The webhook, processor and admin handlers as on AWS, with the local adapters. */
function createHandlers(wiring: Wiring, options: StackOptions): Handlers {
  const { store, secrets, deliveries, triggers, now, port, boot } = wiring;
  const { out, err } = options;
  const log = consoleLog(err);
  const ingest = webhookDeps({ store, deliveries, secretStore: secrets, log, telemetry: noTelemetry, now });
  const processor = createProcessorHandler({
    store,
    triggers,
    now,
    log,
    telemetry: noTelemetry,
    // As on AWS: integrations given credentials through the admin API ask Bitbucket for open
    // pull requests and full commit hashes.
    lookup: createBitbucketLookup({ secrets, log, network: 'local' }),
    // Why a build did or did not start, printed as soon as it is decided.
    onDecided: (report) => {
      for (const line of formatDecisions(report)) out(line);
    },
    connectUnknownRepository: autoConnect({
      store,
      defaultBranch: options.defaultBranch,
      now,
      onConnected: (project, placeholder) => {
        for (const line of formatConnected(project, placeholder)) out(line);
      },
    }),
  });
  // The admin function as on AWS, with local adapters: the bearer token instead of IAM, and
  // webhook URLs on this server. Integrations with credentials call Bitbucket for real.
  const admin = createAdminHandler(
    adminDeps({
      store,
      secrets,
      deliveries,
      log: adminConsoleLog(err, (entry) => out(formatAudit(entry))),
      auth: { kind: 'token', token: boot.adminToken },
      stage: LOCAL_STAGE,
      webhookBaseUrl: `http://127.0.0.1:${port}`,
      rotationGraceHours: ROTATION_GRACE_HOURS,
      // A Data Center on this machine is reachable; metadata and link-local hosts are not.
      network: 'local',
      bothPlatformsIntegration: LOCAL_INTEGRATION,
      now,
    }),
  );
  return {
    webhook: createWebhookHandler(ingest),
    processor,
    admin: async (event, context) => {
      const answer = await admin(event, context);
      // On AWS the webhook function's caches expire within minutes; here the admin API runs in
      // the same process, so a change it made (a revived, patched or rotated integration) is
      // seen by the next delivery instead of after the cache's 30 s.
      if (event.requestContext.http.method !== 'GET') {
        ingest.integrations.clear();
        ingest.secrets.clear();
      }
      return answer;
    },
  };
}

/** The processor on `deliveries.fifo`, and the trigger sink (file, `--exec`) on `triggers.fifo`. */
function startConsumers(wiring: Wiring, handlers: Handlers, dir: DataDir, options: StackOptions): void {
  wiring.deliveries.start(async (batch) => {
    const result = await handlers.processor(
      sqsEvent('deliveries.fifo', batch),
      lambdaContext('hookgate-local-processor'),
    );
    return result.batchItemFailures.map((failure) => failure.itemIdentifier);
  });
  wiring.triggers.start(
    triggerSink({
      ndjsonPath: dir.triggers,
      ...(options.exec ? { exec: options.exec } : {}),
      maxReceiveCount: TRIGGERS_MAX_RECEIVE_COUNT,
      out: options.out,
      err: options.err,
    }),
  );
}

/**
 * The sweeper as on AWS (same code, on a timer), plus what AWS does with TTL: delete expired
 * items. Returns its stop.
 */
function startSweeper(wiring: Wiring, { err }: StackOptions): () => Promise<void> {
  const { dynamo, deliveries, now } = wiring;
  const sweepStore = new DynamoSweepStore(dynamo.api, TABLE_NAME);
  const housekeeping = startHousekeeping({
    client: dynamo.client,
    tableName: TABLE_NAME,
    now,
    sweep: () =>
      sweepDeliveries({
        store: sweepStore,
        deliveries,
        deadline: Deadline.in(30_000),
        now,
        // Its own logger: the handlers' keys (delivery, integration) must not name its lines.
        log: consoleLog(err),
        telemetry: noTelemetry,
      }),
    onError: (error) => err(`error: housekeeping: ${describeError(error)}`),
  });
  return () => housekeeping.stop();
}

/** Both FIFO queues; triggers first, so it is closed after deliveries. */
async function openQueues(dir: DataDir, started: (() => Promise<void>)[], { err }: StackOptions) {
  const triggers = await openQueue(dir, 'triggers.fifo', TRIGGERS_MAX_RECEIVE_COUNT, err);
  started.push(() => triggers.queue.close());
  const deliveries = await openQueue(dir, 'deliveries.fifo', DELIVERIES_MAX_RECEIVE_COUNT, err);
  started.push(() => deliveries.queue.close());
  return { deliveries, triggers };
}

/** A queue journaled under the data dir, with what it holds from the last run. */
async function openQueue(dir: DataDir, name: string, maxReceiveCount: number, err: (line: string) => void) {
  const deadLetterPath = join(dir.queues, `${name}.dead-letters.ndjson`);
  const queue = await LocalFifoQueue.open({
    name,
    journalPath: join(dir.queues, `${name}.ndjson`),
    deadLetterPath,
    maxReceiveCount,
    onDeadLetter: (letter: DeadLetter) => err(formatDeadLetter(letter, deadLetterPath)),
    onError: (error) => err(`error: queue ${name}: ${describeError(error)}`),
  });
  const state: QueueState = {
    name,
    resumed: queue.depth,
    deadLetters: queue.deadLetters().length,
    deadLetterPath,
  };
  return { queue, state };
}

function starting(): APIGatewayProxyResultV2 {
  return jsonResponse(503, {
    error: { code: 'unavailable', message: 'the local stack is starting; retry in a moment' },
  });
}

/** Runs the undo steps last first; every step runs even when an earlier one fails. */
async function undo(steps: (() => Promise<void>)[]): Promise<void> {
  let failure: unknown;
  for (const step of [...steps].reverse()) {
    await step().catch((error: unknown) => {
      failure ??= error;
    });
  }
  if (failure) throw failure;
}

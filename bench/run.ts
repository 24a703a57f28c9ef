// `npm run bench` (full) and `npm run bench -- --quick` (2½–3 minutes): bundle sizes, cold
// starts, warm CPU per delivery, AWS calls and request units per delivery, the cost of a million
// deliveries, and the local stack end to end (decided and triggered), checked against the goals
// of the performance issues; prints a table and writes bench/results.json. See bench/README.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FUNCTION_MEMORY_MB } from '../infra/functions';
import { type BuiltBundle, buildBundles } from './bundles';
import { measureColdStarts } from './cold-start';
import { type PhaseSpec, runEndToEnd } from './e2e';
import { loadCorpus } from './lib/corpus';
import { benchFunctions, type FunctionName } from './lib/functions';
import { report } from './lib/report';
import { goalRows } from './lib/results';
import { round } from './lib/stats';
import {
  emptyResults,
  summariseCalls,
  summariseColdStart,
  summariseEndToEnd,
  summariseWarm,
} from './lib/summaries';
import { measureWarm } from './warm';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const PARTS = ['bundles', 'cold', 'warm', 'e2e'] as const;
type Part = (typeof PARTS)[number];

interface Settings {
  coldRuns: number;
  warmWarmup: number;
  warmIterations: number;
  /** Deliveries of the call accounting pass (warm part). */
  accountingDeliveries: number;
  e2ePhases: PhaseSpec[];
}

type Drain = Pick<PhaseSpec, 'drain' | 'drainTimeoutMs'>;

/** The end-to-end phases: paced at 100/s and 300/s (latency below saturation), then the most 8 and 64 connections get. */
function e2ePhases(seconds: number, warmupSeconds: number, paced: Drain, closed: Drain): PhaseSpec[] {
  const offered = (rate: number): PhaseSpec => ({
    key: `r${rate}`,
    name: `${rate}/s offered`,
    rate,
    connections: 0,
    durationSeconds: seconds,
    warmupSeconds: 0,
    ...paced,
  });
  const connected = (connections: number): PhaseSpec => ({
    key: `c${connections}`,
    name: `${connections} connections`,
    connections,
    durationSeconds: seconds,
    warmupSeconds,
    ...closed,
  });
  return [offered(100), offered(300), connected(8), connected(64)];
}

const FULL_DRAIN: Drain = { drain: true, drainTimeoutMs: 15 * 60_000 };
const FULL: Settings = {
  coldRuns: 40,
  warmWarmup: 1_000,
  warmIterations: 5_000,
  accountingDeliveries: 2_000,
  // Every phase drains completely before the next: each starts on empty queues.
  e2ePhases: e2ePhases(30, 3, FULL_DRAIN, FULL_DRAIN),
};
const QUICK: Settings = {
  coldRuns: 20,
  warmWarmup: 150,
  warmIterations: 800,
  accountingDeliveries: 400,
  // The paced phases drain briefly, so the next starts on near-empty queues; the closed-loop
  // phases drain once, after the last, for what the budget leaves.
  e2ePhases: e2ePhases(
    8,
    1,
    { drain: true, drainTimeoutMs: 15_000 },
    { drain: false, drainTimeoutMs: 15 * 60_000 },
  ),
};
/** The quick run's end-to-end part stops draining when the whole run would pass this. */
const QUICK_BUDGET_MS = 150_000;
/** What the end-to-end part needs after its last drain: stopping the stack and reading its data. */
const E2E_WRAP_UP_MS = 15_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const parts = new Set<Part>(
    values.only ? (values.only.split(',').map((part) => part.trim()) as Part[]) : [...PARTS],
  );
  for (const part of parts) {
    if (!PARTS.includes(part)) throw new Error(`--only takes ${PARTS.join(', ')}; not "${part}"`);
  }
  // This process seeds the fakes and reads dynalite with the SDK; its Node notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const quick = values.quick;
  const settings = quick ? QUICK : FULL;
  const started = Date.now();
  const workdir = await mkdtemp(join(tmpdir(), 'hookgate-bench-'));
  const cpu = cpus();
  const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, node ${process.version}, ${process.platform} ${process.arch}`;
  const results = emptyResults(machine, quick, new Date(started));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => {
    results.notes.push(line);
    say(`  note: ${line}`);
  };
  say(`hookgate bench (${quick ? 'quick' : 'full'}) on ${results.machine}`);
  say(
    `load average at start: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} (1, 5, 15 min)`,
  );

  let broken = false;
  const section = async (name: string, work: () => Promise<void>) => {
    const loadStart = loadavg()[0] ?? 0;
    const t0 = performance.now();
    say(`\n${name}…`);
    try {
      await work();
    } catch (error) {
      broken = true;
      note(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    results.loadAverage[name] = { start: loadStart, end: loadavg()[0] ?? 0 };
    say(
      `  (${((performance.now() - t0) / 1000).toFixed(1)} s, load average ${loadStart.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)})`,
    );
  };

  try {
    const corpus = loadCorpus();
    const { functions, notes } = benchFunctions();
    for (const line of notes) note(line);
    for (const name of ['webhook', 'processor', 'admin'] as const) {
      if (functions.some((fn) => fn.name === name)) continue;
      const skipped = { skipped: `functions/${name}/handler.ts does not exist` };
      results.bundles[name] = skipped;
      results.coldStart[name] = skipped;
    }
    let bundles: Partial<Record<FunctionName, BuiltBundle>> = {};

    if (parts.has('bundles') || parts.has('cold')) {
      await section('bundles', async () => {
        bundles = await buildBundles(functions, join(workdir, 'bundles'));
        const byPackage: Record<string, unknown> = {};
        for (const [name, built] of Object.entries(bundles)) {
          const { minifiedBytes, gzipBytes, ownCodeBytes } = built;
          results.bundles[name as FunctionName] = { minifiedBytes, gzipBytes, ownCodeBytes };
          byPackage[name] = Object.fromEntries(built.byPackage.slice(0, 12));
          say(
            `  ${name}: ${kb(minifiedBytes)} minified, ${kb(gzipBytes)} gzip, own code ${kb(ownCodeBytes)}`,
          );
        }
        results.details.bundleBytesByPackage = byPackage;
      });
    }

    if (parts.has('cold')) {
      await section('cold start', async () => {
        const runs = await measureColdStarts({
          bundles,
          corpus,
          runs: settings.coldRuns,
          onProgress: (done, total) => {
            if (done % 5 === 0 || done === total) say(`  round ${done}/${total}`);
          },
        });
        const { coldStart, detail } = summariseColdStart(runs);
        results.coldStart = { ...results.coldStart, ...coldStart };
        for (const [name, reason] of Object.entries(runs.failures))
          note(`cold start of ${name} not measured: ${reason}`);
        results.details.coldStart = { runs: settings.coldRuns, ...detail };
      });
    }

    if (parts.has('warm')) {
      await section('warm', async () => {
        const samples = await measureWarm({
          warmup: settings.warmWarmup,
          iterations: settings.warmIterations,
          accountingDeliveries: settings.accountingDeliveries,
        });
        const { warm, detail } = summariseWarm(samples);
        results.warm = warm;
        results.details.warm = { warmup: settings.warmWarmup, ...detail };
        if (samples.accounting) {
          const memoryMb = { webhook: FUNCTION_MEMORY_MB.webhook, processor: FUNCTION_MEMORY_MB.processor };
          const summary = summariseCalls(samples.accounting, memoryMb);
          results.calls = summary.calls;
          results.cost = summary.cost;
          results.details.calls = summary.detail;
        }
        for (const error of samples.errors.slice(0, 3)) note(`warm: ${error}`);
      });
    }

    if (parts.has('e2e')) {
      await section('end to end', async () => {
        // The quick run's last drain ends in time for the whole run to fit its budget (it gets a
        // few seconds whatever the budget); the full run drains completely.
        const drainDeadline = quick ? started + QUICK_BUDGET_MS - E2E_WRAP_UP_MS : undefined;
        const e2e = await runEndToEnd({
          corpus,
          phases: settings.e2ePhases,
          workdir: join(workdir, 'e2e'),
          ...(drainDeadline === undefined ? {} : { drainDeadline }),
          log: say,
        });
        const { e2e: summary, detail } = summariseEndToEnd(e2e);
        results.e2e = summary;
        results.details.e2e = { drainDeadline, ...detail };
        const { accounting } = e2e;
        if (accounting.pending > 0 || accounting.pendingTriggers > 0) {
          note(
            `e2e: stopped before the queues drained: ${accounting.pending} deliveries and ` +
              `${accounting.pendingTriggers} triggers still queued (kept in the queue journals, checked as ` +
              'pending, not lost)',
          );
        }
        if (accounting.unexpectedTriggers.length > 0) {
          note(`e2e: ${accounting.unexpectedTriggers.length} triggers written that the rules do not give`);
        }
        if (e2e.deadLetters > 0) note(`e2e: ${e2e.deadLetters} messages dead-lettered`);
        if (e2e.stackStderr.trim())
          note(`e2e: the stack wrote to stderr: ${e2e.stackStderr.trim().slice(-500)}`);
      });
    }
  } finally {
    if (values.keep) say(`\nkept ${workdir}`);
    else await rm(workdir, { recursive: true, force: true });
  }

  results.goals = goalRows(results);
  results.durationSeconds = round((Date.now() - started) / 1000);
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  say(`\n${report(results)}`);
  say(`\nwrote ${RESULTS_FILE} (${results.durationSeconds} s)`);
  if (broken) return 2;
  return results.goals.some((row) => row.result === 'fail') ? 1 : 0;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);

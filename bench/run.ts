// `npm run bench` (full) and `npm run bench -- --quick` (under two minutes): bundle sizes, cold
// starts, warm CPU per delivery and the local stack end to end, checked against the goals of the
// benchmark issue; prints a table and writes bench/results.json. See bench/README.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BuiltBundle, buildBundles } from './bundles';
import { measureColdStarts } from './cold-start';
import { runEndToEnd } from './e2e';
import { loadCorpus } from './lib/corpus';
import { benchFunctions, type FunctionName } from './lib/functions';
import { type BenchResults, formatTable, goalRows } from './lib/results';
import { round } from './lib/stats';
import { emptyResults, summariseColdStart, summariseEndToEnd, summariseWarm } from './lib/summaries';
import { measureWarm } from './warm';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const PARTS = ['bundles', 'cold', 'warm', 'e2e'] as const;
type Part = (typeof PARTS)[number];

interface Settings {
  coldRuns: number;
  warmWarmup: number;
  warmIterations: number;
  e2eSeconds: number;
  e2eWarmupSeconds: number;
  drain: 'each' | 'last';
}

const FULL: Settings = {
  coldRuns: 40,
  warmWarmup: 1_000,
  warmIterations: 5_000,
  e2eSeconds: 30,
  e2eWarmupSeconds: 3,
  drain: 'each',
};
const QUICK: Settings = {
  coldRuns: 20,
  warmWarmup: 150,
  warmIterations: 800,
  e2eSeconds: 10,
  e2eWarmupSeconds: 1,
  drain: 'last',
};
/** The quick run's end-to-end part stops draining when the whole run would pass this. */
const QUICK_BUDGET_MS = 112_000;
const FULL_DRAIN_TIMEOUT_MS = 15 * 60_000;

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
        });
        const { warm, detail } = summariseWarm(samples);
        results.warm = warm;
        results.details.warm = { warmup: settings.warmWarmup, ...detail };
        for (const error of samples.errors.slice(0, 3)) note(`warm: ${error}`);
      });
    }

    if (parts.has('e2e')) {
      await section('end to end', async () => {
        const loadMs = 2 * (settings.e2eSeconds + settings.e2eWarmupSeconds) * 1000;
        const drainTimeoutMs = quick
          ? Math.max(5_000, QUICK_BUDGET_MS - (Date.now() - started) - loadMs - 15_000)
          : FULL_DRAIN_TIMEOUT_MS;
        const e2e = await runEndToEnd({
          corpus,
          connections: [8, 64],
          durationSeconds: settings.e2eSeconds,
          warmupSeconds: settings.e2eWarmupSeconds,
          workdir: join(workdir, 'e2e'),
          drain: settings.drain,
          drainTimeoutMs,
          log: say,
        });
        const { e2e: summary, detail } = summariseEndToEnd(e2e);
        results.e2e = summary;
        results.details.e2e = { drain: settings.drain, drainTimeoutMs, ...detail };
        const { accounting } = e2e;
        if (accounting.pending > 0 || accounting.pendingTriggers > 0) {
          note(
            `e2e: stopped before the queues drained (${(drainTimeoutMs / 1000).toFixed(0)} s allowed): ` +
              `${accounting.pending} deliveries and ${accounting.pendingTriggers} triggers still queued (kept in the ` +
              'queue journals, checked as pending, not lost)',
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

/** The goals table, then every number measured. */
export function report(results: BenchResults): string {
  const sections: string[] = [
    formatTable(
      ['measure', 'value', 'goal', 'result'],
      results.goals.map((row) => [row.measure, row.value, row.goal, row.result.toUpperCase()]),
    ),
  ];
  const fns = ['webhook', 'processor', 'admin'] as const;
  const bundleRows = fns.flatMap((name) => {
    const value = results.bundles[name];
    if (!value) return [];
    if ('skipped' in value) return [[name, 'skipped', '', '']];
    return [[name, kb(value.minifiedBytes), kb(value.gzipBytes), kb(value.ownCodeBytes)]];
  });
  if (bundleRows.length)
    sections.push(formatTable(['bundle', 'minified', 'gzip -9', 'own code'], bundleRows));
  const cold = results.details.coldStart as
    | (Record<string, { loadBundleMedianMs?: number; firstEventMedianMs?: number }> & {
        baseline?: { medianMs: number };
      })
    | undefined;
  const coldRows = fns.flatMap((name) => {
    const value = results.coldStart[name];
    if (!value) return [];
    if ('skipped' in value) return [[name, 'not measured', '', '', '']];
    const detail = cold?.[name];
    return [
      [
        name,
        `${value.medianMs.toFixed(1)} ms`,
        `${value.p90Ms.toFixed(1)} ms`,
        detail?.loadBundleMedianMs === undefined ? '' : `${detail.loadBundleMedianMs.toFixed(1)} ms`,
        detail?.firstEventMedianMs === undefined ? '' : `${detail.firstEventMedianMs.toFixed(1)} ms`,
      ],
    ];
  });
  if (coldRows.length) {
    sections.push(
      `${formatTable(['cold start (over baseline)', 'median', 'p90', 'load bundle', 'first event'], coldRows)}\n` +
        `baseline \`node -e 0\`: ${cold?.baseline?.medianMs ?? '?'} ms median`,
    );
  }
  const { webhook, processor, floor } = results.warm;
  if (webhook && processor && floor) {
    const warm = results.details.warm as Record<string, number>;
    sections.push(
      `${formatTable(
        ['warm CPU per delivery', 'p50', 'p99', '× floor (p50)'],
        [
          ['webhook', `${webhook.p50Us} µs`, `${webhook.p99Us} µs`, `${warm.webhookOverFloor}×`],
          ['processor', `${processor.p50Us} µs`, `${processor.p99Us} µs`, `${warm.processorOverFloor}×`],
          ['floor (HMAC-SHA256 + JSON.parse)', `${floor.p50Us} µs`, `${warm.floorP99Us} µs`, '1×'],
        ],
      )}\n` +
        `webhook p50 without Powertools logger/metrics: ${warm.webhookWithoutPowertoolsP50Us} µs; ` +
        `one GetItem through AwsJsonClient: ${warm.jsonCallP50Us} µs (through the SDK: ${warm.sdkCallP50Us} µs), ` +
        `${warm.awsCallsPerWebhook} calls per webhook and ${warm.awsCallsPerProcessor} per processor delivery; ` +
        `gzip -1 of the body: ${warm.gzipP50Us} µs`,
    );
  }
  const e2e = results.details.e2e as
    | {
        phases: {
          connections: number;
          rps: number;
          p50Ms: number;
          p99Ms: number;
          errors: number;
          accepted: number;
          drainMs?: number;
          stackCpuMsPerDelivery?: number;
        }[];
        accounting: {
          accepted: number;
          decided: number;
          pending: number;
          expectedTriggers: number;
          writtenTriggers: number;
          unexpectedTriggers: string[];
        };
      }
    | undefined;
  if (e2e) {
    const rows = e2e.phases.map((phase) => [
      `${phase.connections} connections`,
      `${phase.rps.toFixed(0)}/s`,
      `${phase.p50Ms} ms`,
      `${phase.p99Ms} ms`,
      String(phase.errors),
      String(phase.accepted),
      phase.drainMs === undefined ? '—' : `${(phase.drainMs / 1000).toFixed(1)} s`,
      phase.stackCpuMsPerDelivery === undefined ? '—' : `${phase.stackCpuMsPerDelivery.toFixed(1)} ms`,
    ]);
    const a = e2e.accounting;
    sections.push(
      `${formatTable(['e2e', 'deliveries/s', 'p50', 'p99', 'errors', 'accepted', 'drain', 'stack CPU/delivery'], rows)}\n` +
        `accepted ${a.accepted}: ${a.decided} decided, ${a.pending} still queued; triggers expected ${a.expectedTriggers}, ` +
        `written ${a.writtenTriggers}, unexpected ${a.unexpectedTriggers.length}; lost ${results.e2e.lost}, doubled ${results.e2e.doubled}`,
    );
  }
  sections.push(
    `load average (1 min) by part: ${Object.entries(results.loadAverage)
      .map(([name, load]) => `${name} ${load.start.toFixed(2)}→${load.end.toFixed(2)}`)
      .join(', ')}`,
  );
  return sections.join('\n\n');
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

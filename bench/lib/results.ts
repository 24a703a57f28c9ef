import type { PerDelivery } from './calls';
import type { CostModel } from './cost';
import type { FunctionName } from './functions';

export interface BundleResult {
  minifiedBytes: number;
  gzipBytes: number;
  ownCodeBytes: number;
}

export interface ColdStartResult {
  /** Over the `node -e 0` baseline of the same run. */
  medianMs: number;
  p90Ms: number;
}

export interface E2ePhaseSummary {
  /** Deliveries answered 2xx per second, and the answer's latency. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Over the phase's window (lib/flow.ts); absent when the stamps were not taken. */
  acceptedPerS?: number;
  decidedPerS?: number;
  triggersPerS?: number;
  /** Deliveries undecided, and triggers of decided ones unwritten, a second after the load. */
  backlog?: number;
  triggerBacklog?: number;
  /** Accept to trigger written, for the phase's deliveries. */
  triggerP50Ms?: number;
  triggerP99Ms?: number;
  triggersMeasured?: number;
  /** Triggers of the phase's deliveries not written when the stack stopped (not in the latencies). */
  triggersNotWritten?: number;
}

/** The end-to-end phases by key: closed loop at 8 and 64 connections, paced at 100/s and 300/s. */
export const E2E_PHASE_KEYS = ['r100', 'r300', 'c8', 'c64'] as const;
export type E2ePhaseKey = (typeof E2E_PHASE_KEYS)[number];

type PerFunction<T> = Partial<Record<FunctionName, T | { skipped: string }>>;

/** bench/results.json: the fields the issue asks for, then what explains them. */
export interface BenchResults {
  machine: string;
  quick: boolean;
  bundles: PerFunction<BundleResult>;
  coldStart: PerFunction<ColdStartResult>;
  warm: {
    webhook?: { p50Us: number; p99Us: number };
    processor?: { p50Us: number; p99Us: number };
    floor?: { p50Us: number };
  };
  e2e: Partial<Record<E2ePhaseKey, E2ePhaseSummary>> & {
    lost?: number;
    doubled?: number;
  };
  /** AWS calls per delivery by operation, with DynamoDB units and SQS requests (warm part). */
  calls?: { webhook: PerDelivery; processor: PerDelivery };
  /** The cost of one million deliveries (lib/cost.ts, warm part). */
  cost?: CostModel;
  startedAt: string;
  durationSeconds: number;
  /** 1-minute load average at the start and end of each part: the noise the numbers carry. */
  loadAverage: Record<string, { start: number; end: number }>;
  goals: GoalRow[];
  notes: string[];
  details: Record<string, unknown>;
}

export interface GoalRow {
  measure: string;
  value: string;
  goal: string;
  /** `n/a` when the part was not run (or failed to run). */
  result: 'pass' | 'fail' | 'n/a';
}

const KB = 1024;

interface Goal {
  measure: string;
  goal: string;
  /** The measured value and whether it meets the goal; undefined when it was not measured. */
  check: (results: BenchResults) => { value: string; pass: boolean } | undefined;
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const bundle = (results: BenchResults) => asResult<BundleResult>(results.bundles.webhook);

/** A goal on one number: `read` it, `format` it, and whether it `passes`. */
function simple(
  measure: string,
  goal: string,
  read: (results: BenchResults) => number | undefined,
  format: (value: number) => string,
  passes: (value: number) => boolean,
): Goal {
  return {
    measure,
    goal,
    check: (results) => {
      const value = read(results);
      if (value === undefined || Number.isNaN(value)) return undefined;
      return { value: format(value), pass: passes(value) };
    },
  };
}

const e2eErrors = (r: BenchResults) => {
  const phases = E2E_PHASE_KEYS.flatMap((key) => (r.e2e[key] ? [r.e2e[key]] : []));
  return phases.length ? phases.reduce((sum, phase) => sum + phase.errors, 0) : undefined;
};

/** The goals of the performance issues, in their order. KB are 1024 bytes. */
export const GOALS: readonly Goal[] = [
  simple(
    'webhook own code (minified, @aws-sdk/* external)',
    '≤ 100 KB',
    (r) => bundle(r)?.ownCodeBytes,
    kb,
    (v) => v <= 100 * KB,
  ),
  simple(
    'webhook whole bundle (minified)',
    '≤ 700 KB',
    (r) => bundle(r)?.minifiedBytes,
    kb,
    (v) => v <= 700 * KB,
  ),
  simple(
    'webhook cold start, median over baseline',
    '≤ 180 ms',
    (r) => asResult<ColdStartResult>(r.coldStart.webhook)?.medianMs,
    ms,
    (v) => v <= 180,
  ),
  simple(
    'warm webhook CPU per delivery, p50',
    '≤ 0.25 ms',
    (r) => (r.warm.webhook ? r.warm.webhook.p50Us / 1000 : undefined),
    (v) => `${v.toFixed(3)} ms`,
    (v) => v <= 0.25,
  ),
  simple(
    'warm processor CPU per delivery, p50',
    '≤ 1 ms',
    (r) => (r.warm.processor ? r.warm.processor.p50Us / 1000 : undefined),
    (v) => `${v.toFixed(3)} ms`,
    (v) => v <= 1,
  ),
  simple(
    'processor AWS calls per delivery (corpus mix)',
    '≤ 4',
    (r) => r.calls?.processor.calls,
    (v) => v.toFixed(2),
    (v) => v <= 4,
  ),
  simple(
    'cost of one million deliveries (model)',
    '≤ $3',
    (r) => r.cost?.total,
    (v) => `$${v.toFixed(2)}`,
    (v) => v <= 3,
  ),
  {
    measure: 'e2e at 8 connections, decided and triggered/s, backlog at end',
    goal: '≥ 1,000/s, 0',
    check: (r) => {
      const phase = r.e2e.c8;
      if (phase?.decidedPerS === undefined || phase.backlog === undefined) return undefined;
      const backlog = phase.backlog + (phase.triggerBacklog ?? 0);
      return {
        value: `${phase.decidedPerS.toFixed(0)}/s, ${backlog}`,
        pass: phase.decidedPerS >= 1_000 && backlog === 0,
      };
    },
  },
  simple(
    'e2e at 8 connections, p99 answer latency',
    '≤ 50 ms',
    (r) => r.e2e.c8?.p99Ms,
    ms,
    (v) => v <= 50,
  ),
  simple(
    'delivery → trigger at 100/s offered, p99',
    '≤ 50 ms',
    (r) => r.e2e.r100?.triggerP99Ms,
    ms,
    (v) => v <= 50,
  ),
  simple('e2e errors (every phase)', '0', e2eErrors, String, (v) => v === 0),
  simple(
    'e2e lost (deliveries without decisions, triggers not written)',
    '0',
    (r) => r.e2e.lost,
    String,
    (v) => v === 0,
  ),
  simple(
    'e2e doubled (decided twice, trigger written twice)',
    '0',
    (r) => r.e2e.doubled,
    String,
    (v) => v === 0,
  ),
];

/** One row per goal: the measured value and pass/fail, or `n/a` when it was not measured. */
export function goalRows(results: BenchResults): GoalRow[] {
  return GOALS.map((goal) => {
    const checked = goal.check(results);
    if (!checked) return { measure: goal.measure, value: '—', goal: goal.goal, result: 'n/a' };
    return {
      measure: goal.measure,
      value: checked.value,
      goal: goal.goal,
      result: checked.pass ? 'pass' : 'fail',
    };
  });
}

export function asResult<T extends object>(value: T | { skipped: string } | undefined): T | undefined {
  return value && !('skipped' in value) ? value : undefined;
}

/** A plain-text table: a header, a rule, then the rows, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

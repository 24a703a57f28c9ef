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
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

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
  e2e: {
    c8?: E2ePhaseSummary;
    c64?: E2ePhaseSummary;
    lost?: number;
    doubled?: number;
  };
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
  read: (results: BenchResults) => number | undefined;
  format: (value: number) => string;
  passes: (value: number) => boolean;
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const bundle = (results: BenchResults) => asResult<BundleResult>(results.bundles.webhook);

/** The goals, in its order. KB are 1024 bytes. */
export const GOALS: readonly Goal[] = [
  {
    measure: 'webhook own code (minified, @aws-sdk/* external)',
    goal: '≤ 100 KB',
    read: (r) => bundle(r)?.ownCodeBytes,
    format: kb,
    passes: (v) => v <= 100 * KB,
  },
  {
    measure: 'webhook whole bundle (minified)',
    goal: '≤ 700 KB',
    read: (r) => bundle(r)?.minifiedBytes,
    format: kb,
    passes: (v) => v <= 700 * KB,
  },
  {
    measure: 'webhook cold start, median over baseline',
    goal: '≤ 180 ms',
    read: (r) => asResult<ColdStartResult>(r.coldStart.webhook)?.medianMs,
    format: ms,
    passes: (v) => v <= 180,
  },
  {
    measure: 'warm webhook CPU per delivery, p50',
    goal: '≤ 0.5 ms',
    read: (r) => (r.warm.webhook ? r.warm.webhook.p50Us / 1000 : undefined),
    format: (v) => `${v.toFixed(3)} ms`,
    passes: (v) => v <= 0.5,
  },
  {
    measure: 'e2e at 8 connections, deliveries/s',
    goal: '≥ 500/s',
    read: (r) => r.e2e.c8?.rps,
    format: (v) => `${v.toFixed(0)}/s`,
    passes: (v) => v >= 500,
  },
  {
    measure: 'e2e at 8 connections, p99 latency',
    goal: '≤ 50 ms',
    read: (r) => r.e2e.c8?.p99Ms,
    format: ms,
    passes: (v) => v <= 50,
  },
  {
    measure: 'e2e errors (8 and 64 connections)',
    goal: '0',
    read: (r) => (r.e2e.c8 || r.e2e.c64 ? (r.e2e.c8?.errors ?? 0) + (r.e2e.c64?.errors ?? 0) : undefined),
    format: String,
    passes: (v) => v === 0,
  },
  {
    measure: 'e2e lost (deliveries without decisions, triggers not written)',
    goal: '0',
    read: (r) => r.e2e.lost,
    format: String,
    passes: (v) => v === 0,
  },
  {
    measure: 'e2e doubled (decided twice, trigger written twice)',
    goal: '0',
    read: (r) => r.e2e.doubled,
    format: String,
    passes: (v) => v === 0,
  },
];

/** One row per goal: the measured value and pass/fail, or `n/a` when it was not measured. */
export function goalRows(results: BenchResults): GoalRow[] {
  return GOALS.map((goal) => {
    const value = goal.read(results);
    if (value === undefined || Number.isNaN(value)) {
      return { measure: goal.measure, value: '—', goal: goal.goal, result: 'n/a' };
    }
    return {
      measure: goal.measure,
      value: goal.format(value),
      goal: goal.goal,
      result: goal.passes(value) ? 'pass' : 'fail',
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

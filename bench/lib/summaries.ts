import type { ColdStartRuns } from '../cold-start';
import type { EndToEndResult, PhaseResult } from '../e2e';
import type { WarmSamples } from '../warm-worker';
import type { FunctionName } from './functions';
import type { BenchResults, E2ePhaseSummary } from './results';
import { mean, median, percentile, round } from './stats';

/** A fresh results object: every part empty until it is measured. */
export function emptyResults(machine: string, quick: boolean, startedAt: Date): BenchResults {
  return {
    machine,
    quick,
    bundles: {},
    coldStart: {},
    warm: {},
    e2e: {},
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    loadAverage: {},
    goals: [],
    notes: [],
    details: {},
  };
}

/**
 * Cold starts over the baseline: each function's median and p90 minus the median of `node -e 0`
 * from the same rounds. Functions that failed are marked skipped with the reason.
 */
export function summariseColdStart(runs: ColdStartRuns): {
  coldStart: BenchResults['coldStart'];
  detail: Record<string, unknown>;
} {
  const base = median(runs.baseline);
  const coldStart: BenchResults['coldStart'] = {};
  const detail: Record<string, unknown> = {
    baseline: {
      medianMs: round(base),
      p90Ms: round(percentile(runs.baseline, 90)),
      runs: runs.baseline.length,
    },
  };
  for (const [name, samples] of Object.entries(runs.samples) as [FunctionName, number[]][]) {
    if (samples.length === 0) continue;
    const phases = runs.phases[name];
    coldStart[name] = {
      medianMs: round(median(samples) - base),
      p90Ms: round(percentile(samples, 90) - base),
    };
    detail[name] = {
      runs: samples.length,
      rawMedianMs: round(median(samples)),
      rawP90Ms: round(percentile(samples, 90)),
      ...(phases?.load.length
        ? {
            loadBundleMedianMs: round(median(phases.load)),
            firstEventMedianMs: round(median(phases.firstEvent)),
          }
        : {}),
    };
  }
  for (const [name, reason] of Object.entries(runs.failures) as [FunctionName, string][]) {
    coldStart[name] = { skipped: reason };
  }
  return { coldStart, detail };
}

/** CPU per delivery: p50 and p99 in whole microseconds, and what explains them. */
export function summariseWarm(samples: WarmSamples): {
  warm: BenchResults['warm'];
  detail: Record<string, unknown>;
} {
  const p50 = (values: number[]) => Math.round(median(values));
  const p99 = (values: number[]) => Math.round(percentile(values, 99));
  return {
    warm: {
      webhook: { p50Us: p50(samples.webhook), p99Us: p99(samples.webhook) },
      processor: { p50Us: p50(samples.processor), p99Us: p99(samples.processor) },
      floor: { p50Us: p50(samples.floor) },
    },
    detail: {
      iterations: samples.webhook.length,
      webhookOverFloor: round(median(samples.webhook) / median(samples.floor)),
      processorOverFloor: round(median(samples.processor) / median(samples.floor)),
      floorP99Us: p99(samples.floor),
      webhookMeanUs: Math.round(mean(samples.webhook)),
      processorMeanUs: Math.round(mean(samples.processor)),
      webhookWithoutPowertoolsP50Us: p50(samples.webhookNoPowertools),
      sdkCallP50Us: p50(samples.sdkCall),
      jsonCallP50Us: p50(samples.jsonCall),
      gzipP50Us: p50(samples.gzip),
      awsCallsPerWebhook: round(samples.callsPerWebhook, 2),
      awsCallsPerProcessor: round(samples.callsPerProcessor, 2),
      fakeAwsP50UsExcluded: { webhook: p50(samples.fakeWebhook), processor: p50(samples.fakeProcessor) },
      errors: samples.errors,
    },
  };
}

/** `c8` and `c64` as the issue names them, plus lost and doubled; the whole accounting in `detail`. */
export function summariseEndToEnd(result: EndToEndResult): {
  e2e: BenchResults['e2e'];
  detail: Record<string, unknown>;
} {
  const e2e: BenchResults['e2e'] = {};
  for (const phase of result.phases) {
    const key = `c${phase.connections}`;
    if (key === 'c8' || key === 'c64') e2e[key] = phaseSummary(phase);
  }
  const { accounting } = result;
  e2e.lost = accounting.lost;
  e2e.doubled = accounting.doubled;
  const first = (ids: string[]) => ids.slice(0, 10);
  return {
    e2e,
    detail: {
      phases: result.phases,
      planned: result.planned,
      acceptedUnanswered: result.acceptedUnanswered,
      deadLetters: result.deadLetters,
      accounting: {
        ...accounting,
        lostDeliveries: first(accounting.lostDeliveries),
        doubledDeliveries: first(accounting.doubledDeliveries),
        unfinishedDeliveries: first(accounting.unfinishedDeliveries),
        lostTriggers: first(accounting.lostTriggers),
        doubledTriggers: first(accounting.doubledTriggers),
        unexpectedTriggers: first(accounting.unexpectedTriggers),
        unexpectedTriggerCount: accounting.unexpectedTriggers.length,
      },
    },
  };
}

function phaseSummary(phase: PhaseResult): E2ePhaseSummary {
  return { rps: round(phase.rps), p50Ms: phase.p50Ms, p99Ms: phase.p99Ms, errors: phase.errors };
}

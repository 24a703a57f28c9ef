import type { ColdStartRuns } from '../cold-start';
import type { EndToEndResult, PhaseResult } from '../e2e';
import type { CallAccounting, WarmSamples } from '../warm-worker';
import type { Caller } from './calls';
import { costOfMillionDeliveries } from './cost';
import type { FunctionName } from './functions';
import { type BenchResults, E2E_PHASE_KEYS, type E2ePhaseKey, type E2ePhaseSummary } from './results';
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

/**
 * The calls per delivery by operation for each function and the cost of a million deliveries,
 * from the warm part's accounting pass and the functions' configured memory.
 */
export function summariseCalls(
  accounting: CallAccounting,
  memoryMb: Record<Caller, number>,
): {
  calls: NonNullable<BenchResults['calls']>;
  cost: NonNullable<BenchResults['cost']>;
  detail: Record<string, unknown>;
} {
  const cost = costOfMillionDeliveries({ ...accounting, memoryMb });
  const cpu = (who: Caller) => accounting.invocations[who].map((one) => one.cpuUs);
  return {
    calls: { webhook: accounting.webhook, processor: accounting.processor },
    cost,
    detail: {
      deliveries: accounting.deliveries,
      processed: accounting.processed,
      triggers: accounting.triggers,
      mix: accounting.mix,
      memoryMb,
      cpuMeanUs: Object.fromEntries(
        (['webhook', 'processor'] as const).map((who) => [
          who,
          cpu(who).length ? Math.round(mean(cpu(who))) : 0,
        ]),
      ),
    },
  };
}

/** Each phase by its key (`r100`, `r300`, `c8`, `c64`), plus lost and doubled; the whole accounting in `detail`. */
export function summariseEndToEnd(result: EndToEndResult): {
  e2e: BenchResults['e2e'];
  detail: Record<string, unknown>;
} {
  const e2e: BenchResults['e2e'] = {};
  for (const phase of result.phases) {
    if ((E2E_PHASE_KEYS as readonly string[]).includes(phase.key))
      e2e[phase.key as E2ePhaseKey] = phaseSummary(phase);
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
  const summary: E2ePhaseSummary = {
    rps: round(phase.rps),
    p50Ms: round(phase.p50Ms),
    p99Ms: round(phase.p99Ms),
    errors: phase.errors,
  };
  const flow = phase.flow;
  if (!flow) return summary;
  return {
    ...summary,
    acceptedPerS: round(flow.acceptedPerS),
    decidedPerS: round(flow.decidedPerS),
    triggersPerS: round(flow.triggersPerS),
    backlog: flow.backlog,
    triggerBacklog: flow.triggerBacklog,
    ...(flow.triggerLatency
      ? {
          triggerP50Ms: round(flow.triggerLatency.p50Ms),
          triggerP99Ms: round(flow.triggerLatency.p99Ms),
          triggersMeasured: flow.triggerLatency.count,
        }
      : {}),
    triggersNotWritten: flow.triggersNotWritten,
  };
}

// The text `npm run bench` prints: the goals table, then every number measured and what
// explains it.
import type { PhaseResult } from '../e2e';
import { PRICE_REGION, PRICES_AS_OF } from '../prices';
import type { PerDelivery } from './calls';
import { ASSUMPTIONS, type CostModel, cpuShare } from './cost';
import { type BenchResults, formatTable } from './results';

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

const FUNCTIONS = ['webhook', 'processor', 'admin'] as const;

/** The goals table, then every number measured. */
export function report(results: BenchResults): string {
  const sections: string[] = [
    formatTable(
      ['measure', 'value', 'goal', 'result'],
      results.goals.map((row) => [row.measure, row.value, row.goal, row.result.toUpperCase()]),
    ),
  ];
  const parts = [
    bundles(results),
    coldStarts(results),
    warm(results),
    calls(results),
    cost(results),
    endToEnd(results),
  ];
  for (const part of parts) if (part) sections.push(part);
  sections.push(
    `load average (1 min) by part: ${Object.entries(results.loadAverage)
      .map(([name, load]) => `${name} ${load.start.toFixed(2)}→${load.end.toFixed(2)}`)
      .join(', ')}`,
  );
  return sections.join('\n\n');
}

function bundles(results: BenchResults): string | undefined {
  const rows = FUNCTIONS.flatMap((name) => {
    const value = results.bundles[name];
    if (!value) return [];
    if ('skipped' in value) return [[name, 'skipped', '', '']];
    return [[name, kb(value.minifiedBytes), kb(value.gzipBytes), kb(value.ownCodeBytes)]];
  });
  return rows.length ? formatTable(['bundle', 'minified', 'gzip -9', 'own code'], rows) : undefined;
}

function coldStarts(results: BenchResults): string | undefined {
  const cold = results.details.coldStart as
    | (Record<string, { loadBundleMedianMs?: number; firstEventMedianMs?: number }> & {
        baseline?: { medianMs: number };
      })
    | undefined;
  const rows = FUNCTIONS.flatMap((name) => {
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
  if (!rows.length) return undefined;
  return (
    `${formatTable(['cold start (over baseline)', 'median', 'p90', 'load bundle', 'first event'], rows)}\n` +
    `baseline \`node -e 0\`: ${cold?.baseline?.medianMs ?? '?'} ms median`
  );
}

function warm(results: BenchResults): string | undefined {
  const { webhook, processor, floor } = results.warm;
  if (!webhook || !processor || !floor) return undefined;
  const detail = (results.details.warm ?? {}) as Record<string, number | undefined>;
  return (
    `${formatTable(
      ['warm CPU per delivery', 'p50', 'p99', '× floor (p50)'],
      [
        ['webhook', `${webhook.p50Us} µs`, `${webhook.p99Us} µs`, `${detail.webhookOverFloor}×`],
        ['processor', `${processor.p50Us} µs`, `${processor.p99Us} µs`, `${detail.processorOverFloor}×`],
        ['floor (HMAC-SHA256 + JSON.parse)', `${floor.p50Us} µs`, `${detail.floorP99Us} µs`, '1×'],
      ],
    )}\n` +
    `webhook p50 without Powertools logger/metrics: ${detail.webhookWithoutPowertoolsP50Us} µs; ` +
    `one GetItem through AwsJsonClient: ${detail.jsonCallP50Us} µs (through the SDK: ${detail.sdkCallP50Us} µs); ` +
    `gzip -1 of the body: ${detail.gzipP50Us} µs`
  );
}

const fixed = (value: number, digits = 2) => (value === 0 ? '0' : value.toFixed(digits));

/** AWS calls per delivery by operation, with the units they are billed. */
export function callsTable(calls: { webhook: PerDelivery; processor: PerDelivery }): string {
  const rows: string[][] = [];
  for (const fn of ['webhook', 'processor'] as const) {
    const per = calls[fn];
    for (const [operation, totals] of Object.entries(per.byOperation)) {
      rows.push([
        fn,
        operation,
        fixed(totals.calls),
        fixed(totals.refused),
        fixed(totals.readUnits),
        fixed(totals.writeUnits),
        fixed(totals.indexWriteUnits),
        fixed(totals.sqsRequests),
      ]);
    }
    rows.push([
      fn,
      'all',
      fixed(per.calls),
      '',
      fixed(per.readUnits),
      fixed(per.writeUnits),
      fixed(per.indexWriteUnits),
      fixed(per.sqsRequests),
    ]);
  }
  return formatTable(
    [
      'AWS calls per delivery',
      'operation',
      'calls',
      'refused',
      'RRU',
      'WRU table',
      'WRU indexes',
      'SQS requests',
    ],
    rows,
  );
}

function calls(results: BenchResults): string | undefined {
  if (!results.calls) return undefined;
  const detail = results.details.calls as
    | { deliveries: number; processed: number; triggers: number; mix: Record<string, number> }
    | undefined;
  const intro = detail
    ? `${detail.deliveries} deliveries (${detail.mix.fresh} new, ${detail.mix.retry} resent, ` +
      `${detail.mix['same-commit']} an earlier commit under a new id); the processor handled ${detail.processed} ` +
      `and sent ${detail.triggers} triggers. Webhook figures are per delivery, processor figures per delivery it handled.`
    : '';
  return `${callsTable(results.calls)}\n${intro}`;
}

/** The cost model's lines, its total and the assumptions under it. */
export function costTable(model: CostModel): string {
  const rows = model.lines.map((line) => [
    line.service,
    line.item,
    Math.round(line.quantity).toLocaleString('en-US'),
    line.unit,
    `$${line.usd.toFixed(3)}`,
    line.basis,
  ]);
  rows.push(['total', '', '', '', `$${model.total.toFixed(2)}`, '']);
  const a = ASSUMPTIONS;
  return (
    `${formatTable(['cost of 1M deliveries', 'item', 'quantity', 'unit', 'USD', 'basis'], rows)}\n` +
    `by service: ${Object.entries(model.byService)
      .map(([service, usd]) => `${service} $${usd.toFixed(2)}`)
      .join(', ')}\n` +
    `${PRICE_REGION} list prices of ${PRICES_AS_OF} (bench/prices.ts). Modelled: Lambda duration = CPU measured here ÷ ` +
    `the CPU share of the memory (${cpuShare(1024).toFixed(2)} at 1024 MB) + a round trip per call ` +
    `(${Object.entries(a.roundTripMs)
      .map(([service, ms]) => `${service} ${ms} ms`)
      .join(', ')}), rounded up to the ms; processor batches of ${a.processorBatchSize}. ` +
    'Not counted: cold starts, CloudWatch logs and metrics, the sweeper, idle queue polling, secrets storage.'
  );
}

function cost(results: BenchResults): string | undefined {
  return results.cost ? costTable(results.cost) : undefined;
}

function endToEnd(results: BenchResults): string | undefined {
  const detail = results.details.e2e as
    | {
        phases: PhaseResult[];
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
  if (!detail) return undefined;
  const ms = (value: number | undefined) => (value === undefined ? '—' : `${value.toFixed(1)} ms`);
  const load = detail.phases.map((phase) => [
    phase.name,
    `${phase.rps.toFixed(0)}/s`,
    ms(phase.p50Ms),
    ms(phase.p99Ms),
    String(phase.errors),
    phase.skipped ? String(phase.skipped) : '0',
    phase.drainMs === undefined
      ? '—'
      : `${(phase.drainMs / 1000).toFixed(1)} s${phase.drained ? '' : ' (stopped)'}`,
    phase.stackCpuMsPerDelivery === undefined ? '—' : `${phase.stackCpuMsPerDelivery.toFixed(1)} ms`,
  ]);
  const flow = detail.phases.map((phase) => {
    const f = phase.flow;
    if (!f) return [phase.name, 'not stamped', '', '', '', '', '', ''];
    const latency = f.triggerLatency;
    return [
      phase.name,
      `${f.acceptedPerS.toFixed(0)}/s`,
      `${f.decidedPerS.toFixed(0)}/s`,
      `${f.triggersPerS.toFixed(0)}/s`,
      `${f.backlogAtStart} → ${f.backlog}, ${f.triggerBacklog}`,
      latency
        ? `${latency.p50Ms.toFixed(0)} / ${latency.p99Ms.toFixed(0)} ms (${latency.count}${f.triggersNotWritten ? `, ${f.triggersNotWritten} unwritten` : ''})`
        : `— (${f.triggersNotWritten} unwritten)`,
      f.buildLatency ? `${f.buildLatency.p50Ms.toFixed(0)} / ${f.buildLatency.p99Ms.toFixed(0)} ms` : '—',
      f.decideLatency ? `${f.decideLatency.p50Ms.toFixed(0)} / ${f.decideLatency.p99Ms.toFixed(0)} ms` : '—',
    ];
  });
  const a = detail.accounting;
  return (
    `${formatTable(
      [
        'e2e load',
        'answered',
        'answer p50',
        'answer p99',
        'errors',
        'skipped',
        'drain',
        'stack CPU/delivery',
      ],
      load,
    )}\n\n` +
    `${formatTable(
      [
        'e2e flow',
        'accepted',
        'decided',
        'triggers',
        'backlog (deliveries start → end, triggers)',
        'accept → trigger p50 / p99 (n)',
        'accept → built',
        '202 → decided',
      ],
      flow,
    )}\n` +
    `accepted ${a.accepted}: ${a.decided} decided, ${a.pending} still queued; triggers expected ${a.expectedTriggers}, ` +
    `written ${a.writtenTriggers}, unexpected ${a.unexpectedTriggers.length}; lost ${results.e2e.lost}, doubled ${results.e2e.doubled}`
  );
}

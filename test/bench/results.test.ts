import { describe, expect, it } from 'vitest';
import type { PhaseResult } from '../../bench/e2e';
import type { Accounting } from '../../bench/lib/accounting';
import type { PerDelivery } from '../../bench/lib/calls';
import type { PhaseFlow } from '../../bench/lib/flow';
import { report } from '../../bench/lib/report';
import { type BenchResults, formatTable, goalRows } from '../../bench/lib/results';
import {
  emptyResults,
  summariseColdStart,
  summariseEndToEnd,
  summariseWarm,
} from '../../bench/lib/summaries';
import type { WarmSamples } from '../../bench/warm-worker';

const accounting: Accounting = {
  accepted: 10,
  decided: 10,
  pending: 0,
  pendingTriggers: 0,
  expectedTriggers: 6,
  writtenTriggers: 6,
  lostDeliveries: [],
  doubledDeliveries: [],
  unfinishedDeliveries: [],
  lostTriggers: [],
  doubledTriggers: [],
  unexpectedTriggers: [],
  lost: 0,
  doubled: 0,
};

const flow = (decidedPerS: number, backlog: number, triggerP99Ms: number): PhaseFlow => ({
  seconds: 10,
  acceptedPerS: decidedPerS,
  decidedPerS,
  triggersPerS: decidedPerS / 2,
  backlogAtStart: 0,
  backlog,
  triggerBacklog: 0,
  triggerLatency: { count: 100, p50Ms: triggerP99Ms / 2, p99Ms: triggerP99Ms },
  buildLatency: { count: 100, p50Ms: 5, p99Ms: 9 },
  decideLatency: { count: 200, p50Ms: 4, p99Ms: 8 },
  triggersNotWritten: 0,
});

const phase = (key: string, rps: number, p99Ms: number, phaseFlow: PhaseFlow): PhaseResult => ({
  key,
  name: key,
  connections: key.startsWith('c') ? Number(key.slice(1)) : 0,
  ...(key.startsWith('r') ? { rate: Number(key.slice(1)) } : {}),
  durationSeconds: 10,
  rps,
  p50Ms: 4,
  p90Ms: 8,
  p99Ms,
  maxMs: 90,
  errors: 0,
  requests: rps * 10,
  statuses: { '202': rps * 10 },
  accepted: rps * 10,
  repeats: 0,
  window: { start: 0, end: 10_000 },
  flow: phaseFlow,
  loadAverage: { start: 1, end: 1 },
});

const perDelivery = (calls: number): PerDelivery => ({
  deliveries: 100,
  calls,
  byService: { DynamoDB: calls },
  readUnits: 1,
  writeUnits: 2,
  indexWriteUnits: 1,
  sqsRequests: 0,
  byOperation: {
    'DynamoDB.GetItem': {
      calls,
      refused: 0,
      readUnits: 1,
      writeUnits: 2,
      indexWriteUnits: 1,
      sqsRequests: 0,
    },
  },
});

const warmSamples = (webhookUs: number): WarmSamples => ({
  webhook: [webhookUs, webhookUs, webhookUs * 3],
  processor: [900, 1000, 1100],
  floor: [50, 50, 60],
  webhookNoPowertools: [300],
  gzip: [80],
  sdkCall: [100],
  jsonCall: [20],
  fakeWebhook: [10],
  fakeProcessor: [30],
  callsPerWebhook: 2,
  callsPerProcessor: 8,
  errors: [],
});

interface Figures {
  webhookUs: number;
  c8DecidedPerS: number;
  c8Backlog: number;
  c8P99: number;
  r100TriggerP99: number;
  processorCalls: number;
  costUsd: number;
}

const GOOD: Figures = {
  webhookUs: 200,
  c8DecidedPerS: 1200,
  c8Backlog: 0,
  c8P99: 40,
  r100TriggerP99: 30,
  processorCalls: 3.5,
  costUsd: 2.5,
};

function measured(figures: Partial<Figures> = {}): BenchResults {
  const f = { ...GOOD, ...figures };
  const results = emptyResults('Test CPU, 2 cores, node v20', true, new Date('2025-03-01T10:00:00Z'));
  results.bundles = { webhook: { minifiedBytes: 450_000, gzipBytes: 130_000, ownCodeBytes: 70_000 } };
  const cold = summariseColdStart({
    baseline: [40, 40, 50],
    samples: { webhook: [150, 160, 200], processor: [200, 210, 220] },
    failures: { admin: 'did not answer: boom' },
    phases: { webhook: { load: [100, 110, 120], firstEvent: [30, 30, 40] } },
  });
  results.coldStart = cold.coldStart;
  results.warm = summariseWarm(warmSamples(f.webhookUs)).warm;
  results.calls = { webhook: perDelivery(2), processor: perDelivery(f.processorCalls) };
  results.cost = {
    deliveries: 100,
    total: f.costUsd,
    lines: [],
    byService: {},
    billedMs: { webhook: 1, processor: 1 },
  };
  results.e2e = summariseEndToEnd({
    phases: [
      phase('r100', 100, 20, flow(100, 0, f.r100TriggerP99)),
      phase('c8', 1300, f.c8P99, flow(f.c8DecidedPerS, f.c8Backlog, 400)),
      phase('c64', 700, 120, flow(900, 3000, 900)),
    ],
    accounting,
    deadLetters: 0,
    acceptedUnanswered: 0,
    planned: { fresh: 10, 'same-commit': 0, retry: 0 },
    stackStderr: '',
  }).e2e;
  return results;
}

describe('bench results', () => {
  it('has the shape the issue asks for', () => {
    const results = measured();
    expect(results).toMatchObject({
      machine: expect.any(String),
      quick: true,
      bundles: {
        webhook: {
          minifiedBytes: expect.any(Number),
          gzipBytes: expect.any(Number),
          ownCodeBytes: expect.any(Number),
        },
      },
      coldStart: {
        webhook: { medianMs: expect.any(Number), p90Ms: expect.any(Number) },
        processor: { medianMs: expect.any(Number), p90Ms: expect.any(Number) },
        admin: { skipped: 'did not answer: boom' },
      },
      warm: {
        webhook: { p50Us: expect.any(Number), p99Us: expect.any(Number) },
        processor: { p50Us: expect.any(Number), p99Us: expect.any(Number) },
        floor: { p50Us: expect.any(Number) },
      },
      e2e: {
        r100: { rps: 100, triggerP99Ms: 30, triggersMeasured: 100, backlog: 0 },
        c8: { rps: 1300, p50Ms: 4, p99Ms: 40, errors: 0, decidedPerS: 1200, backlog: 0, triggerBacklog: 0 },
        c64: { rps: 700, p50Ms: 4, p99Ms: 120, errors: 0, backlog: 3000 },
        lost: 0,
        doubled: 0,
      },
      calls: { processor: { calls: 3.5, byOperation: { 'DynamoDB.GetItem': expect.any(Object) } } },
      cost: { total: 2.5 },
    });
    expect(JSON.parse(JSON.stringify(results))).toEqual(results);
  });

  it('subtracts the median baseline from the cold-start median and p90', () => {
    expect(measured().coldStart.webhook).toEqual({ medianMs: 120, p90Ms: 152 });
  });

  it('passes every goal when the numbers meet them', () => {
    const rows = goalRows(measured());
    expect(rows).toHaveLength(13);
    expect(rows.filter((row) => row.result !== 'pass')).toEqual([]);
  });

  it('fails the goals a slow webhook and a slow stack miss, and only those', () => {
    const rows = goalRows(measured({ webhookUs: 800, c8DecidedPerS: 300, c8P99: 80, r100TriggerP99: 51 }));
    expect(rows.filter((row) => row.result === 'fail').map((row) => row.measure)).toEqual([
      'warm webhook CPU per delivery, p50',
      'e2e at 8 connections, decided and triggered/s, backlog at end',
      'e2e at 8 connections, p99 answer latency',
      'delivery → trigger at 100/s offered, p99',
    ]);
    expect(rows.find((row) => row.measure.startsWith('warm webhook'))?.value).toBe('0.800 ms');
    expect(rows.find((row) => row.measure.startsWith('e2e at 8 connections, decided'))?.value).toBe(
      '300/s, 0',
    );
  });

  it('fails end to end when a backlog is left, however fast deliveries were decided', () => {
    const rows = goalRows(measured({ c8Backlog: 1 }));
    expect(rows.filter((row) => row.result === 'fail').map((row) => row.value)).toEqual(['1200/s, 1']);
  });

  it('fails the processor’s calls and the cost of a million deliveries past their goals', () => {
    const rows = goalRows(measured({ processorCalls: 8.25, costUsd: 12.3 }));
    expect(rows.filter((row) => row.result === 'fail').map((row) => [row.measure, row.value])).toEqual([
      ['processor AWS calls per delivery (corpus mix)', '8.25'],
      ['cost of one million deliveries (model)', '$12.30'],
    ]);
  });

  it('prints every goal row and every end-to-end phase in the report', () => {
    const results = measured();
    results.goals = goalRows(results);
    results.details.warm = summariseWarm(warmSamples(200)).detail;
    results.details.e2e = summariseEndToEnd({
      phases: [phase('r100', 100, 20, flow(100, 0, 30))],
      accounting,
      deadLetters: 0,
      acceptedUnanswered: 0,
      planned: { fresh: 10, 'same-commit': 0, retry: 0 },
      stackStderr: '',
    }).detail;
    const text = report(results);
    for (const row of results.goals) expect(text).toContain(row.measure);
    expect(text).toContain('r100');
    expect(text).toContain('15 / 30 ms (100)');
  });

  it('marks what was not measured n/a rather than passing it', () => {
    const rows = goalRows(emptyResults('m', false, new Date()));
    expect(new Set(rows.map((row) => row.result))).toEqual(new Set(['n/a']));
  });

  it('lays out a table with columns padded to their widest cell', () => {
    expect(formatTable(['a', 'bb'], [['ccc', 'd']])).toBe('a    bb\n---  --\nccc  d');
  });
});

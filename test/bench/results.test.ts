import { describe, expect, it } from 'vitest';
import type { Accounting } from '../../bench/lib/accounting';
import { formatTable, goalRows } from '../../bench/lib/results';
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

const phase = (connections: number, rps: number, p99Ms: number) => ({
  connections,
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
  loadAverage: { start: 1, end: 1 },
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

function measured(webhookUs = 400, c8Rps = 600, c8P99 = 40) {
  const results = emptyResults('Test CPU, 2 cores, node v20', true, new Date('2025-03-01T10:00:00Z'));
  results.bundles = { webhook: { minifiedBytes: 450_000, gzipBytes: 130_000, ownCodeBytes: 70_000 } };
  const cold = summariseColdStart({
    baseline: [40, 40, 50],
    samples: { webhook: [150, 160, 200], processor: [200, 210, 220] },
    failures: { admin: 'did not answer: boom' },
    phases: { webhook: { load: [100, 110, 120], firstEvent: [30, 30, 40] } },
  });
  results.coldStart = cold.coldStart;
  results.warm = summariseWarm(warmSamples(webhookUs)).warm;
  results.e2e = summariseEndToEnd({
    phases: [phase(8, c8Rps, c8P99), phase(64, 700, 120)],
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
        c8: { rps: 600, p50Ms: 4, p99Ms: 40, errors: 0 },
        c64: { rps: 700, p50Ms: 4, p99Ms: 120, errors: 0 },
        lost: 0,
        doubled: 0,
      },
    });
    expect(JSON.parse(JSON.stringify(results))).toEqual(results);
  });

  it('subtracts the median baseline from the cold-start median and p90', () => {
    expect(measured().coldStart.webhook).toEqual({ medianMs: 120, p90Ms: 152 });
  });

  it('passes every goal when the numbers meet them', () => {
    const rows = goalRows(measured());
    expect(rows).toHaveLength(9);
    expect(rows.filter((row) => row.result !== 'pass')).toEqual([]);
  });

  it('fails the goals a slow webhook and a slow stack miss, and only those', () => {
    const rows = goalRows(measured(800, 300, 80));
    expect(rows.filter((row) => row.result === 'fail').map((row) => row.measure)).toEqual([
      'warm webhook CPU per delivery, p50',
      'e2e at 8 connections, deliveries/s',
      'e2e at 8 connections, p99 latency',
    ]);
    expect(rows.find((row) => row.measure.startsWith('warm'))?.value).toBe('0.800 ms');
  });

  it('marks what was not measured n/a rather than passing it', () => {
    const rows = goalRows(emptyResults('m', false, new Date()));
    expect(new Set(rows.map((row) => row.result))).toEqual(new Set(['n/a']));
  });

  it('lays out a table with columns padded to their widest cell', () => {
    expect(formatTable(['a', 'bb'], [['ccc', 'd']])).toBe('a    bb\n---  --\nccc  d');
  });
});

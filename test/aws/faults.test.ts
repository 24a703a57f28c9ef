import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulatorTierRuns } from '../support/moto-server';
import { AWS_TIER_STAGE } from './support/aws-stack';
import { type FaultCase, MATRIX_CALLS, matrixCases, type Observation } from './support/fault-cases';
import { type Lanes, startLanes } from './support/fault-lanes';
import { synthesizeStack } from './support/synth';

// The fault matrix: every AWS call the webhook, the processor, the sweeper and a replay make for a
// push, each hung, delayed past its attempt timeout, failed with 500/503, throttled, or applied
// with its reply dropped, for the length of one attempt. The test acts as Bitbucket (a 5xx or a
// timeout is sent again with the same delivery id and bytes, at most twice; a 2xx or 4xx is final),
// as Lambda's SQS event source (a failed record is received again), as the schedule (the sweeper
// runs again) and as an operator (a replay answered 5xx is asked again), and asks of every case:
// the delivery is accepted, decided once and triggered once, nothing is dead-lettered, no
// invocation answered 500 or outlived its deadline. Cases run side by side on lanes (processes
// with their own moto).

const runs = emulatorTierRuns();

const LANES = 3;
// `HOOKGATE_FAULT_CASES=<regex>` runs only the cases whose names match (while working on one).
const only = process.env.HOOKGATE_FAULT_CASES ? new RegExp(process.env.HOOKGATE_FAULT_CASES) : undefined;
const cases = matrixCases().filter((c) => !only || only.test(c.id));

describe.skipIf(!runs)('every AWS call of the ingest path under every fault', () => {
  let lanes: Lanes;
  const results = new Map<string, Promise<Observation>>();
  let unfaulted: ReturnType<Lanes['unfaultedCalls']>;

  beforeAll(async () => {
    // One synthesis for every lane.
    await synthesizeStack(AWS_TIER_STAGE);
    lanes = await startLanes(LANES);
    unfaulted = lanes.unfaultedCalls();
    unfaulted.catch(() => undefined);
    for (const fault of cases) {
      const result = lanes.run(fault);
      result.catch(() => undefined);
      results.set(fault.id, result);
    }
  }, 300_000);

  afterAll(async () => {
    // `HOOKGATE_FAULT_REPORT=<file>` writes every case's observation there (figures for a report).
    const report = process.env.HOOKGATE_FAULT_REPORT;
    if (report) {
      const settled = await Promise.all(
        [...results].map(async ([id, seen]) => [id, await seen.catch((e: Error) => ({ error: e.message }))]),
      );
      writeFileSync(report, JSON.stringify(Object.fromEntries(settled), null, 2));
    }
    await lanes?.stop();
  }, 60_000);

  test('the matrix has a row for every call an unfaulted delivery makes, in order', async () => {
    const calls = await unfaulted;
    expect(calls).toEqual(
      Object.fromEntries(
        Object.entries(MATRIX_CALLS).map(([name, rows]) => [
          name,
          rows.map((r) => `${r.operation}#${r.nth}`),
        ]),
      ),
    );
  }, 120_000);

  const check = (fault: FaultCase) => async () => {
    const seen = await results.get(fault.id);
    if (!seen) throw new Error(`no result for ${fault.id}`);
    const summary = JSON.stringify(seen);
    expect(seen.faulted, `the fault was applied: ${summary}`).toBeGreaterThan(0);
    expect(seen.deadlineOrFiveHundred, summary).toEqual([]);
    expect(
      seen.attempts.filter((a) => a.status === 500),
      summary,
    ).toEqual([]);
    expect(seen.accepted, `accepted: ${summary}`).toBe(true);
    expect(seen.recordStatus, `decided: ${summary}`).toBe('processed');
    expect(seen.decisions, summary).toBe(1);
    // A replay decides again but sends no trigger already sent: still one.
    expect(seen.triggerCommits, `triggered once: ${summary}`).toEqual([seen.commit]);
    expect(seen.deadLettered, summary).toEqual([]);
    if (fault.functionName === 'replay') {
      const replays = seen.replays ?? [];
      expect(
        replays.filter((r) => r.status === 500),
        summary,
      ).toEqual([]);
      const done = replays.filter((r) => r.status === 202);
      expect(done, `one try answered 202: ${summary}`).toHaveLength(1);
      // Every replay recorded is decided, whichever try recorded it.
      expect(
        Object.values(seen.replayRecords ?? {}).filter((s) => s !== 'processed'),
        summary,
      ).toEqual([]);
      expect(Object.keys(seen.replayRecords ?? {}), summary).toContain(done[0]?.deliveryId);
    }
    if (fault.functionName === 'sweeper') {
      expect(seen.sweeps?.[1], `the next run ends cleanly: ${summary}`).toBe('answered');
    }
  };

  for (const fault of cases) {
    test(fault.id, check(fault), 240_000);
  }
});

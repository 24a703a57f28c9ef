import { describe, expect, it } from 'vitest';
import { BACKLOG_GRACE_MS, type FlowRecord, phaseFlow, type TriggerStamp } from '../../bench/lib/flow';

const T0 = 1_700_000_000_000;
const at = (seconds: number) => T0 + seconds * 1000;
const trigger = (
  triggerId: string,
  deliveryId: string,
  received: number,
  created: number,
  seen: number,
): TriggerStamp => ({
  triggerId,
  deliveryId,
  receivedAt: at(received),
  createdAt: at(created),
  seen: at(seen),
});

// A 10 s phase from T0: `old` was accepted before it and decided during it; a, b, c and d in it.
const record: FlowRecord = {
  accepted: new Map([
    ['old', at(-5)],
    ['a', at(1)],
    ['b', at(2)],
    ['c', at(9)],
    ['d', at(9.9)],
  ]),
  decided: new Map([
    ['old', at(0.5)],
    ['a', at(1.02)],
    ['b', at(2.5)],
    ['c', at(10.5)], // within the grace after the load
    // d: never decided
  ]),
  triggers: [
    trigger('t-old', 'old', -5, 0.4, 0.6),
    trigger('t-a', 'a', 1, 1.01, 1.04),
    trigger('t-b', 'b', 2, 2.4, 2.6),
    trigger('t-b', 'b', 2, 2.4, 3.0), // a copy: the first write counts
    trigger('t-c', 'c', 9, 10.4, 12), // written after the grace
  ],
  triggersOf: (id) => ({ old: ['t-old'], a: ['t-a'], b: ['t-b'], c: ['t-c', 't-c2'], d: ['t-d'] })[id] ?? [],
};

describe('end-to-end flow of a phase', () => {
  const flow = phaseFlow({ start: T0, end: at(10) }, record);

  it('gives accepted, decided and triggers per second over the same window', () => {
    expect(flow.seconds).toBe(10);
    expect(flow.acceptedPerS).toBeCloseTo(0.4, 10); // a b c d
    expect(flow.decidedPerS).toBeCloseTo(0.3, 10); // old a b; c after the end
    expect(flow.triggersPerS).toBeCloseTo(0.3, 10); // t-old t-a t-b, each once
  });

  it('counts backlog a grace period after the load: undecided deliveries and unwritten triggers', () => {
    expect(BACKLOG_GRACE_MS).toBe(1000);
    expect(flow.backlogAtStart).toBe(1); // old
    expect(flow.backlog).toBe(1); // d; c was decided within the grace
    expect(flow.triggerBacklog).toBe(2); // c's two triggers, decided but not written by then
    const strict = phaseFlow({ start: T0, end: at(10) }, record, 0);
    expect(strict.backlog).toBe(2); // c and d
    expect(strict.triggerBacklog).toBe(0); // c not decided yet: its triggers are not due
  });

  it('measures accept to trigger written for the triggers of deliveries accepted in the phase', () => {
    expect(flow.triggerLatency?.count).toBe(3); // t-a, t-b, t-c; not t-old
    expect(flow.triggerLatency?.p50Ms).toBeCloseTo(600, 6); // 40, 600, 3000 ms
    expect(flow.buildLatency?.p50Ms).toBeCloseTo(400, 6); // 10, 400, 1400 ms
    expect(flow.decideLatency?.count).toBe(3); // a b c
    expect(flow.triggersNotWritten).toBe(2); // t-c2 and t-d: never written
  });

  it('leaves latencies out when no trigger came of the phase', () => {
    const empty = phaseFlow({ start: at(100), end: at(110) }, record);
    expect(empty).toMatchObject({ acceptedPerS: 0, decidedPerS: 0, triggersPerS: 0, backlog: 1 });
    expect(empty.triggerLatency).toBeUndefined();
  });
});

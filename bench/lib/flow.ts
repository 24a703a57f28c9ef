// End to end = decided and triggered: what flowed through the local stack during one load phase,
// from the times the bench saw deliveries accepted (their 202), decided (their `delivery <id>`
// line on the stack's console) and triggers written (their line in triggers.ndjson).
import { percentile } from './stats';

/** A line of triggers.ndjson as the stamping thread saw it (times in epoch ms). */
export interface TriggerStamp {
  triggerId: string;
  deliveryId: string;
  /** When the webhook accepted the delivery (the trigger's `delivery.receivedAt`). */
  receivedAt: number;
  /** When the processor built the trigger (its `createdAt`). */
  createdAt: number;
  /** When the line was first seen in the file. */
  seen: number;
}

export interface FlowRecord {
  /** New deliveries (202 without `duplicate`) → when the bench read the answer. */
  accepted: ReadonlyMap<string, number>;
  /** Delivery id → when its decisions were first printed. */
  decided: ReadonlyMap<string, number>;
  /** Every line of triggers.ndjson, in order. */
  triggers: readonly TriggerStamp[];
  /** The trigger ids the rules give for a delivery (lib/accounting.ts). */
  triggersOf: (deliveryId: string) => readonly string[];
}

export interface Window {
  /** Epoch ms: the first request of the phase, and when its load ended. */
  start: number;
  end: number;
}

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface PhaseFlow {
  seconds: number;
  acceptedPerS: number;
  decidedPerS: number;
  triggersPerS: number;
  /** Accepted before the phase and not yet decided when it began. */
  backlogAtStart: number;
  /** Accepted by the end of the load and not decided BACKLOG_GRACE_MS after it. */
  backlog: number;
  /** Triggers of the deliveries decided by then, not yet written by then. */
  triggerBacklog: number;
  /** Accept (the webhook's receivedAt) to trigger written, for triggers of deliveries accepted in the phase. */
  triggerLatency?: Latency;
  /** Accept to trigger built by the processor (its createdAt), the same triggers. */
  buildLatency?: Latency;
  /** The bench's 202 to decisions printed, for deliveries accepted in the phase. */
  decideLatency?: Latency;
  /** Triggers due for deliveries accepted in the phase that were not written before the stack stopped. */
  triggersNotWritten: number;
}

/**
 * What is still in flight when the load stops is not backlog: a delivery counts as backlog when it
 * is still undecided this long after the end of the load.
 */
export const BACKLOG_GRACE_MS = 1_000;

/** The flow figures of one phase. */
export function phaseFlow(window: Window, record: FlowRecord, graceMs = BACKLOG_GRACE_MS): PhaseFlow {
  const seconds = Math.max(0.001, (window.end - window.start) / 1000);
  const inWindow = (at: number) => at >= window.start && at <= window.end;
  const cutoff = window.end + graceMs;
  const decidedBy = (id: string, at: number) => {
    const when = record.decided.get(id);
    return when !== undefined && when <= at;
  };
  let accepted = 0;
  let backlogAtStart = 0;
  let backlog = 0;
  const decideLatencies: number[] = [];
  const phaseDeliveries: string[] = [];
  for (const [id, at] of record.accepted) {
    if (at < window.start && !decidedBy(id, window.start)) backlogAtStart += 1;
    if (at <= window.end && !decidedBy(id, cutoff)) backlog += 1;
    if (!inWindow(at)) continue;
    accepted += 1;
    phaseDeliveries.push(id);
    const decidedAt = record.decided.get(id);
    if (decidedAt !== undefined) decideLatencies.push(Math.max(0, decidedAt - at));
  }
  let decided = 0;
  for (const at of record.decided.values()) if (inWindow(at)) decided += 1;

  const firstWrite = new Map<string, TriggerStamp>();
  for (const stamp of record.triggers)
    if (!firstWrite.has(stamp.triggerId)) firstWrite.set(stamp.triggerId, stamp);
  let written = 0;
  const triggerLatencies: number[] = [];
  const buildLatencies: number[] = [];
  for (const stamp of firstWrite.values()) {
    if (inWindow(stamp.seen)) written += 1;
    if (!inWindow(stamp.receivedAt)) continue;
    triggerLatencies.push(Math.max(0, stamp.seen - stamp.receivedAt));
    buildLatencies.push(Math.max(0, stamp.createdAt - stamp.receivedAt));
  }
  const due = new Set<string>();
  for (const [id, at] of record.decided) {
    if (at > cutoff) continue;
    for (const triggerId of record.triggersOf(id)) due.add(triggerId);
  }
  let triggerBacklog = 0;
  for (const triggerId of due) {
    const stamp = firstWrite.get(triggerId);
    if (!stamp || stamp.seen > cutoff) triggerBacklog += 1;
  }
  const notWritten = new Set<string>();
  for (const id of phaseDeliveries) {
    for (const triggerId of record.triggersOf(id)) if (!firstWrite.has(triggerId)) notWritten.add(triggerId);
  }
  return {
    seconds,
    acceptedPerS: accepted / seconds,
    decidedPerS: decided / seconds,
    triggersPerS: written / seconds,
    backlogAtStart,
    backlog,
    triggerBacklog,
    ...latencyOf('triggerLatency', triggerLatencies),
    ...latencyOf('buildLatency', buildLatencies),
    ...latencyOf('decideLatency', decideLatencies),
    triggersNotWritten: notWritten.size,
  };
}

function latencyOf<K extends string>(key: K, values: number[]): Partial<Record<K, Latency>> {
  if (values.length === 0) return {};
  return {
    [key]: { count: values.length, p50Ms: percentile(values, 50), p99Ms: percentile(values, 99) },
  } as Partial<Record<K, Latency>>;
}

import { describe, expect, it } from 'vitest';
import {
  crossedRequeueAge,
  SWEEP_AFTER_MS,
  sweepVerdict,
  sweepWindow,
} from '../../shared/ingest/sweep-deliveries';
import { receivedSortKey } from '../../shared/store/keys';

const MINUTE = 60_000;
const NOW = new Date('2025-06-02T12:00:00.000Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * MINUTE).toISOString();
const delivery = (status: string, minutes: number) => ({
  integration: 'acme',
  deliveryId: 'd1',
  status,
  receivedAt: ago(minutes),
  sortKey: receivedSortKey(ago(minutes), 'd1'),
});

describe('the sweep rules', () => {
  it('waits longer than SQS FIFO deduplication window of five minutes before a first re-enqueue', () => {
    expect(SWEEP_AFTER_MS).toBeGreaterThan(5 * MINUTE + 10_000);
  });

  it('re-enqueues at 6, 12, 24 minutes and not in between', () => {
    expect(crossedRequeueAge(-1, 6 * MINUTE)).toBe(true);
    expect(crossedRequeueAge(6 * MINUTE, 11 * MINUTE)).toBe(false);
    expect(crossedRequeueAge(11 * MINUTE, 12 * MINUTE)).toBe(true);
    expect(crossedRequeueAge(12 * MINUTE, 23 * MINUTE)).toBe(false);
    expect(crossedRequeueAge(23 * MINUTE, 25 * MINUTE)).toBe(true);
  });

  it('never re-enqueues a failed, processed or invalid delivery', () => {
    expect(sweepVerdict(delivery('failed', 10), undefined, NOW)).toBe('parked');
    expect(sweepVerdict(delivery('processed', 10), undefined, NOW)).toBe('done');
    expect(sweepVerdict(delivery('invalid', 10), undefined, NOW)).toBe('done');
  });

  it('counts a parked delivery seen by an earlier run as done', () => {
    const checkpoint = { seenTo: `${ago(1)}#z`, lastRunAt: ago(5) };
    expect(sweepVerdict(delivery('failed', 10), checkpoint, NOW)).toBe('done');
  });

  it('ends the window at the threshold, inclusive of a delivery received exactly then', () => {
    const window = sweepWindow(undefined, NOW);
    expect(receivedSortKey(ago(6), 'd1') <= window.to).toBe(true);
    expect(receivedSortKey(ago(5), 'd1') <= window.to).toBe(false);
  });
});

import { describe, expect, test } from 'vitest';
import { currentDeadline, Deadline, withDeadline } from '../../shared/deadline';

describe('Deadline', () => {
  test('takes what the Lambda context says remains, less the reserve', () => {
    let now = 1_000;
    const deadline = Deadline.fromLambdaContext({ getRemainingTimeInMillis: () => 10_000 }, 1_500, () => now);
    expect(deadline.remainingMs()).toBe(8_500);
    now += 8_000;
    expect(deadline.remainingMs()).toBe(500);
    expect(deadline.attemptTimeoutMs(5_000)).toBe(500);
    expect(deadline.shorterThan(600)).toBe(true);
    now += 1_000;
    expect(deadline.remainingMs()).toBe(0);
  });

  test('gives no budget for a context without a clock, so only per-attempt limits apply', () => {
    expect(Deadline.fromLambdaContext({}, 1_500).remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });

  test('gives each concurrent invocation its own budget, however deep the call', async () => {
    const seen: number[] = [];
    const deep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(Math.round(currentDeadline().at));
    };
    await Promise.all([
      withDeadline(
        Deadline.in(1_000, () => 0),
        deep,
      ),
      withDeadline(
        Deadline.in(2_000, () => 0),
        deep,
      ),
    ]);
    expect(seen.sort()).toEqual([1_000, 2_000]);
    expect(currentDeadline().remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });
});

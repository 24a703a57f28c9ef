import { describe, expect, it } from 'vitest';
import { mean, median, percentile, round } from '../../bench/lib/stats';

describe('bench statistics', () => {
  it('interpolates percentiles between closest ranks', () => {
    const values = [10, 20, 30, 40, 50];
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 50)).toBe(30);
    expect(percentile(values, 90)).toBe(46);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
  });

  it('takes the median of an unsorted list without reordering it', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it('gives the one value of a single-sample list for every percentile', () => {
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses an empty list and a percentile outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => mean([])).toThrow(RangeError);
  });

  it('rounds to the asked number of decimals', () => {
    expect(round(1.26)).toBe(1.3);
    expect(round(1.2345, 2)).toBe(1.23);
    expect(mean([1, 2, 6])).toBe(3);
  });
});

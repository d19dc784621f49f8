import { describe, expect, it } from 'vitest';
import {
  binSums,
  gaps,
  interarrivalJitter,
  maxWindowSum,
  median,
  percentile,
  ratio,
  sequenceStats,
  timestampDelta,
} from '../../bench/lib/stats.js';

describe('maxWindowSum', () => {
  it.each([
    { name: 'no samples', times: [], values: [], width: 10, expected: { max: 0, end: Number.NaN } },
    { name: 'one sample', times: [5], values: [7], width: 10, expected: { max: 7, end: 5 } },
    // Window (t - 10, t]: at t = 10 the sample at 0 has left (0 <= 10 - 10).
    { name: 'half-open: the sample exactly one width back is out', times: [0, 10], values: [3, 4], width: 10, expected: { max: 4, end: 10 } },
    { name: 'just inside the width both count', times: [0, 9.999], values: [3, 4], width: 10, expected: { max: 7, end: 9.999 } },
    { name: 'a burst in the middle', times: [0, 20, 21, 22, 40], values: [1, 5, 5, 5, 1], width: 10, expected: { max: 15, end: 22 } },
    { name: 'equal times', times: [1, 1, 1], values: [2, 2, 2], width: 1, expected: { max: 6, end: 1 } },
    { name: 'steady 50 packets/s of 100 bytes over 1 s windows', times: Array.from({ length: 200 }, (_, i) => i * 20), values: Array<number>(200).fill(100), width: 1000, expected: { max: 5000, end: 980 } },
  ])('$name', ({ times, values, width, expected }) => {
    expect(maxWindowSum(times, values, width)).toEqual(expected);
  });

  it.each([
    { name: 'length mismatch', times: [1, 2], values: [1], width: 1 },
    { name: 'zero width', times: [1], values: [1], width: 0 },
    { name: 'descending times', times: [2, 1], values: [1, 1], width: 1 },
  ])('rejects $name', ({ times, values, width }) => {
    expect(() => maxWindowSum(times, values, width)).toThrow(RangeError);
  });
});

describe('binSums', () => {
  it.each([
    { name: 'no samples', times: [], values: [], start: 0, partial: false, expected: [] },
    { name: 'drops the partial last bin', times: [0, 5, 10, 15, 20], values: [1, 2, 3, 4, 5], start: 0, partial: false, expected: [3, 7] },
    { name: 'keeps it when asked', times: [0, 5, 10, 15, 20], values: [1, 2, 3, 4, 5], start: 0, partial: true, expected: [3, 7, 5] },
    { name: 'empty bins in between are zero', times: [0, 35], values: [1, 1], start: 0, partial: true, expected: [1, 0, 0, 1] },
    { name: 'start offset', times: [100, 104, 111], values: [1, 1, 1], start: 100, partial: false, expected: [2] },
  ])('$name', ({ times, values, start, partial, expected }) => {
    expect(binSums(times, values, 10, start, partial)).toEqual(expected);
  });

  it('rejects a sample before start', () => {
    expect(() => binSums([1], [1], 10, 5)).toThrow(RangeError);
  });
});

describe('percentile (nearest rank)', () => {
  it.each([
    { values: [], p: 50, expected: Number.NaN },
    { values: [7], p: 99, expected: 7 },
    { values: [4, 1, 3, 2], p: 50, expected: 2 },
    { values: [4, 1, 3, 2], p: 75, expected: 3 },
    { values: [4, 1, 3, 2], p: 76, expected: 4 },
    { values: [4, 1, 3, 2], p: 0, expected: 1 },
    { values: [4, 1, 3, 2], p: 100, expected: 4 },
    { values: Array.from({ length: 100 }, (_, i) => 100 - i), p: 99, expected: 99 },
  ])('p$p of $values.length values is $expected', ({ values, p, expected }) => {
    expect(percentile(values, p)).toEqual(expected);
  });

  it('does not sort its input in place', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects p outside [0, 100]', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('gaps, median, ratio', () => {
  it('gaps are consecutive differences', () => {
    expect(gaps([0, 20, 45, 60])).toEqual([20, 25, 15]);
    expect(gaps([5])).toEqual([]);
  });
  it.each([
    { values: [], expected: Number.NaN },
    { values: [3, 1, 2], expected: 2 },
    { values: [4, 1, 3, 2], expected: 2.5 },
  ])('median of $values is $expected', ({ values, expected }) => {
    expect(median(values)).toEqual(expected);
  });
  it.each([
    { c: 3, b: 2, expected: 1.5 },
    { c: 0, b: 0, expected: 1 },
    { c: 1, b: 0, expected: Number.NaN },
    { c: undefined, b: 2, expected: Number.NaN },
    { c: Number.NaN, b: 2, expected: Number.NaN },
  ])('ratio($c, $b) = $expected', ({ c, b, expected }) => {
    expect(ratio(c, b)).toEqual(expected);
  });
});

describe('timestampDelta', () => {
  it.each([
    { a: 960, b: 0, expected: 960 },
    { a: 0, b: 960, expected: -960 },
    { a: 0x0000_0100, b: 0xffff_ff00, expected: 0x200 },
    { a: 0xffff_ff00, b: 0x0000_0100, expected: -0x200 },
  ])('$a - $b = $expected', ({ a, b, expected }) => {
    expect(timestampDelta(a, b)).toBe(expected);
  });
});

describe('interarrivalJitter (RFC 3550 A.8)', () => {
  it('is zero for perfectly paced packets', () => {
    const arrivals = Array.from({ length: 50 }, (_, i) => 10 + i * 0.02);
    const ts = arrivals.map((_, i) => (i * 960) >>> 0);
    expect(interarrivalJitter(arrivals, ts, 48_000).ms).toBeCloseTo(0, 9);
  });

  it('follows J += (|D| - J) / 16 step by step', () => {
    // Second packet arrives 10 ms late (D = +480), third on time again (D = -480 relative to the second).
    const arrivals = [0, 0.03, 0.04];
    const ts = [0, 960, 1920];
    const j1 = 480 / 16;
    const j2 = j1 + (480 - j1) / 16;
    const result = interarrivalJitter(arrivals, ts, 48_000);
    expect(result.units).toBeCloseTo(j2, 9);
    expect(result.ms).toBeCloseTo((j2 / 48_000) * 1000, 9);
    expect(result.maxMs).toBeCloseTo((j2 / 48_000) * 1000, 9);
  });

  it('handles a 32-bit timestamp wrap', () => {
    const arrivals = [0, 0.02, 0.04];
    const ts = [0xffff_fc40, 0x0000_0000, 0x0000_03c0]; // steps of 960 across the wrap
    expect(interarrivalJitter(arrivals, ts, 48_000).units).toBeCloseTo(0, 6);
  });

  it('converges to the mean |D| for alternating bursts', () => {
    // Packets paired: two at once every 40 ms, |D| = 960 every time.
    const arrivals: number[] = [];
    const ts: number[] = [];
    for (let i = 0; i < 2000; i++) {
      arrivals.push(Math.floor(i / 2) * 0.04);
      ts.push(i * 960);
    }
    expect(interarrivalJitter(arrivals, ts, 48_000).ms).toBeCloseTo(20, 3);
  });
});

describe('sequenceStats', () => {
  it.each([
    { name: 'empty', seqs: [], expected: { received: 0, expected: 0, lost: 0, duplicates: 0, reordered: 0, gaps: 0, wraps: 0 } },
    { name: 'clean run', seqs: [10, 11, 12, 13], expected: { received: 4, expected: 4, lost: 0, duplicates: 0, reordered: 0, gaps: 0, wraps: 0 } },
    { name: 'two lost in one gap', seqs: [10, 11, 14, 15], expected: { received: 4, expected: 6, lost: 2, duplicates: 0, reordered: 0, gaps: 1, wraps: 0 } },
    { name: 'duplicate', seqs: [10, 11, 11, 12], expected: { received: 4, expected: 3, lost: 0, duplicates: 1, reordered: 0, gaps: 0, wraps: 0 } },
    { name: 'reordered, nothing lost', seqs: [10, 12, 11, 13], expected: { received: 4, expected: 4, lost: 0, duplicates: 0, reordered: 1, gaps: 1, wraps: 0 } },
    { name: 'wrap', seqs: [65534, 65535, 0, 1], expected: { received: 4, expected: 4, lost: 0, duplicates: 0, reordered: 0, gaps: 0, wraps: 1 } },
    { name: 'late packet from before the first', seqs: [5, 6, 4], expected: { received: 3, expected: 3, lost: 0, duplicates: 0, reordered: 1, gaps: 0, wraps: 0 } },
    { name: 'loss across the wrap', seqs: [65535, 1], expected: { received: 2, expected: 3, lost: 1, duplicates: 0, reordered: 0, gaps: 1, wraps: 1 } },
  ])('$name', ({ seqs, expected }) => {
    expect(sequenceStats(seqs)).toEqual(expected);
  });
});

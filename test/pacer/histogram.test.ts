import { describe, expect, it } from 'vitest';
import { LatenessHistogram } from '../../src/pacer/histogram.js';

describe('LatenessHistogram', () => {
  it('reports percentiles within one bucket (0.02 ms below 10 ms, 1 ms above) and the exact max and mean', () => {
    const h = new LatenessHistogram();
    for (let i = 0; i < 99; i++) h.record(0.105);
    h.record(37.4);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.p50Ms).toBeCloseTo(0.12, 9);
    expect(s.p99Ms).toBeCloseTo(0.12, 9);
    expect(s.maxMs).toBe(37.4);
    expect(s.p999Ms).toBe(37.4); // top bucket is capped at the exact max
    expect(s.meanMs).toBeCloseTo((99 * 0.105 + 37.4) / 100, 9);
  });

  it('counts negative lateness (sent early) as 0 and very late samples in the overflow bucket', () => {
    const h = new LatenessHistogram();
    h.record(-0.04);
    h.record(5000);
    expect(h.quantile(0.5)).toBeCloseTo(0.02, 9);
    expect(h.quantile(1)).toBe(5000);
  });

  it('merges and resets', () => {
    const a = new LatenessHistogram();
    const b = new LatenessHistogram();
    a.record(1);
    b.record(2);
    b.record(3);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(a.summary().maxMs).toBe(3);
    a.reset();
    expect(a.summary()).toEqual({ count: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 });
  });
});

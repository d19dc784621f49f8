import { describe, expect, it } from 'vitest';
import { ReceiverStatistics } from '../../../src/wire/rtcp/receiverStatistics.js';
import { expectCode } from './helpers.js';

const FRAME = 960; // 20 ms at 48 kHz
const MS = 20;

/** Feeds sequence numbers of a 20 ms Opus stream, perfectly paced unless `arrival` says otherwise. */
function feed(
  stats: ReceiverStatistics,
  seqs: readonly number[],
  arrival: (seq: number, i: number) => number = (_s, i) => 1_000 + i * MS,
  timestamp: (seq: number) => number = (seq) => (seq * FRAME) >>> 0,
): boolean[] {
  return seqs.map((seq, i) => stats.receive(seq & 0xffff, timestamp(seq), arrival(seq, i)));
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('ReceiverStatistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('reports a perfect stream across the 16-bit wrap as 0 lost and 0 jitter, counting a cycle', () => {
    const stats = new ReceiverStatistics();
    const results = feed(stats, range(65_000, 1000));
    // A.1 probation: the first packet is not yet valid, the second validates the source and is the base.
    expect(results[0]).toBe(false);
    expect(results.slice(1).every(Boolean)).toBe(true);
    expect(stats.received).toBe(999);
    expect(stats.expected).toBe(999);
    expect(stats.cumulativeLost).toBe(0);
    expect(stats.extendedHighestSequence).toBe(65_999); // 1 cycle << 16 | 463
    expect(stats.jitter).toBe(0);
    expect(stats.duplicates).toBe(0);
    expect(stats.reportBlock(42, 7, 9)).toEqual({
      ssrc: 42,
      fractionLost: 0,
      cumulativeLost: 0,
      highestSequence: 65_999,
      jitter: 0,
      lastSenderReport: 7,
      delaySinceLastSenderReport: 9,
    });
  });

  it('computes fraction lost per interval as in A.3', () => {
    const stats = new ReceiverStatistics();
    feed(stats, [0, 1]); // validated at 1: base 1, received 1
    expect(stats.reportBlock(1).fractionLost).toBe(0);
    // Next interval: sequence 2..101 with every multiple of 4 lost (4, 8, ..., 100): 25 of 100.
    feed(stats, range(2, 100).filter((s) => s % 4 !== 0));
    const block = stats.reportBlock(1);
    expect(block.fractionLost).toBe(Math.floor((25 * 256) / 100)); // 64, i.e. 25 %
    expect(block.cumulativeLost).toBe(25);
    expect(block.highestSequence).toBe(101);
    // A clean interval afterwards: fraction back to 0, cumulative loss stays.
    feed(stats, range(102, 50));
    expect(stats.reportBlock(1)).toMatchObject({ fractionLost: 0, cumulativeLost: 25, highestSequence: 151 });
  });

  it('reports a fraction of 1/3 as floor(256/3)', () => {
    const stats = new ReceiverStatistics();
    feed(stats, [10, 11]);
    stats.reportBlock(1);
    feed(stats, [13, 14]); // 12 lost: 1 of the 3 expected since the last report
    expect(stats.reportBlock(1).fractionLost).toBe(85);
  });

  it('does not count reordering within maxMisorder as loss, even across the wrap', () => {
    const stats = new ReceiverStatistics();
    feed(stats, [65_533, 65_534, 65_535, 1, 0, 2, 4, 3, 5]);
    expect(stats.cumulativeLost).toBe(0);
    expect(stats.expected).toBe(stats.received);
    expect(stats.received).toBe(8);
    expect(stats.extendedHighestSequence).toBe(0x10005);
  });

  it('counts a packet late by more than maxMisorder as a bad jump, not as received', () => {
    const stats = new ReceiverStatistics({ maxMisorder: 10 });
    feed(stats, range(100, 50)); // up to 149
    expect(stats.receive(120, 120 * FRAME, 5_000)).toBe(false); // 29 behind > 10
    expect(stats.received).toBe(49);
  });

  it('resynchronises after a jump beyond maxDropout once two sequential packets arrive (A.1)', () => {
    const stats = new ReceiverStatistics();
    feed(stats, range(100, 11)); // 100..110, valid from 101
    expect(stats.receive(20_000, 0, 2_000)).toBe(false);
    expect(stats.extendedHighestSequence).toBe(110); // the stray packet changed nothing
    expect(stats.receive(20_001, FRAME, 2_020)).toBe(true); // restarted: counters start over here
    expect(stats.received).toBe(1);
    expect(stats.expected).toBe(1);
    expect(stats.extendedHighestSequence).toBe(20_001);
    expect(stats.receive(20_002, 2 * FRAME, 2_040)).toBe(true);
    expect(stats.cumulativeLost).toBe(0);
    expect(stats.jitter).toBe(0); // the jitter reference restarted with the new timestamps
  });

  it('ignores a single stray packet and carries on with the old sequence', () => {
    const stats = new ReceiverStatistics();
    feed(stats, range(100, 11));
    expect(stats.receive(40_000, 0, 2_000)).toBe(false);
    expect(stats.receive(111, 111 * FRAME, 2_020)).toBe(true);
    expect(stats.received).toBe(11);
    expect(stats.cumulativeLost).toBe(0);
  });

  it('treats a gap below maxDropout as loss', () => {
    const stats = new ReceiverStatistics();
    feed(stats, [0, 1, 2_999]); // gap of 2998 < 3000
    expect(stats.cumulativeLost).toBe(2_997);
  });

  it('restarts probation after a non-sequential packet during probation', () => {
    const stats = new ReceiverStatistics({ minSequential: 3 });
    expect(feed(stats, [10, 11, 50, 51, 52, 53])).toEqual([false, false, false, false, true, true]);
    expect(stats.expected).toBe(2); // base 52
  });

  it('validates across 65535 -> 0 during probation', () => {
    const stats = new ReceiverStatistics();
    expect(feed(stats, [65_535, 65_536])).toEqual([false, true]);
    expect(stats.validated).toBe(true);
  });

  it('accepts the first packet at once with minSequential 1', () => {
    const stats = new ReceiverStatistics({ minSequential: 1 });
    expect(stats.receive(7, 0, 0)).toBe(true);
    expect(stats.received).toBe(1);
  });

  it('counts duplicates as received (RFC 3550 §6.4.1) but keeps them out of jitter', () => {
    const stats = new ReceiverStatistics();
    feed(stats, [1, 2, 3]);
    expect(stats.receive(3, 3 * FRAME, 99_999)).toBe(true); // far off time: would wreck jitter
    expect(stats.receive(2, 2 * FRAME, 99_999)).toBe(true);
    expect(stats.duplicates).toBe(2);
    expect(stats.jitter).toBe(0);
    expect(stats.received).toBe(4);
    expect(stats.expected).toBe(2);
    expect(stats.cumulativeLost).toBe(-2);
    const block = stats.reportBlock(1);
    expect(block.cumulativeLost).toBe(-2);
    expect(block.fractionLost).toBe(0); // negative interval loss reports 0
  });

  it('keeps jitter at 0 for constant transit, across an RTP timestamp wrap', () => {
    const stats = new ReceiverStatistics();
    const startTs = 2 ** 32 - 10 * FRAME;
    feed(
      stats,
      range(0, 100),
      (_s, i) => 1e12 + 7.25 + i * MS, // a large, fractional arrival clock
      (seq) => (startTs + seq * FRAME) >>> 0,
    );
    expect(stats.jitter).toBe(0);
    expect(stats.reportBlock(1).jitter).toBe(0);
  });

  it('converges to 2d for transit alternating +d/-d, following J += (|D| - J) / 16 exactly', () => {
    const dMs = 2; // d = 96 timestamp units at 48 kHz, so |D| = 2d = 192 for every packet pair
    const stats = new ReceiverStatistics();
    const n = 12;
    feed(stats, range(0, n), (_s, i) => 1_000 + i * MS + (i % 2 === 0 ? dMs : -dMs));
    // The first packet is on probation, the second is the jitter reference: n - 2 updates from J = 0.
    const twoD = 2 * dMs * 48;
    expect(stats.jitter).toBeCloseTo(twoD * (1 - (15 / 16) ** (n - 2)), 9);
    feed(stats, range(n, 1000), (_s, i) => 1_000 + (n + i) * MS + ((n + i) % 2 === 0 ? dMs : -dMs));
    expect(stats.jitter).toBeCloseTo(twoD, 9);
    expect(stats.jitterMs).toBeCloseTo(2 * dMs, 9);
    const reported = stats.reportBlock(1).jitter; // the floor of an estimate approaching 192 from below
    expect(reported).toBeGreaterThanOrEqual(twoD - 1);
    expect(reported).toBeLessThanOrEqual(twoD);
  });

  it('clamps cumulative loss to the signed 24-bit range', () => {
    const stats = new ReceiverStatistics();
    // Jumps of 2999 (just under maxDropout) lose 2998 packets each: 3000 of them lose ~9 million.
    let seq = 0;
    for (let i = 0; i < 3000; i++) {
      stats.receive(seq & 0xffff, 0, i);
      seq += i < 1 ? 1 : 2999;
    }
    expect(stats.expected - stats.received).toBeGreaterThan(0x7fffff);
    expect(stats.cumulativeLost).toBe(0x7fffff);
    expect(stats.reportBlock(1).cumulativeLost).toBe(0x7fffff);
  });

  it('reports zeros before the source is validated', () => {
    const stats = new ReceiverStatistics();
    stats.receive(500, 0, 0);
    expect(stats.validated).toBe(false);
    expect(stats.reportBlock(9)).toEqual({
      ssrc: 9,
      fractionLost: 0,
      cumulativeLost: 0,
      highestSequence: 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    });
  });

  it('rejects bad options and arguments with INVALID_ARGUMENT', () => {
    expectCode(() => new ReceiverStatistics({ clockRate: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => new ReceiverStatistics({ clockRate: Number.NaN }), 'INVALID_ARGUMENT');
    expectCode(() => new ReceiverStatistics({ minSequential: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => new ReceiverStatistics({ maxDropout: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => new ReceiverStatistics({ maxMisorder: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => new ReceiverStatistics({ maxDropout: 60_000, maxMisorder: 10_000 }), 'INVALID_ARGUMENT');
    const stats = new ReceiverStatistics();
    expectCode(() => stats.receive(65_536, 0, 0), 'INVALID_ARGUMENT');
    expectCode(() => stats.receive(1, -1, 0), 'INVALID_ARGUMENT');
    expectCode(() => stats.receive(1, 0, Number.POSITIVE_INFINITY), 'INVALID_ARGUMENT');
    expectCode(() => stats.reportBlock(2 ** 32), 'INVALID_ARGUMENT');
    expectCode(() => stats.reportBlock(1, -1), 'INVALID_ARGUMENT');
  });

  it('uses the clock rate for jitter in timestamp units', () => {
    const stats = new ReceiverStatistics({ clockRate: 8000 });
    // 20 ms frames of 160 samples; one packet 10 ms late gives |D| = 80 units twice (late, then back).
    const arrivals = [0, 20, 40, 70, 80];
    feed(stats, range(0, 5), (_s, i) => arrivals[i] ?? 0, (seq) => seq * 160);
    const j1 = 80 / 16;
    expect(stats.jitter).toBeCloseTo(j1 + (80 - j1) / 16, 9);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers.js';
import { RtpSequencer, SequenceExtender, randomSsrc, seqAdd, seqDiff, tsAdd, tsDiff } from '../../../src/wire/rtp/sequencer.js';

describe('sequence and timestamp arithmetic', () => {
  it.each([
    [65535, 1, 0],
    [0, -1, 65535],
    [100, 65536, 100],
    [65000, 1000, 464],
  ])('seqAdd(%i, %i) = %i', (seq, n, expected) => expect(seqAdd(seq, n)).toBe(expected));

  it.each([
    [0, 65535, 1],
    [65535, 0, -1],
    [32767, 0, 32767],
    [32768, 0, -32768],
    [10, 10, 0],
  ])('seqDiff(%i, %i) = %i', (a, b, expected) => expect(seqDiff(a, b)).toBe(expected));

  it.each([
    [0xffffffff, 1, 0],
    [0, -960, 0xfffffc40],
    [0xfffffc40, 960, 0],
  ])('tsAdd(%i, %i) = %i', (ts, n, expected) => expect(tsAdd(ts, n)).toBe(expected));

  it.each([
    [0, 0xfffffc40, 960],
    [0xfffffc40, 0, -960],
    [0x7fffffff, 0, 0x7fffffff],
    [0x80000000, 0, -0x80000000],
  ])('tsDiff(%i, %i) = %i', (a, b, expected) => expect(tsDiff(a, b)).toBe(expected));

  it('seqDiff inverts seqAdd for any step within half the space', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32768, max: 32767 }), (seq, n) => {
        const next = seqAdd(seq, n);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(0xffff);
        expect(seqDiff(next, seq)).toBe(n);
      }),
    );
  });

  it('tsDiff inverts tsAdd for any step within half the space', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (ts, n) => {
        const next = tsAdd(ts, n);
        expect(next >>> 0).toBe(next);
        expect(tsDiff(next, ts)).toBe(n);
      }),
    );
  });
});

describe('RtpSequencer', () => {
  it('runs 200k packets across the 2^16 and 2^32 wraps, counting rollovers', () => {
    const seq = RtpSequencer.fixed(65000, 0xffffffff - 5000);
    let prevSeq = -1;
    let prevTs = -1;
    let timestampWraps = 0;
    // Plain comparisons in the loop (expect() per packet is slow); the first mismatch is reported.
    let firstMismatch: string | undefined;
    for (let i = 0; i < 200_000 && firstMismatch === undefined; i++) {
      const extendedBefore = seq.extendedSequenceNumber;
      const ts = seq.timestamp;
      const s = seq.takeSequenceNumber();
      seq.advanceTimestamp(960);
      if (extendedBefore !== 65000 + i) firstMismatch = `extended ${extendedBefore} at packet ${i}`;
      if (prevSeq >= 0) {
        if (s !== seqAdd(prevSeq, 1)) firstMismatch = `seq ${s} after ${prevSeq}`;
        if (tsDiff(ts, prevTs) !== 960) firstMismatch = `ts ${ts} after ${prevTs}`;
        if (ts < prevTs) timestampWraps++;
      }
      prevSeq = s;
      prevTs = ts;
    }
    expect(firstMismatch).toBeUndefined();
    expect(seq.rollovers).toBe(Math.floor((65000 + 200_000) / 65536));
    expect(seq.extendedSequenceNumber).toBe(65000 + 200_000);
    expect(seq.sequenceNumber).toBe((65000 + 200_000) % 65536);
    expect(seq.timestamp).toBe((0xffffffff - 5000 + 200_000 * 960) % 2 ** 32);
    expect(timestampWraps).toBe(Math.floor((0xffffffff - 5000 + 199_999 * 960) / 2 ** 32));
  });

  it('counts the rollover exactly when 65535 is taken', () => {
    const seq = RtpSequencer.fixed(65535, 0);
    expect(seq.rollovers).toBe(0);
    expect(seq.takeSequenceNumber()).toBe(65535);
    expect(seq.rollovers).toBe(1);
    expect(seq.sequenceNumber).toBe(0);
    expect(seq.extendedSequenceNumber).toBe(65536);
  });

  it('random() starts in range, and two sequencers start apart', () => {
    const a = RtpSequencer.random();
    const b = RtpSequencer.random();
    for (const s of [a, b]) {
      expect(Number.isInteger(s.sequenceNumber) && s.sequenceNumber >= 0 && s.sequenceNumber <= 0xffff).toBe(true);
      expect(s.timestamp >>> 0).toBe(s.timestamp);
      expect(s.rollovers).toBe(0);
    }
    // 48 random bits each: equal only with probability 2^-48.
    expect([a.sequenceNumber, a.timestamp]).not.toEqual([b.sequenceNumber, b.timestamp]);
    const ssrc = randomSsrc();
    expect(ssrc >>> 0).toBe(ssrc);
  });

  it.each([
    ['fixed seq 65536', () => RtpSequencer.fixed(65536, 0)],
    ['fixed seq -1', () => RtpSequencer.fixed(-1, 0)],
    ['fixed ts 2^32', () => RtpSequencer.fixed(0, 2 ** 32)],
    ['fixed ts 0.5', () => RtpSequencer.fixed(0, 0.5)],
    ['advance -960', () => RtpSequencer.fixed(0, 0).advanceTimestamp(-960)],
    ['advance NaN', () => RtpSequencer.fixed(0, 0).advanceTimestamp(Number.NaN)],
    ['extend 65536', () => new SequenceExtender().extend(65536)],
  ])('rejects %s with INVALID_ARGUMENT', (_name, fn) => {
    expect(codeOf(fn)).toBe('INVALID_ARGUMENT');
  });
});

describe('SequenceExtender', () => {
  it('maps the first number to itself and counts cycles', () => {
    const ext = new SequenceExtender();
    expect(ext.highest).toBeUndefined();
    expect(ext.extend(65534)).toBe(65534);
    expect(ext.extend(65535)).toBe(65535);
    expect(ext.extend(0)).toBe(65536);
    expect(ext.extend(65533)).toBe(65533); // late packet from the previous cycle
    expect(ext.extend(1)).toBe(65537);
    expect(ext.highest).toBe(65537);
    expect(ext.cycles).toBe(1);
    expect(ext.extend(0)).toBe(65536); // duplicate
  });

  it('maps a late packet from before the first one below zero', () => {
    const ext = new SequenceExtender();
    expect(ext.extend(0)).toBe(0);
    expect(ext.extend(65535)).toBe(-1);
    expect(ext.highest).toBe(0);
  });

  it('recovers the extended numbers of a reordered stream through 200k packets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 500 })), { maxLength: 2000 }),
        (start, swaps) => {
          const n = 200_000;
          const order = Array.from({ length: n }, (_, i) => start + i);
          // Local swaps: a packet overtakes or falls behind by at most 500 places.
          for (const [at, distance] of swaps) {
            const i = at % (n - distance);
            const tmp = order[i]!;
            order[i] = order[i + distance]!;
            order[i + distance] = tmp;
          }
          const ext = new SequenceExtender();
          const first = order[0]!;
          const base = first - (first & 0xffff);
          const wrong = order.find((x) => ext.extend(x & 0xffff) !== x - base);
          expect(wrong).toBeUndefined();
          expect(ext.highest).toBe(start + n - 1 - base);
        },
      ),
      { numRuns: 5 },
    );
  });
});

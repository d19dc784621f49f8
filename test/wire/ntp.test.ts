import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../helpers.js';
import {
  NTP_UNIX_EPOCH_OFFSET,
  dlsrFromMs,
  ntpMiddle32,
  ntpToUnixMs,
  roundTripTimeMs,
  unixMsToNtp,
} from '../../src/wire/ntp.js';

describe('NTP timestamps (RFC 3550 §4)', () => {
  it.each([
    { name: 'Unix epoch', ms: 0, ntp: BigInt(NTP_UNIX_EPOCH_OFFSET) << 32n },
    { name: 'Unix epoch + 0.5 s', ms: 500, ntp: (BigInt(NTP_UNIX_EPOCH_OFFSET) << 32n) | 0x80000000n },
    { name: 'Unix epoch + 1.25 s', ms: 1250, ntp: (BigInt(NTP_UNIX_EPOCH_OFFSET + 1) << 32n) | 0x40000000n },
    // The NTP timestamp of ffmpeg's SR in fixtures/rtp/ffmpeg-rtcp-sr.json: 0xeeaeffa9.b3333333 = 1795457321.7 s Unix.
    { name: "ffmpeg's SR", ms: 1795457321700, ntp: 0xeeaeffa9b3333333n },
    // 2036-02-07T06:28:16Z: NTP era 1 starts, the 64-bit value wraps to 0 (RFC 4330 §3).
    { name: 'start of NTP era 1', ms: Date.UTC(2036, 1, 7, 6, 28, 16), ntp: 0n },
  ])('$name', ({ ms, ntp }) => {
    const got = unixMsToNtp(ms);
    // ±1 fraction unit: 0.7 s is not exact in binary.
    const diff = got - ntp;
    expect(diff >= -1n && diff <= 1n).toBe(true);
    expect(Math.abs(ntpToUnixMs(ntp) - ms)).toBeLessThan(1e-3);
  });

  it('round-trips Unix ms through NTP within 1 us, 1968-2104 and across the 2036 wrap', () => {
    fc.assert(
      fc.property(fc.double({ min: -6.15e10, max: 4.2e12, noNaN: true }), (ms) => {
        expect(Math.abs(ntpToUnixMs(unixMsToNtp(ms)) - ms)).toBeLessThan(1e-3);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps sub-millisecond precision of a performance.now()-style time', () => {
    const ms = 1732384000123.4567;
    expect(Math.abs(ntpToUnixMs(unixMsToNtp(ms)) - ms)).toBeLessThan(1e-3);
    expect(unixMsToNtp(ms + 0.01) > unixMsToNtp(ms)).toBe(true);
  });

  it('carries a fraction that rounds up to a whole second', () => {
    const ntp = unixMsToNtp(999.99999999999);
    expect(ntp & 0xffffffffn).toBeLessThan(2n);
    expect(ntp >> 32n).toBe(BigInt(NTP_UNIX_EPOCH_OFFSET + 1));
  });

  it.each([
    ['NaN', () => unixMsToNtp(Number.NaN)],
    ['Infinity', () => unixMsToNtp(Number.POSITIVE_INFINITY)],
    ['before 1900', () => unixMsToNtp(-NTP_UNIX_EPOCH_OFFSET * 1000 - 1)],
    ['after 2104', () => unixMsToNtp(5e12)],
    ['negative NTP', () => ntpToUnixMs(-1n)],
    ['NTP over 64 bits', () => ntpToUnixMs(1n << 64n)],
    ['middle32 of a negative', () => ntpMiddle32(-5n)],
    ['DLSR of -1 ms', () => dlsrFromMs(-1)],
    ['DLSR of NaN', () => dlsrFromMs(Number.NaN)],
  ])('rejects %s with INVALID_ARGUMENT', (_name, fn) => {
    expect(codeOf(fn)).toBe('INVALID_ARGUMENT');
  });
});

describe('LSR, DLSR and round-trip time (RFC 3550 §6.4.1)', () => {
  it('takes the middle 32 bits', () => {
    expect(ntpMiddle32(0x1122334455667788n)).toBe(0x33445566);
    expect(ntpMiddle32(0xffffffffffffffffn)).toBe(0xffffffff);
  });

  it("reproduces the RFC's example: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000 -> 6.125 s", () => {
    const arrival = 0xb7108000n << 16n;
    expect(roundTripTimeMs(arrival, 0xb7052000, 0x00054000)).toBe(6125);
    expect(dlsrFromMs(5250)).toBe(0x00054000);
  });

  it('survives the wrap of the middle 32 bits', () => {
    const arrival = 0x00001000n << 16n; // just after the 16.16 wrap
    expect(roundTripTimeMs(arrival, 0xfffff000, 0)).toBe((0x2000 * 1000) / 65536);
  });

  it('returns NaN without an SR, and 0 when rounding makes it negative', () => {
    expect(roundTripTimeMs(0xb7108000n << 16n, 0, 0)).toBeNaN();
    expect(roundTripTimeMs(0x00010000n << 16n, 0x00010000, 5)).toBe(0);
  });

  it('rounds DLSR to 1/65536 s and caps it at 32 bits', () => {
    expect(dlsrFromMs(0)).toBe(0);
    expect(dlsrFromMs(1000)).toBe(65536);
    expect(dlsrFromMs(1e12)).toBe(0xffffffff);
  });

  it('recovers any RTT to within 1/65536 s', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1.6e12, max: 2.0e12, noNaN: true }),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        (sentMs, rttMs, holdMs) => {
          const lsr = ntpMiddle32(unixMsToNtp(sentMs));
          const arrival = unixMsToNtp(sentMs + rttMs + holdMs);
          expect(Math.abs(roundTripTimeMs(arrival, lsr === 0 ? 1 : lsr, dlsrFromMs(holdMs)) - rttMs)).toBeLessThan(0.05);
        },
      ),
    );
  });
});

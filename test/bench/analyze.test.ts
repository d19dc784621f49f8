import { describe, expect, it } from 'vitest';
import { analyzeStream, type RtpArrival } from '../../bench/lib/analyze.js';

const MS = 1e6;

/** n packets, 20 ms apart, 120-byte payload + 12-byte header, timestamps in steps of 960. */
function steady(n: number, opts: { payload?: number; firstSeq?: number; firstTs?: number; every?: number } = {}): RtpArrival[] {
  const payload = opts.payload ?? 120;
  return Array.from({ length: n }, (_, i) => ({
    t: i * (opts.every ?? 20) * MS,
    length: 12 + payload,
    rtp: {
      marker: i === 0,
      payloadType: 111,
      sequenceNumber: ((opts.firstSeq ?? 0) + i) & 0xffff,
      timestamp: ((opts.firstTs ?? 0) + i * 960) >>> 0,
      ssrc: 1111,
      headerLength: 12,
      payloadLength: payload,
    },
  }));
}

describe('analyzeStream', () => {
  it('a perfectly paced 48 kbit/s stream (120-byte payloads at 50/s)', () => {
    const a = analyzeStream(steady(150)); // 3 s
    expect(a.packets).toBe(150);
    expect(a.markers).toBe(1);
    expect(a.ssrcs).toEqual([1111]);
    expect(a.payloadTypes).toEqual([111]);
    expect(a.bytes).toEqual({ payload: 150 * 120, rtp: 150 * 132, ip: 150 * 160 });
    // A 1 s window (t - 1 s, t] holds exactly 50 packets.
    expect(a.worstWindowBps).toEqual({ payload: 50 * 120 * 8, rtp: 50 * 132 * 8, ip: 50 * 160 * 8 });
    expect(a.worstMediaWindowRtpBps).toBe(50 * 132 * 8);
    expect(a.perSecondRtpBps).toEqual([52_800, 52_800]);
    expect(a.gapMs).toEqual({ p50: 20, p99: 20, max: 20, min: 20 });
    expect(a.jitterMs).toBeCloseTo(0, 9);
    expect(a.mediaSeconds).toBeCloseTo(3, 9);
    expect(a.spanSeconds).toBeCloseTo(2.98, 9);
    expect(a.sequence).toMatchObject({ received: 150, expected: 150, lost: 0 });
  });

  it('a burst raises the worst window and is located in time', () => {
    const arrivals = steady(150);
    // Five extra 500-byte packets right after the 2 s mark.
    const extra: RtpArrival[] = Array.from({ length: 5 }, (_, i) => ({
      t: 2000 * MS + i,
      length: 512,
      rtp: { marker: false, payloadType: 111, sequenceNumber: 1000 + i, timestamp: 0, ssrc: 1111, headerLength: 12, payloadLength: 500 },
    }));
    const merged = [...arrivals.slice(0, 101), ...extra, ...arrivals.slice(101)];
    const a = analyzeStream(merged);
    expect(a.worstWindowBps.rtp).toBe((50 * 132 + 5 * 512) * 8);
    expect(a.worstWindowAtSeconds).toBeCloseTo(2 + 4e-9, 6);
  });

  it('the media-time window ignores arrival bursts', () => {
    // Same packets and timestamps, but delivered two at a time every 40 ms and with a 300 ms stall + catch-up.
    const arrivals = steady(150).map((a, i) => ({ ...a, t: (i >= 60 && i < 75 ? 1500 : Math.floor(i / 2) * 40) * MS }));
    arrivals.sort((p, q) => p.t - q.t);
    const a = analyzeStream(arrivals);
    expect(a.worstMediaWindowRtpBps).toBe(50 * 132 * 8);
    expect(a.worstWindowBps.rtp).toBeGreaterThan(50 * 132 * 8);
  });

  it('counts loss across a sequence wrap and a timestamp wrap', () => {
    const arrivals = steady(10, { firstSeq: 65530, firstTs: 0xffff_ffff - 2000 }).filter((_, i) => i !== 7);
    const a = analyzeStream(arrivals);
    expect(a.sequence).toMatchObject({ received: 9, expected: 10, lost: 1, gaps: 1, wraps: 1 });
    expect(a.mediaSeconds).toBeCloseTo(0.2, 9);
  });

  it('an empty stream gives zeros and NaNs, not exceptions', () => {
    const a = analyzeStream([]);
    expect(a.packets).toBe(0);
    expect(a.worstWindowBps).toEqual({ payload: 0, rtp: 0, ip: 0 });
    expect(a.perSecondRtpBps).toEqual([]);
    expect(a.gapMs.p50).toBeNaN();
    expect(a.mediaSeconds).toBe(0);
  });
});

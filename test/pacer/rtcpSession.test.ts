import { describe, expect, it } from 'vitest';
import { RtcpSession } from '../../src/pacer/rtcpSession.js';
import { dlsrFromMs, ntpMiddle32, ntpToUnixMs, unixMsToNtp } from '../../src/wire/ntp.js';
import { decodeCompound, encodeCompound } from '../../src/wire/rtcp/compound.js';

const snap = { wallMs: Date.UTC(2024, 0, 1, 12), rtpTimestamp: 123456, packetCount: 50, octetCount: 6000 };

describe('RtcpSession', () => {
  it('builds SR + SDES(CNAME) with the given counters and NTP time', () => {
    const s = new RtcpSession({ ssrc: 1111, cname: 'bot' });
    const packets = decodeCompound(s.buildReport(snap));
    expect(packets.map((p) => p.type)).toEqual(['sr', 'sdes']);
    const sr = packets[0];
    if (sr?.type !== 'sr') throw new Error('no SR');
    expect([sr.ssrc, sr.rtpTimestamp, sr.packetCount, sr.octetCount]).toEqual([1111, 123456, 50, 6000]);
    expect(ntpToUnixMs(sr.ntpTimestamp)).toBeCloseTo(snap.wallMs, 3);
    expect(s.counters().srSent).toBe(1);
  });

  it('builds an empty RR + SDES when not a sender, and RR/SR + SDES + BYE with a reason', () => {
    const s = new RtcpSession({ ssrc: 1111, cname: 'bot' });
    expect(decodeCompound(s.buildReport(undefined)).map((p) => p.type)).toEqual(['rr', 'sdes']);
    const bye = decodeCompound(s.buildBye(snap, 'done'));
    expect(bye.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    expect(bye[2]).toEqual({ type: 'bye', sources: [1111], reason: 'done' });
    expect(s.counters()).toMatchObject({ srSent: 1, rrSent: 1, byeSent: 1 });
  });

  it('randomizes the interval to [0.5, 1.5] x T / (e - 3/2) (RFC 3550 A.7) only when asked', () => {
    expect(new RtcpSession({ ssrc: 1 }).nextIntervalMs()).toBe(5000);
    const lo = new RtcpSession({ ssrc: 1, randomize: true, random: () => 0 }).nextIntervalMs();
    const hi = new RtcpSession({ ssrc: 1, randomize: true, random: () => 0.999999 }).nextIntervalMs();
    expect(lo).toBeCloseTo(2500 / (Math.E - 1.5), 6);
    expect(hi).toBeCloseTo((5000 * 1.499999) / (Math.E - 1.5), 3);
  });

  it('reads report blocks about our SSRC only, from RR and SR, with the round-trip time', () => {
    const s = new RtcpSession({ ssrc: 1111 });
    const srSentAt = Date.UTC(2024, 0, 1, 12);
    const lsr = ntpMiddle32(unixMsToNtp(srSentAt));
    const block = { fractionLost: 128, cumulativeLost: 10, highestSequence: 70000, jitter: 480, lastSenderReport: lsr, delaySinceLastSenderReport: dlsrFromMs(100) };
    const bytes = encodeCompound(
      [
        { type: 'sr', ssrc: 9, ntpTimestamp: 1n << 40n, rtpTimestamp: 0, packetCount: 0, octetCount: 0, reports: [{ ssrc: 1111, ...block }, { ssrc: 2222, ...block }] },
        { type: 'sdes', chunks: [{ source: 9, items: [{ type: 1, text: 'far' }] }] },
      ],
    );
    const reports = s.receive(bytes, srSentAt + 140);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'remoteReport', reporterSsrc: 9, in: 'sr', fractionLost: 0.5, cumulativeLost: 10, highestSequence: 70000, jitterMs: 10 });
    expect(reports[0]?.rttMs).toBeCloseTo(40, 0);
    expect(s.lastRemoteReport).toBe(reports[0]);
  });

  it('reports rttMs undefined when the far end has no SR from us yet (LSR 0)', () => {
    const s = new RtcpSession({ ssrc: 1 });
    const bytes = encodeCompound(
      [{ type: 'rr', ssrc: 9, reports: [{ ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 1, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 }] }],
      { strict: false },
    );
    expect(s.receive(bytes, Date.now())[0]?.rttMs).toBeUndefined();
  });

  it('counts malformed input and BYEs instead of throwing', () => {
    const s = new RtcpSession({ ssrc: 1 });
    expect(s.receive(new Uint8Array([0x80, 0xc8, 0xff, 0xff]), 0)).toEqual([]);
    s.receive(encodeCompound([{ type: 'rr', ssrc: 9, reports: [] }, { type: 'bye', sources: [9] }], { strict: false }), 0);
    expect(s.counters()).toMatchObject({ received: 2, malformed: 1, byeReceived: 1 });
  });

  it('rejects a zero interval with INVALID_ARGUMENT', () => {
    expect(() => new RtcpSession({ ssrc: 1, intervalMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

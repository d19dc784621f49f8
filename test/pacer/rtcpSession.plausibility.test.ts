import { describe, expect, it } from 'vitest';
import { RtcpSession } from '../../src/pacer/rtcpSession.js';
import { dlsrFromMs, ntpMiddle32, unixMsToNtp } from '../../src/wire/ntp.js';
import { encodeCompound } from '../../src/wire/rtcp/compound.js';
import { MIN_CUMULATIVE_LOST } from '../../src/wire/rtcp/reportBlock.js';

const T = Date.UTC(2024, 0, 1, 12);

function rr(block: { cumulativeLost: number; lastSenderReport: number; delaySinceLastSenderReport: number }): Uint8Array {
  return encodeCompound([{ type: 'rr', ssrc: 9, reports: [{ ssrc: 1111, fractionLost: 0, highestSequence: 50, jitter: 480, ...block }] }], { strict: false });
}

describe('RtcpSession: reports that cannot be true', () => {
  it('flags an absurd report (RTT of hours, loss -8 388 608 for 50 packets) and keeps it out of lastRemoteReport', () => {
    const s = new RtcpSession({ ssrc: 1111 });
    s.buildReport({ wallMs: T, rtpTimestamp: 0, packetCount: 50, octetCount: 6000 });
    const lsr = ntpMiddle32(unixMsToNtp(T));
    const [ok] = s.receive(rr({ cumulativeLost: 2, lastSenderReport: lsr, delaySinceLastSenderReport: dlsrFromMs(100) }), T + 140);
    expect(ok?.implausible).toEqual([]);
    expect(s.lastRemoteReport).toBe(ok);

    // An LSR five hours before our SR, and the most negative loss the field holds.
    const bogusLsr = ntpMiddle32(unixMsToNtp(T - 18_328_000));
    const [bad] = s.receive(rr({ cumulativeLost: MIN_CUMULATIVE_LOST, lastSenderReport: bogusLsr, delaySinceLastSenderReport: 0 }), T + 200);
    expect(bad?.implausible).toHaveLength(2);
    expect(s.lastRemoteReport).toBe(ok);
  });
});

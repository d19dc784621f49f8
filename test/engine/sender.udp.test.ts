/**
 * End to end over real loopback sockets: a sender paced by the real clock, a plain dgram receiver checking the stream.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createRtpSender } from '../../src/engine/sender.js';
import type { OpusFrame } from '../../src/media/frame.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { decodeCompound, type RtcpPacket } from '../../src/wire/rtcp/compound.js';
import { isRtcp } from '../../src/wire/demux.js';

interface Arrival {
  bytes: Buffer;
  at: number;
  port: number;
}

async function bindReceiver(): Promise<{ socket: dgram.Socket; port: number; got: Arrival[] }> {
  const socket = dgram.createSocket('udp4');
  const got: Arrival[] = [];
  socket.on('message', (bytes, r) => got.push({ bytes, at: performance.now(), port: r.port }));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, got };
}

function frames(n: number, size: number): OpusFrame[] {
  return Array.from({ length: n }, (_, i) => ({ data: new Uint8Array(size).fill(i & 0xff), samples: 960 }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('RtpSender over UDP loopback', () => {
  it('muxed: continuous sequence, 960-sample steps, one marker, ~20 ms spacing, windows under the limit, SR+SDES first, BYE last', async () => {
    const r = await bindReceiver();
    cleanup.push(() => r.socket.close());
    const sender = createRtpSender({
      target: { host: '127.0.0.1', port: r.port, rtcpMux: true },
      ssrc: 1111,
      payloadType: 111,
      roomBitrate: 64000,
      rtcp: { intervalMs: 1000, cname: 'e2e' },
      silenceFrames: 5,
    });
    cleanup.push(() => sender.close());
    await sender.start();
    const result = await sender.play(frames(150, 120)); // 3 s
    expect(result).toEqual({ reason: 'finished' });
    await sender.close();
    await new Promise((res) => setTimeout(res, 50));

    const rtp = r.got.filter((a) => !isRtcp(a.bytes)).map((a) => ({ ...decodeRtpPacket(a.bytes), at: a.at, port: a.port }));
    const rtcp = r.got.filter((a) => isRtcp(a.bytes)).map((a) => decodeCompound(a.bytes));
    expect(rtp).toHaveLength(155);
    for (let i = 1; i < rtp.length; i++) {
      expect(rtp[i]?.sequenceNumber).toBe(((rtp[i - 1]?.sequenceNumber ?? 0) + 1) & 0xffff);
      expect(rtp[i]?.timestamp).toBe(((rtp[i - 1]?.timestamp ?? 0) + 960) >>> 0);
    }
    expect(rtp.filter((p) => p.marker)).toHaveLength(1);
    expect(rtp[0]?.marker).toBe(true);
    expect(new Set(rtp.map((p) => p.port)).size).toBe(1);
    const gaps = rtp.slice(1).map((p, i) => p.at - (rtp[i]?.at ?? 0));
    expect(median(gaps)).toBeGreaterThan(17);
    expect(median(gaps)).toBeLessThan(23);
    // Absolute schedule: 154 gaps of 20 ms, whatever the per-packet jitter (stalls on a loaded box may add).
    expect((rtp[154]?.at ?? 0) - (rtp[0]?.at ?? 0)).toBeGreaterThan(154 * 20 - 25);
    // No closed 1 s window over 8000 B of RTP.
    for (const end of rtp) {
      const bytes = rtp.filter((p) => p.at >= end.at - 1000 && p.at <= end.at).reduce((a, p) => a + 12 + p.payload.length, 0);
      expect(bytes).toBeLessThanOrEqual(8000);
    }
    // RTCP: SR+SDES right after the first RTP packet, SRs about every second, SR+SDES+BYE at the end.
    expect(r.got[0] !== undefined && isRtcp(r.got[0].bytes)).toBe(false);
    expect(r.got[1] !== undefined && isRtcp(r.got[1].bytes)).toBe(true);
    const types = (c: RtcpPacket[]): string => c.map((p) => p.type).join('+');
    expect(types(rtcp[0] ?? [])).toBe('sr+sdes');
    expect(rtcp.length).toBeGreaterThanOrEqual(4);
    expect(types(rtcp[rtcp.length - 1] ?? [])).toBe('sr+sdes+bye');
    const st = sender.stats();
    expect(st.packetsSent).toBe(155);
    expect(st.lateness.count).toBe(155);
    expect(st.sendErrors).toBe(0);
    expect(st.status).toBe('closed');
  });

  it('split: RTCP arrives at the rtcp port from local RTP port + 1, and the far end RR comes back as a remote report', async () => {
    const rtpR = await bindReceiver();
    const rtcpR = await bindReceiver();
    cleanup.push(() => rtpR.socket.close(), () => rtcpR.socket.close());
    const sender = createRtpSender({
      target: { host: '127.0.0.1', port: rtpR.port, rtcpPort: rtcpR.port, rtcpMux: false },
      roomBitrate: 48000,
      silenceFrames: 0,
    });
    cleanup.push(() => sender.close());
    const reports: number[] = [];
    sender.on('remoteReport', (e) => reports.push(e.cumulativeLost));
    await sender.start();
    const playing = sender.play(frames(25, 80));
    await new Promise((res) => setTimeout(res, 100));
    const info = sender.transport?.info;
    expect(rtcpR.got[0]?.port).toBe((info?.localPort ?? 0) + 1);
    expect(rtpR.got[0]?.port).toBe(info?.localPort);
    const { encodeCompound } = await import('../../src/wire/rtcp/compound.js');
    const rr = encodeCompound(
      [{ type: 'rr', ssrc: 77, reports: [{ ssrc: 1111, fractionLost: 0, cumulativeLost: 2, highestSequence: 5, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 }] }],
      { strict: false },
    );
    rtcpR.socket.send(rr, info?.rtcpLocalPort ?? 0, '127.0.0.1');
    expect(await playing).toEqual({ reason: 'finished' });
    expect(reports).toEqual([2]);
    expect(sender.stats().remote?.reporterSsrc).toBe(77);
    await sender.close();
  });

  it('keeps playing to a closed port: ICMP errors are counted and emitted, play still finishes, close does not throw', async () => {
    const r = await bindReceiver();
    const port = r.port;
    await new Promise<void>((res) => r.socket.close(() => res()));
    const sender = createRtpSender({ target: { host: '127.0.0.1', port }, roomBitrate: 48000, silenceFrames: 0 });
    const errors: string[] = [];
    sender.on('sendError', (e) => errors.push(e.code));
    expect(await sender.play(frames(20, 50))).toEqual({ reason: 'finished' });
    expect(sender.stats().sendErrors).toBeGreaterThan(0);
    expect(errors[0]).toBe('ECONNREFUSED');
    await sender.close();
    expect(sender.state.status).toBe('closed');
  });
});

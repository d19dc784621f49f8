import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { openUdpTransport, type UdpTransport } from '../../src/transport/udp.js';
import { SendErrorPolicy } from '../../src/transport/transport.js';
import { encodeCompound } from '../../src/wire/rtcp/compound.js';

interface Got {
  bytes: Buffer;
  port: number;
  address: string;
}

async function receiver(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ socket: dgram.Socket; port: number; got: Got[] }> {
  const socket = dgram.createSocket(type);
  const got: Got[] = [];
  socket.on('message', (bytes, r) => got.push({ bytes, port: r.port, address: r.address }));
  await new Promise<void>((r) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
  return { socket, port: socket.address().port, got };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const rr = encodeCompound([{ type: 'rr', ssrc: 9, reports: [] }], { strict: false });
const rtpLike = Uint8Array.of(0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xf8);

describe('UdpTransport', () => {
  it('muxed: RTP and RTCP leave one local port to one remote port; RTCP replies are told apart from RTP', async () => {
    const r = await receiver();
    cleanup.push(() => r.socket.close());
    const t = await openUdpTransport({ host: '127.0.0.1', port: r.port });
    cleanup.push(() => t.close());
    const rtcpIn: Uint8Array[] = [];
    t.setHandlers({ onRtcp: (b) => rtcpIn.push(Uint8Array.from(b)), onSendError: () => {} });
    expect(t.sendRtp(rtpLike)).toBe(true);
    expect(t.sendRtcp(rr)).toBe(true);
    await until(() => r.got.length === 2);
    expect(r.got.map((g) => g.port)).toEqual([t.info.localPort, t.info.localPort]);
    expect(t.info).toMatchObject({ family: 'udp4', rtcpMux: true, remotePort: r.port, remoteRtcpPort: r.port, rtcpLocalPort: t.info.localPort });
    // The far end answers to the source: one RTCP, one RTP-looking datagram.
    r.socket.send(rr, t.info.localPort, '127.0.0.1');
    r.socket.send(rtpLike, t.info.localPort, '127.0.0.1');
    await until(() => t.stats().rtcpReceived + t.stats().otherReceived === 2);
    expect(rtcpIn).toEqual([rr]);
    expect(t.stats()).toMatchObject({ rtcpReceived: 1, otherReceived: 1, sent: 2, sendErrors: 0 });
  });

  it('split: RTCP goes from local RTP port + 1 to the rtcp port', async () => {
    const rtpR = await receiver();
    const rtcpR = await receiver();
    cleanup.push(() => rtpR.socket.close(), () => rtcpR.socket.close());
    const t = await openUdpTransport({ host: '127.0.0.1', port: rtpR.port, rtcpPort: rtcpR.port, rtcpMux: false });
    cleanup.push(() => t.close());
    t.sendRtp(rtpLike);
    t.sendRtcp(rr);
    await until(() => rtpR.got.length === 1 && rtcpR.got.length === 1);
    expect(rtpR.got[0]?.port).toBe(t.info.localPort);
    expect(rtcpR.got[0]?.port).toBe(t.info.localPort + 1);
    expect(t.info.rtcpLocalPort).toBe(t.info.localPort + 1);
  });

  it('split: falls back to another RTCP port when RTP port + 1 is taken', async () => {
    const rtpR = await receiver();
    cleanup.push(() => rtpR.socket.close());
    // Find a local port p whose p + 1 we can occupy first.
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, r));
    cleanup.push(() => blocker.close());
    const localPort = blocker.address().port - 1;
    let t: UdpTransport;
    try {
      t = await openUdpTransport({ host: '127.0.0.1', port: rtpR.port, rtcpMux: false, localPort });
    } catch (err) {
      expect(err).toMatchObject({ code: 'SOCKET_ERROR' }); // p itself happened to be taken: still a typed error
      return;
    }
    cleanup.push(() => t.close());
    expect(t.info.localPort).toBe(localPort);
    expect(t.info.rtcpLocalPort).not.toBe(localPort + 1);
    expect(t.info.remoteRtcpPort).toBe(rtpR.port + 1);
  });

  it('survives ICMP port unreachable: errors are counted and reported, sends back off, nothing crashes or leaks', async () => {
    // Reserve a port, then close it so nothing listens there.
    const r = await receiver();
    const port = r.port;
    await new Promise<void>((res) => r.socket.close(() => res()));
    const t = await openUdpTransport({ host: '127.0.0.1', port, errorPolicy: { threshold: 3, initialBackoffMs: 50 } });
    const reported: string[] = [];
    t.setHandlers({ onRtcp: () => {}, onSendError: (e) => reported.push(`${e.kind}:${e.code}:${e.backoffMs}`) });
    for (let i = 0; i < 30; i++) {
      t.sendRtp(rtpLike);
      await new Promise((res) => setTimeout(res, 5));
    }
    const st = t.stats();
    expect(st.sendErrors).toBeGreaterThanOrEqual(3);
    expect(st.lastErrorCode).toBe('ECONNREFUSED');
    expect(st.skipped).toBeGreaterThan(0);
    expect(reported[0]).toBe('rtp:ECONNREFUSED:0');
    expect(reported.some((x) => x.endsWith(':50'))).toBe(true);
    await t.close();
    await t.close(); // idempotent
    expect(t.sendRtp(rtpLike)).toBe(false);
  });

  it('rejects bad ports with INVALID_ARGUMENT and an unresolvable host with SOCKET_ERROR', async () => {
    await expect(openUdpTransport({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openUdpTransport({ host: '127.0.0.1', port: 70000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openUdpTransport({ host: 'no-such-host.invalid', port: 5004 })).rejects.toMatchObject({ code: 'SOCKET_ERROR' });
  });

  it('fails to bind a taken local port with SOCKET_ERROR and closes what it opened', async () => {
    const taken = await receiver();
    cleanup.push(() => taken.socket.close());
    await expect(openUdpTransport({ host: '127.0.0.1', port: 5004, localPort: taken.port, localAddress: '127.0.0.1' })).rejects.toMatchObject({
      code: 'SOCKET_ERROR',
    });
  });

  const hasIpv6 = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === 'IPv6' && a.address === '::1'));
  it.runIf(hasIpv6)('IPv6: sends over ::1 (brackets accepted)', async () => {
    const r = await receiver('udp6');
    cleanup.push(() => r.socket.close());
    const t = await openUdpTransport({ host: '[::1]', port: r.port });
    cleanup.push(() => t.close());
    expect(t.info.family).toBe('udp6');
    t.sendRtp(rtpLike);
    await until(() => r.got.length === 1);
    expect(r.got[0]?.address).toBe('::1');
  });
});

describe('SendErrorPolicy', () => {
  it('reports the first failure, backs off after the threshold, doubles up to the cap, and forgets after a quiet period', () => {
    const p = new SendErrorPolicy({ threshold: 2, initialBackoffMs: 100, maxBackoffMs: 300, quietMs: 1000 });
    expect(p.failure(0)).toEqual({ report: true, backoffMs: 0 });
    expect(p.failure(1)).toEqual({ report: true, backoffMs: 100 });
    expect(p.shouldSkip(50)).toBe(true);
    expect(p.failure(60)).toEqual({ report: false, backoffMs: 41 }); // in flight: no growth
    expect(p.shouldSkip(101)).toBe(false);
    expect(p.failure(102).backoffMs).toBe(200);
    expect(p.failure(400).backoffMs).toBe(300);
    expect(p.failure(800).backoffMs).toBe(300);
    expect(p.failure(5000)).toEqual({ report: true, backoffMs: 0 }); // quiet for > 1 s: a new streak
  });
});

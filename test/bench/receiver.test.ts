import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../bench/compare.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rtp(seq: number, ts: number, payloadBytes: number): Buffer {
  const b = Buffer.alloc(12 + payloadBytes, 0x55);
  b[0] = 0x80;
  b[1] = 0x6f; // PT 111
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(1111, 8);
  return b;
}

describe('receiver process (real loopback sockets)', () => {
  let receiver: Receiver | undefined;
  afterEach(() => {
    receiver?.child.kill();
    receiver = undefined;
  });

  it('reports ephemeral ports, then what it received', async () => {
    receiver = await startReceiver();
    expect(receiver.rtpPort).toBeGreaterThan(0);
    expect(receiver.rtcpPort).toBeGreaterThan(0);
    expect(receiver.rtcpPort).not.toBe(receiver.rtpPort);
    const socket = createSocket('udp4');
    const send = (buf: Buffer, port: number): Promise<void> =>
      new Promise((resolve, reject) => socket.send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    const before = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) {
      if (i === 3) continue; // one lost
      await send(rtp(100 + i, i * 960, 100), receiver.rtpPort);
      await new Promise((r) => setTimeout(r, 20));
    }
    await send(hex('80c80006 00000457 00000000 00000000 00000000 00000000 00000000 81cb0001 00000457'), receiver.rtcpPort);
    await send(hex('80c90001 00000457'), receiver.rtpPort); // muxed RR
    await send(Buffer.from('hello'), receiver.rtpPort); // not RTP
    await new Promise((r) => setTimeout(r, 100));
    socket.close();
    const report = await receiver.stop();
    expect(report.rtp.packets).toBe(4);
    expect(report.rtp.bytes.rtp).toBe(4 * 112);
    expect(report.rtp.sequence).toMatchObject({ received: 4, expected: 5, lost: 1 });
    expect(report.rtp.ssrcs).toEqual([1111]);
    expect(report.rtcp).toMatchObject({ datagrams: 2, muxed: 1, sr: 1, rr: 1, bye: 1, malformed: 0 });
    expect(report.nonRtp).toBe(1);
    // Same CLOCK_MONOTONIC in both processes: the first arrival is after we started sending.
    expect(BigInt(report.firstRtpArrivalNs!)).toBeGreaterThan(before);
    expect(BigInt(report.firstRtpArrivalNs!) - before).toBeLessThan(1_000_000_000n);
  });
});

/**
 * Benchmark receiver: a separate process that listens for one RTP stream and its RTCP on two loopback UDP ports,
 * timestamps every datagram with `process.hrtime.bigint()` as it arrives, and reports JSON when told to stop.
 *
 * Protocol (IPC channel, started by bench/compare.ts with `child_process.spawn(..., { stdio: [..., 'ipc'] })`):
 *   child -> parent  `{ type: 'ready', rtpPort, rtcpPort }`   both sockets bound to ephemeral ports (port 0)
 *   parent -> child  `{ type: 'stop' }`
 *   child -> parent  `{ type: 'report', report: ReceiverReport }`, then the child exits
 * Without an IPC channel (run by hand) it prints the ports, and the report on SIGINT, to stdout.
 *
 * Arrival times are taken in the `message` callback, so they include the receiver's own event-loop delay; on a
 * busy machine that adds jitter to both pushers alike. `process.hrtime.bigint()` is CLOCK_MONOTONIC on Linux,
 * which is shared by all processes, so the parent can subtract its own spawn time from the first arrival.
 */
import { createSocket, type Socket } from 'node:dgram';
import { analyzeStream, type ReceiverReport, type RtpArrival } from './analyze.js';
import { countRtcp, emptyRtcpCounts, isMuxedRtcp, parseRtp } from './packets.js';

const host = process.env['KOOKBENCH_HOST'] ?? '127.0.0.1';

function bind(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

const rtpSocket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
const rtcpSocket = createSocket('udp4');
const raw: { t: bigint; bytes: Uint8Array }[] = [];
const rtcp = emptyRtcpCounts();
let firstRtcp: bigint | undefined;

rtpSocket.on('message', (msg) => {
  const t = process.hrtime.bigint();
  if (isMuxedRtcp(msg)) {
    // A pusher that muxes RTCP onto the RTP port (RFC 5761) instead of using rtcpport.
    firstRtcp ??= t;
    rtcp.muxed++;
    countRtcp(msg, rtcp);
  } else {
    raw.push({ t, bytes: msg });
  }
});
rtcpSocket.on('message', (msg) => {
  const t = process.hrtime.bigint();
  firstRtcp ??= t;
  countRtcp(msg, rtcp);
});

const rtpPort = await bind(rtpSocket);
const rtcpPort = await bind(rtcpSocket);

function report(): ReceiverReport {
  const base = raw[0]?.t ?? 0n;
  const arrivals: RtpArrival[] = [];
  let nonRtp = 0;
  for (const { t, bytes } of raw) {
    const rtp = parseRtp(bytes);
    if (rtp === undefined) nonRtp++;
    else arrivals.push({ t: Number(t - base), length: bytes.length, rtp });
  }
  const first = raw[0];
  return {
    rtpPort,
    rtcpPort,
    ...(first ? { firstRtpArrivalNs: first.t.toString() } : {}),
    ...(firstRtcp !== undefined ? { firstRtcpArrivalNs: firstRtcp.toString() } : {}),
    nonRtp,
    rtp: analyzeStream(arrivals),
    rtcp,
  };
}

function finish(send: (r: ReceiverReport) => void): void {
  rtpSocket.close();
  rtcpSocket.close();
  send(report());
}

if (process.send) {
  process.send({ type: 'ready', rtpPort, rtcpPort });
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') {
      finish((r) => process.send!({ type: 'report', report: r }, () => process.disconnect()));
    }
  });
  // The parent died without saying stop: don't linger.
  process.on('disconnect', () => process.exit(0));
} else {
  process.stdout.write(`${JSON.stringify({ rtpPort, rtcpPort })}\n`);
  process.once('SIGINT', () => finish((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`)));
}

/**
 * Loopback RTP receiver for bench/engine.ts, run in its own process so its event loop does not share the sender's.
 *
 * Prints `{"port":N}` once bound. Commands on stdin, one per line: `report` prints a JSON report of everything
 * since the last report and resets; `quit` exits. Per SSRC it tracks the arrival gap (|gap - frame|) and the
 * RFC 3550 A.8 interarrival jitter; gaps of the first stream are also kept raw for exact percentiles.
 *
 * Run alone: npx tsx bench/receiver.ts
 */
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

interface Source {
  lastArrival: number;
  lastTs: number;
  jitter: number; // in timestamp units
  maxJitter: number;
  packets: number;
}

const sources = new Map<number, Source>();
let firstSsrc: number | undefined;
let gaps: number[] = [];
// |gap - 20 ms| over every stream, 0.01 ms buckets up to 50 ms.
const deviation = new Uint32Array(5001);
let deviationCount = 0;
// Every stream: the longest arrival gap, and gaps over 25 ms.
let gapMaxAll = 0;
let gapsOver25 = 0;
let packets = 0;
let bytes = 0;

const socket = dgram.createSocket('udp4');
socket.on('error', () => {});
socket.on('message', (msg) => {
  const at = performance.now();
  packets++;
  bytes += msg.length;
  if (msg.length < 12 || (msg[1] ?? 0) >= 192 && (msg[1] ?? 0) <= 223) return; // RTCP
  const ts = msg.readUInt32BE(4);
  const ssrc = msg.readUInt32BE(8);
  let s = sources.get(ssrc);
  if (s === undefined) {
    s = { lastArrival: at, lastTs: ts, jitter: 0, maxJitter: 0, packets: 1 };
    sources.set(ssrc, s);
    firstSsrc ??= ssrc;
    return;
  }
  const gap = at - s.lastArrival;
  const tsStep = ((ts - s.lastTs) >>> 0) / 48; // ms of media
  const d = gap - tsStep;
  s.jitter += (Math.abs(d * 48) - s.jitter) / 16;
  if (s.packets > 50 && s.jitter > s.maxJitter) s.maxJitter = s.jitter; // skip the warm-up second
  s.lastArrival = at;
  s.lastTs = ts;
  s.packets++;
  if (ssrc === firstSsrc) gaps.push(gap);
  if (gap > gapMaxAll) gapMaxAll = gap;
  if (gap > 25) gapsOver25++;
  const dev = Math.min(5000, Math.round(Math.abs(d) * 100));
  deviation[dev] = (deviation[dev] ?? 0) + 1;
  deviationCount++;
});

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function devQuantile(q: number): number {
  const rank = Math.max(1, Math.ceil(q * deviationCount));
  let seen = 0;
  for (let i = 0; i < deviation.length; i++) {
    seen += deviation[i] ?? 0;
    if (seen >= rank) return i / 100;
  }
  return Number.NaN;
}

function report(): unknown {
  const sorted = [...gaps].sort((a, b) => a - b);
  const jitters = [...sources.values()].map((s) => s.jitter / 48).sort((a, b) => a - b);
  const out = {
    packets,
    bytes,
    streams: sources.size,
    firstStream: {
      gaps: sorted.length,
      gapP50: quantile(sorted, 0.5),
      gapP99: quantile(sorted, 0.99),
      gapMax: sorted[sorted.length - 1] ?? Number.NaN,
      jitterMs: (sources.get(firstSsrc ?? -1)?.jitter ?? Number.NaN) / 48,
      maxJitterMs: (sources.get(firstSsrc ?? -1)?.maxJitter ?? Number.NaN) / 48,
    },
    allStreams: {
      gapDeviationP50: devQuantile(0.5),
      gapDeviationP99: devQuantile(0.99),
      jitterMsP50: quantile(jitters, 0.5),
      jitterMsMax: jitters[jitters.length - 1] ?? Number.NaN,
      gapMax: gapMaxAll,
      gapsOver25,
    },
  };
  sources.clear();
  firstSsrc = undefined;
  gaps = [];
  deviation.fill(0);
  deviationCount = 0;
  gapMaxAll = 0;
  gapsOver25 = 0;
  packets = 0;
  bytes = 0;
  return out;
}

socket.bind({ port: 0, address: '127.0.0.1' }, () => {
  try {
    socket.setRecvBufferSize(8 * 1024 * 1024);
  } catch {
    // best effort (capped by net.core.rmem_max)
  }
  process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`);
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'report') process.stdout.write(`${JSON.stringify(report())}\n`);
  else if (line.trim() === 'quit') {
    socket.close();
    process.exit(0);
  }
});
process.stdin.on('end', () => process.exit(0));

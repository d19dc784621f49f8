/**
 * Engine benchmarks: the packetize/guard hot path (benny), raw packetize-and-send throughput over dgram, and N
 * concurrent paced streams (1 / 10 / 100 / 500 / 1000) sent to a receiver in another process (bench/receiver.ts).
 *
 * Run: npx tsx bench/engine.ts [--quick] [--seconds N] [--streams 1,10,100]
 *   (add `node --expose-gc` via NODE_OPTIONS=--expose-gc for steadier memory figures)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import b from 'benny';
import { BitrateGuard } from '../src/pacer/bitrateGuard.js';
import { LatenessHistogram } from '../src/pacer/histogram.js';
import { RtpPacketizer } from '../src/pacer/packetizer.js';
import { getDefaultScheduler } from '../src/pacer/scheduler.js';
import { createRtpSender, type RtpSender } from '../src/engine/sender.js';
import type { OpusFrame } from '../src/media/frame.js';
import { openUdpTransport } from '../src/transport/udp.js';
import { RtpSequencer } from '../src/wire/rtp/sequencer.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const seconds = Number(argValue('--seconds') ?? (quick ? 4 : 10));
const streamCounts = (argValue('--streams') ?? (quick ? '1,10,100' : '1,10,100,500,1000')).split(',').map(Number);

// ---------------------------------------------------------------- receiver process

interface Receiver {
  child: ChildProcessWithoutNullStreams;
  lines: Interface;
  port: number;
  ask(): Promise<ReceiverReport>;
}

interface ReceiverReport {
  packets: number;
  streams: number;
  firstStream: { gaps: number; gapP50: number; gapP99: number; gapMax: number; jitterMs: number; maxJitterMs: number };
  allStreams: { gapDeviationP50: number; gapDeviationP99: number; jitterMsP50: number; jitterMsMax: number };
}

async function startReceiver(): Promise<Receiver> {
  const script = fileURLToPath(new URL('./receiver.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(`[receiver] ${d.toString()}`));
  const lines = createInterface({ input: child.stdout });
  const queue: Array<(line: string) => void> = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const next = (): Promise<string> => new Promise((r) => queue.push(r));
  const first = JSON.parse(await next()) as { port: number };
  return {
    child,
    lines,
    port: first.port,
    ask: async () => {
      const p = next();
      child.stdin.write('report\n');
      return JSON.parse(await p) as ReceiverReport;
    },
  };
}

// ---------------------------------------------------------------- helpers

function* syntheticFrames(): Generator<OpusFrame> {
  // ~120-byte frames with a little size variation, like 48 kbit/s VBR Opus.
  const sizes = [112, 118, 120, 124, 128, 116, 122, 120];
  const buffers = sizes.map((n) => {
    const d = new Uint8Array(n).fill(0x55);
    d[0] = 0xfc;
    return d;
  });
  for (let i = 0; ; i++) yield { data: buffers[i % buffers.length] as Uint8Array, samples: 960 };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

function memMb(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external + m.arrayBuffers) / 1e6;
}

const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

// ---------------------------------------------------------------- 1. hot path (benny)

async function hotPath(): Promise<void> {
  const packetizer = new RtpPacketizer({ ssrc: 1111, payloadType: 111, sequencer: RtpSequencer.fixed(0, 0) });
  const payload = new Uint8Array(120).fill(0x55);
  const guard = new BitrateGuard({ roomBitrate: 10_000_000 }, 0);
  const hist = new LatenessHistogram();
  let t = 0;
  await b.suite(
    'engine hot path',
    b.add('packetize 120 B frame', () => {
      packetizer.packetize(payload, 960, false);
    }),
    b.add('guard earliest + record', () => {
      t += 0.02;
      guard.record(guard.earliest(t, 120), 120);
    }),
    b.add('lateness histogram record', () => {
      hist.record(0.37);
    }),
    b.cycle(),
    b.complete(),
  );
}

// ---------------------------------------------------------------- 2. raw packetize-and-send throughput

async function rawThroughput(rx: Receiver): Promise<void> {
  const transport = await openUdpTransport({ host: '127.0.0.1', port: rx.port });
  const packetizer = new RtpPacketizer({ ssrc: 2222, payloadType: 111 });
  const payload = new Uint8Array(120).fill(0x55);
  await rx.ask();
  const total = quick ? 200_000 : 500_000;
  const batch = 2000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += batch) {
    for (let i = 0; i < batch; i++) transport.sendRtp(packetizer.packetize(payload, 960, false));
    // Let the send callbacks run, or libuv's queue grows without bound.
    await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 300));
  const got = await rx.ask();
  console.log(
    `raw packetize+send: ${total} datagrams in ${fmt(ms, 0)} ms = ${fmt((total / ms) * 1000, 0)} pkt/s ` +
      `(CPU ${fmt(((cpu.user + cpu.system) / 1000 / ms) * 100, 0)}% of one core; receiver got ${got.packets}, ` +
      `send errors ${transport.stats().sendErrors})`,
  );
  await transport.close();
}

// ---------------------------------------------------------------- 3. paced streams

interface StreamResult {
  streams: number;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  stalls: number;
  underruns: number;
  cpuPct: number;
  memKbPerStream: number;
  rx: ReceiverReport;
}

async function pacedStreams(rx: Receiver, n: number): Promise<StreamResult> {
  gc();
  const mem0 = memMb();
  const senders: RtpSender[] = [];
  for (let i = 0; i < n; i++) {
    const s = createRtpSender({
      target: { host: '127.0.0.1', port: rx.port },
      ssrc: 10_000 + i,
      roomBitrate: 64_000,
      rtcp: { randomize: true },
      progressIntervalMs: 0,
      // The pacing core in this thread, on the process-wide scheduler (its lateness histograms can be merged here);
      // the threaded path is measured side by side in bench/scale.ts.
      threads: false,
    });
    await s.start();
    senders.push(s);
  }
  // Start the streams spread over one frame, as independent bots would be.
  const plays = senders.map(
    (s, i) =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          void s.play(syntheticFrames());
          resolve();
        }, (i * 20) / n);
      }),
  );
  await Promise.all(plays);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: JIT, socket buffers
  for (const s of senders) s.latenessHistogram.reset();
  const stallsBefore = senders.reduce((a, s) => a + s.stats().stalls, 0);
  await rx.ask();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const rxReport = await rx.ask();
  // Collect before gc(): a full collection stalls the loop and would count as a stall of every stream.
  const merged = new LatenessHistogram();
  let stalls = 0;
  let underruns = 0;
  for (const s of senders) {
    merged.merge(s.latenessHistogram);
    const st = s.stats();
    stalls += st.stalls;
    underruns += st.underruns;
  }
  gc();
  const mem1 = memMb();
  await Promise.all(senders.map((s) => s.close()));
  const l = merged.summary();
  return {
    streams: n,
    latenessP50: l.p50Ms,
    latenessP99: l.p99Ms,
    latenessMax: l.maxMs,
    stalls: stalls - stallsBefore,
    underruns,
    cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100,
    memKbPerStream: ((mem1 - mem0) * 1000) / n,
    rx: rxReport,
  };
}

// ---------------------------------------------------------------- main

const rx = await startReceiver();
try {
  console.log(`kook-rtp engine bench (${quick ? 'quick' : 'full'}; ${seconds} s per paced run; Node ${process.version})`);
  await hotPath();
  await rawThroughput(rx);
  const results: StreamResult[] = [];
  for (const n of streamCounts) {
    const r = await pacedStreams(rx, n);
    results.push(r);
    console.log(
      `${String(n).padStart(5)} streams: lateness p50 ${fmt(r.latenessP50)} p99 ${fmt(r.latenessP99)} max ${fmt(r.latenessMax)} ms; ` +
        `stalls ${r.stalls}, underruns ${r.underruns}; CPU ${fmt(r.cpuPct, 1)}% of a core ` +
        `(${fmt(r.cpuPct / n, 3)}%/stream); mem ${fmt(r.memKbPerStream, 1)} KB/stream; ` +
        `receiver: ${r.rx.packets} pkts, |gap-20| p50 ${fmt(r.rx.allStreams.gapDeviationP50)} p99 ${fmt(r.rx.allStreams.gapDeviationP99)} ms, ` +
        `jitter p50 ${fmt(r.rx.allStreams.jitterMsP50, 3)} max ${fmt(r.rx.allStreams.jitterMsMax, 3)} ms`,
    );
    if (n === 1) {
      const f = r.rx.firstStream;
      console.log(
        `      single stream at the receiver: gap p50 ${fmt(f.gapP50, 3)} p99 ${fmt(f.gapP99, 3)} max ${fmt(f.gapMax, 3)} ms; ` +
          `jitter (RFC 3550) final ${fmt(f.jitterMs, 3)} ms, peak ${fmt(f.maxJitterMs, 3)} ms`,
      );
    }
  }
  const sched = getDefaultScheduler().stats();
  console.log(
    `scheduler: ${sched.ticks} wake-ups, ${sched.runs} task runs, max batch ${sched.maxBatch}, idle spins ${sched.idleSpins}, ` +
      `spin-budget fallbacks ${sched.spinFallbacks}`,
  );
} finally {
  rx.child.stdin.write('quit\n');
  await Promise.race([once(rx.child, 'exit'), new Promise((r) => setTimeout(r, 1000))]);
  if (rx.child.exitCode === null) rx.child.kill();
}

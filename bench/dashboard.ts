/**
 * What the dashboard costs the streams: N paced streams (synthetic 48 kbit/s Opus frames to a UDP sink in a child
 * process), run alternately without and with a dashboard that shows every sender, has a page connected to its event
 * stream (raw bytes read and dropped, as a browser in another process would cost this one nothing more), and is
 * scraped at /metrics every 5 s. Prints, per run, the send lateness (p50/p99/max over all streams), stalls,
 * underruns and the process's CPU, then the medians of each side.
 *
 * Run: npx tsx bench/dashboard.ts [--streams 100] [--seconds 10] [--runs 2]
 *   Uses only `sender.stats()`, so it keeps working whatever the engine does inside.
 */
import { fork } from 'node:child_process';
import { request } from 'node:http';
import { createRtpSender, type RtpSender } from '../src/engine/sender.js';
import type { OpusFrame } from '../src/media/frame.js';
import { createDashboard } from '../src/dashboard/dashboard.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const streams = arg('--streams', 100);
const seconds = arg('--seconds', 10);
const runs = arg('--runs', 2);

if (process.argv[2] === 'sink') {
  // The child: one UDP socket that reads and drops.
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  s.on('message', () => undefined);
  s.bind(0, '127.0.0.1', () => process.send?.((s.address() as { port: number }).port));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

function* frames(): Generator<OpusFrame> {
  const sizes = [112, 118, 120, 124, 128, 116, 122, 120];
  const buffers = sizes.map((n) => {
    const d = new Uint8Array(n).fill(0x55);
    d[0] = 0xfc;
    return d;
  });
  for (let i = 0; ; i++) yield { data: buffers[i % buffers.length] as Uint8Array, samples: 960 };
}

interface Result {
  readonly dashboard: boolean;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly stalls: number;
  readonly underruns: number;
  readonly cpuPct: number;
  /** Time one dashboard sample took (read every sender, build and send the JSON to the page), ms. */
  readonly sampleMs: number;
}

async function run(port: number, withDashboard: boolean): Promise<Result> {
  const senders: RtpSender[] = [];
  for (let i = 0; i < streams; i++) {
    const s = createRtpSender({ target: { host: '127.0.0.1', port }, ssrc: 20_000 + i, roomBitrate: 64_000, rtcp: { randomize: true } });
    await s.start();
    senders.push(s);
  }
  const dashboard = withDashboard ? await createDashboard({ senders }) : undefined;
  let page: ReturnType<typeof request> | undefined;
  let scrapes: NodeJS.Timeout | undefined;
  if (dashboard !== undefined) {
    page = request(`${dashboard.url}events`, (res) => res.resume());
    page.on('error', () => undefined);
    page.end();
    scrapes = setInterval(() => void fetch(`${dashboard.url}metrics`).then((r) => r.text()), 5000);
  }
  for (const [i, s] of senders.entries()) setTimeout(() => void s.play(frames()), (i * 20) / streams);
  await new Promise((r) => setTimeout(r, 1000));
  // Stalls counted inside the measured window only (start-up spreads the streams and warms the JIT).
  const before = senders.map((s) => s.stats());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const stats = senders.map((s) => s.stats());
  let sampleMs = 0;
  if (dashboard !== undefined) {
    const t = performance.now();
    dashboard.sample();
    sampleMs = performance.now() - t;
  }
  clearInterval(scrapes);
  page?.destroy();
  await dashboard?.close();
  await Promise.all(senders.map((s) => s.close()));
  const p = (k: 'p50Ms' | 'p99Ms' | 'maxMs'): number => median(stats.map((s) => s.lateness[k]));
  return {
    dashboard: withDashboard,
    p50: p('p50Ms'),
    p99: p('p99Ms'),
    max: Math.max(...stats.map((s) => s.lateness.maxMs)),
    stalls: stats.reduce((a, s, i) => a + s.stalls - before[i]!.stalls, 0),
    underruns: stats.reduce((a, s, i) => a + s.underruns - before[i]!.underruns, 0),
    sampleMs: dashboard === undefined ? 0 : sampleMs,
    cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const sink = fork(new URL(import.meta.url).pathname, ['sink'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => sink.once('message', (m) => r(m as number)));
  console.log(`dashboard cost: ${streams} streams, ${seconds} s per run, ${runs} run(s) each way, Node ${process.version}`);
  const results: Result[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first, so a drifting machine load does not favour one side.
      for (const withDashboard of i % 2 === 0 ? [false, true] : [true, false]) {
        const r = await run(port, withDashboard);
        results.push(r);
        console.log(
          `${r.dashboard ? 'with dashboard   ' : 'without dashboard'}  lateness p50 ${r.p50.toFixed(3)} p99 ${r.p99.toFixed(3)} max ${r.max.toFixed(1)} ms; ` +
            `stalls ${r.stalls}, underruns ${r.underruns}; CPU ${r.cpuPct.toFixed(1)}% of a core` +
            (r.dashboard ? `; one sample ${r.sampleMs.toFixed(2)} ms` : ''),
        );
      }
    }
  } finally {
    sink.disconnect();
  }
  for (const side of [false, true]) {
    const rs = results.filter((r) => r.dashboard === side);
    const m = (k: keyof Omit<Result, 'dashboard' | 'sampleMs'>): string => median(rs.map((r) => r[k])).toFixed(k === 'cpuPct' ? 1 : 3);
    console.log(`median ${side ? 'with   ' : 'without'}: lateness p50 ${m('p50')} p99 ${m('p99')} ms; stalls ${m('stalls')}; CPU ${m('cpuPct')}%`);
  }
}

/**
 * Where one stream's CPU goes, part by part, with process.cpuUsage() (user+sys of this process, all threads):
 * - media: the track pipeline pulled as fast as possible (MP3 decode, resample, Opus encode) at complexity 10, 8, 5;
 * - pacing: pre-encoded frames played in real time through the sender to a UDP sink in another process, once per
 *   scheduler precision ('high', 'balanced', 'low'): wake-ups, RTP/RTCP and sends, without the media work.
 * CPU is given per minute of audio, like bench/compare.ts. The machine is shared: repeat and compare like with like.
 *
 * Run: npx tsx bench/stream-cpu.ts [--file F] [--seconds N] [--only media|pacing]
 * (F defaults to fixtures/media/steps.mp3; pacing plays N seconds per precision, default 20.)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createScheduler, type SchedulerPrecision } from '../src/pacer/scheduler.js';
import { createRtpSender } from '../src/engine/sender.js';
import type { OpusFrame } from '../src/media/frame.js';
import { openTrack } from '../src/media/track.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = arg('--file') ?? fileURLToPath(new URL('../fixtures/media/steps.mp3', import.meta.url));
const seconds = Number(arg('--seconds') ?? 20);
const only = arg('--only');

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

async function media(complexity: number): Promise<{ frames: OpusFrame[]; cpuPerMin: number; firstFrameMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const track = await openTrack(file, { passthrough: 'never', encoder: { complexity } });
  const frames: OpusFrame[] = [];
  let firstFrameMs = 0;
  for await (const f of track) {
    if (frames.length === 0) firstFrameMs = performance.now() - t0;
    frames.push(f);
  }
  const audioMin = (frames.length * 0.02) / 60;
  return { frames, cpuPerMin: cpuSince(c0) / audioMin, firstFrameMs };
}

/** A UDP sink in its own process, so receiving costs this process nothing. */
async function startSink(): Promise<{ port: number; stop: () => void }> {
  const code = `const d=require('node:dgram');const s=d.createSocket('udp4');const r=d.createSocket('udp4');s.on('message',()=>{});r.on('message',()=>{});
    s.bind(0,'127.0.0.1',()=>r.bind(s.address().port+1,'127.0.0.1',()=>process.send(s.address().port)));r.on('error',()=>process.send(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  return { port, stop: () => child.kill() };
}

async function pacing(frames: OpusFrame[], precision: SchedulerPrecision, port: number): Promise<string> {
  const n = Math.min(frames.length, Math.round(seconds * 50));
  const list = Array.from({ length: n }, (_, i) => frames[i % frames.length] as OpusFrame);
  const scheduler = createScheduler({ precision });
  const sender = createRtpSender({ target: { host: '127.0.0.1', port, rtcpPort: port + 1, rtcpMux: false }, roomBitrate: 48000, scheduler });
  await sender.start();
  await new Promise((r) => setTimeout(r, 200));
  const c0 = process.cpuUsage();
  await sender.play(list);
  const cpu = cpuSince(c0);
  const st = sender.stats();
  const sch = scheduler.stats();
  await sender.close();
  const perMin = cpu / ((n * 0.02) / 60);
  return `${precision.padEnd(8)} ${perMin.toFixed(2)} CPU s/min (${((cpu / n) * 1e6).toFixed(0)} µs/frame); lateness p50 ${st.lateness.p50Ms.toFixed(2)} ` +
    `p99 ${st.lateness.p99Ms.toFixed(2)} max ${st.lateness.maxMs.toFixed(2)} ms; wake-ups/frame ${(sch.ticks / sch.runs).toFixed(2)}, ` +
    `lead ${sch.leadMs.toFixed(2)} ms, slept ${(sch.sleptMs / n).toFixed(2)} ms/frame, spun ${(sch.spunMs / n).toFixed(3)} ms/frame`;
}

const results: string[] = [];
const base = await media(10);
if (only !== 'pacing') {
  results.push(`media, complexity 10: ${base.cpuPerMin.toFixed(2)} CPU s/min (${(60 / base.cpuPerMin).toFixed(0)}x real time), first frame ${base.firstFrameMs.toFixed(0)} ms after openTrack`);
  for (const c of [8, 5]) {
    const r = await media(c);
    results.push(`media, complexity ${c}: ${r.cpuPerMin.toFixed(2)} CPU s/min (${(60 / r.cpuPerMin).toFixed(0)}x real time)`);
  }
}
if (only !== 'media') {
  const sink = await startSink();
  try {
    for (const p of ['high', 'balanced', 'low'] as const) results.push(`pacing ${await pacing(base.frames, p, sink.port)}`);
  } finally {
    sink.stop();
  }
}
console.log(`${file}\n${results.join('\n')}`);

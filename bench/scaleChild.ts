/**
 * The kook-rtp side of bench/scale.ts, in its own process: N streams to one receiver, each a `createPlayer` on its own
 * `createRtpSender` (transcode), or N senders playing ready Opus frames (passthrough). Prints `{"ready":true}` once
 * the streams are started; on stdin, `mark` starts a measurement window and `report` prints what happened in it
 * (CPU of the whole process, all threads; RSS; event-loop delay of the host; the senders' counters) as one JSON line;
 * `quit` destroys everything and exits.
 *
 * Run by bench/scale.ts: node --import tsx bench/scaleChild.ts --streams N --port P --file F
 *   [--mode transcode|passthrough|mix] [--block-ms MS] [--threads 0|1] [--dashboard]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import type { Player } from '../src/engine/player.js';
import type { RtpSender } from '../src/engine/sender.js';
import type { OpusFrame } from '../src/media/frame.js';
import { OggDemuxer } from '../src/wire/ogg/demuxer.js';

// The built package when there is one (as a bot runs it: plain JavaScript in every thread), else the source.
const built = new URL('../dist/index.js', import.meta.url);
const lib = (await import(existsSync(built) ? built.href : '../src/index.js')) as typeof import('../src/index.js');
const { createPlayer, createRtpSender } = lib;

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const streams = Number(arg('--streams', '1'));
const port = Number(arg('--port', '0'));
const file = arg('--file', '');
const mode = arg('--mode', 'transcode');
const blockMs = Number(arg('--block-ms', '0'));
const threads = arg('--threads', '1') !== '0';
const room = 48000;

const senders: RtpSender[] = [];
const players: Player[] = [];

async function opusFrames(path: string): Promise<OpusFrame[]> {
  const demux = new OggDemuxer();
  const out: OpusFrame[] = [];
  let i = 0;
  for (const p of demux.push(await readFile(path))) {
    if (i++ < 2 || p.data.length === 0) continue;
    out.push({ data: p.data, samples: 960 });
  }
  return out;
}

function* loop(frames: OpusFrame[]): Generator<OpusFrame> {
  for (;;) for (const f of frames) yield f;
}

/** A 2 s clip (two tones, 48 kHz stereo WAV) for the mixing case's overlays. */
const CLIP = ((): Uint8Array => {
  const n = 96_000;
  const b = Buffer.alloc(44 + n * 4);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 4, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(2, 22); b.writeUInt32LE(48_000, 24);
  b.writeUInt32LE(192_000, 28); b.writeUInt16LE(4, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 4, 40);
  for (let k = 0; k < n; k++) {
    const v = Math.round(6000 * (Math.sin((2 * Math.PI * 700 * k) / 48_000) + Math.sin((2 * Math.PI * 1100 * k) / 48_000)));
    b.writeInt16LE(v, 44 + k * 4);
    b.writeInt16LE(v, 46 + k * 4);
  }
  return new Uint8Array(b);
})();

const frames = mode === 'passthrough' ? await opusFrames(file) : [];
for (let i = 0; i < streams; i++) {
  const sender = createRtpSender({
    target: { host: '127.0.0.1', port },
    ssrc: 10_000 + i,
    payloadType: 111,
    roomBitrate: room,
    threads,
  });
  senders.push(sender);
  if (mode === 'passthrough') {
    void sender.play(loop(frames));
  } else {
    const mix = mode === 'mix';
    const player = createPlayer({
      sender,
      roomBitrate: room,
      loop: 'track',
      // The mixing case: an equalizer on every track, and a 2 s clip over the music every 5 s (40% of the time).
      ...(mix ? { filters: { equalizer: [{ band: 3, gain: 0.2 }, { band: 10, gain: -0.1 }] } } : {}),
    });
    player.on('error', (e) => process.stderr.write(`stream ${i}: ${e.error.code} ${e.error.message}\n`));
    player.enqueue(file);
    players.push(player);
    if (mix) {
      const start = (i * 5000) / Math.max(1, streams);
      setTimeout(() => {
        const t = setInterval(() => player.overlay(CLIP, { duckDb: -12 }), 5000);
        t.unref();
        player.overlay(CLIP, { duckDb: -12 });
      }, start).unref();
    }
  }
  // Staggered starts, as streams of a real bot come and go.
  await new Promise((r) => setTimeout(r, 1000 / Math.max(1, streams)));
}

if (blockMs > 0) {
  setInterval(() => {
    const end = performance.now() + blockMs;
    while (performance.now() < end) {
      // A bot's large JSON parse or image resize.
    }
  }, 1000);
}

const eld = monitorEventLoopDelay({ resolution: 20 });
let cpu0 = process.cpuUsage();
let t0 = performance.now();
let base = { stalls: 0, underruns: 0 };

function totals(): { stalls: number; underruns: number } {
  let stalls = 0;
  let underruns = 0;
  for (const s of senders) {
    const st = s.stats();
    stalls += st.stalls;
    underruns += st.underruns;
  }
  return { stalls, underruns };
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'mark') {
    for (const s of senders) s.resetLateness();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    base = totals();
    eld.reset();
    eld.enable();
    process.stdout.write(`${JSON.stringify({ marked: true })}\n`);
  } else if (cmd === 'report') {
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    eld.disable();
    // A threaded sender's counters arrive with its once-a-second progress report: wait for the next one.
    setTimeout(() => report(cpu, wallMs), 1100);
  } else if (cmd === 'quit') {
    void Promise.all([...players.map((p) => p.destroy()), ...senders.map((s) => s.close())]).then(() => process.exit(0));
  }
});

function report(cpu: NodeJS.CpuUsage, wallMs: number): void {
  {
    const now = totals();
    const all = senders.map((s) => s.stats());
    const p99s = all.map((st) => st.lateness.p99Ms).sort((a, b) => a - b);
    const maxes = all.map((st) => st.lateness.maxMs);
    const maxBps = all.map((st) => st.bitrate.maxBps);
    const delayed = all.reduce((a, st) => a + (st.guard?.delayedPackets ?? 0), 0);
    process.stdout.write(
      `${JSON.stringify({
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssMb: process.memoryUsage().rss / 2 ** 20,
        stalls: now.stalls - base.stalls,
        underruns: now.underruns - base.underruns,
        latenessP99Ms: p99s[p99s.length - 1] ?? 0,
        latenessP99MedianMs: p99s[Math.floor(p99s.length / 2)] ?? 0,
        latenessMaxMs: Math.max(0, ...maxes),
        maxWindowBps: Math.max(0, ...maxBps),
        guardDelayedPackets: delayed,
        eventLoopDelayP99Ms: eld.percentile(99) / 1e6,
        eventLoopDelayMaxMs: eld.max / 1e6,
      })}\n`,
    );
  }
}

/**
 * Speed of the media pipeline, as "x real time on one core" (seconds of audio per second of CPU), from file bytes to
 * Opus frames: MP3 / FLAC / WAV transcode, Ogg/Opus passthrough, Ogg/Opus re-encode; and, when ffmpeg is installed,
 * the same MP3 through `ffmpeg -i FILE -acodec libopus -ab 48k -ac 2 -ar 48000 -f null -` measured in the same run
 * (child CPU time from /proc/self/stat cutime+cstime), printed as a ratio. Also the WASM decoders' load cost.
 *
 * Run: npx tsx bench/media.ts [--seconds 60]
 *
 * Inputs: with ffmpeg, a music-like stereo clip (two tones + pink noise under a tremolo, 44.1 kHz) is generated in a
 * temp dir in each format; without it the 3 s fixtures are used (and per-track setup weighs more).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import b from 'benny';
import { MPEGDecoder } from 'mpg123-decoder';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { OpusDecoder } from 'opus-decoder';
import { openTrack, type TrackOptions } from '../src/media/track.js';

const argSeconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]);
const SECONDS = process.argv.includes('--seconds') && argSeconds > 0 ? argSeconds : 60;

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds used by waited-for children so far (Linux: /proc/self/stat fields 16-17, in clock ticks). */
function childCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (Number(f[13]) + Number(f[14])) / ticks;
}

interface Input {
  name: string;
  path: string;
  seconds: number;
  options?: TrackOptions;
}

const ffmpeg = hasFfmpeg();
const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-bench-'));
const inputs: Input[] = [];
if (ffmpeg) {
  const src =
    `sine=f=220:r=44100:d=${SECONDS}[a];sine=f=331:r=44100:d=${SECONDS}[b];anoisesrc=c=pink:r=44100:a=0.05:d=${SECONDS}:seed=1[n];` +
    `[a][b][n]amix=inputs=3,tremolo=f=0.5:d=0.4,pan=stereo|c0=c0|c1=0.9*c0`;
  const gen = (out: string, ...codec: string[]): string => {
    const p = join(dir, out);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', src, ...codec, p]);
    return p;
  };
  inputs.push(
    { name: 'MP3 192k -> Opus', path: gen('clip.mp3', '-c:a', 'libmp3lame', '-b:a', '192k'), seconds: SECONDS },
    { name: 'FLAC 16/44.1 -> Opus', path: gen('clip.flac', '-c:a', 'flac'), seconds: SECONDS },
    { name: 'WAV 16/44.1 -> Opus', path: gen('clip.wav', '-c:a', 'pcm_s16le'), seconds: SECONDS },
    { name: 'Ogg/Opus 48k passthrough', path: gen('clip48.ogg', '-ar', '48000', '-c:a', 'libopus', '-b:a', '48k', '-vbr', 'off'), seconds: SECONDS, options: { roomBitrate: 96000 } },
    { name: 'Ogg/Opus 128k re-encode', path: gen('clip128.ogg', '-ar', '48000', '-c:a', 'libopus', '-b:a', '128k'), seconds: SECONDS, options: { roomBitrate: 48000 } },
  );
} else {
  const fx = (n: string): string => new URL(`../fixtures/media/${n}`, import.meta.url).pathname;
  inputs.push(
    { name: 'MP3 -> Opus (3 s fixture)', path: fx('sine-stereo-44k-vbr.mp3'), seconds: 3 },
    { name: 'FLAC -> Opus (1.5 s fixture)', path: fx('sine-24bit-96k.flac'), seconds: 1.5 },
    { name: 'WAV -> Opus (1 s fixture)', path: fx('sine-s16-44k.wav'), seconds: 1 },
    { name: 'Ogg/Opus passthrough (3 s fixture)', path: fx('sine-opus-48k.ogg'), seconds: 3, options: { roomBitrate: 96000 } },
    { name: 'Ogg/Opus re-encode (3 s fixture)', path: fx('sine-opus-128k.ogg'), seconds: 3, options: { roomBitrate: 48000 } },
  );
}

async function playAll(input: Input): Promise<string> {
  const track = await openTrack(input.path, input.options);
  let n = 0;
  for await (const _ of track) n++;
  if (n === 0) throw new Error(`${input.name}: no frames`);
  return track.info.mode;
}

/** x real time by CPU time of this process (all threads), best of `runs`. */
async function cpuRealtime(input: Input, runs: number): Promise<{ x: number; mode: string }> {
  let best = Infinity;
  let mode = '';
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    mode = await playAll(input);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return { x: input.seconds / best, mode };
}

function ffmpegRealtime(path: string, seconds: number, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = childCpu();
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-acodec', 'libopus', '-ab', '48k', '-ac', '2', '-ar', '48000', '-f', 'null', '-']);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
    best = Math.min(best, childCpu() - c0);
  }
  return seconds / Math.max(best, 0.01);
}

async function loadCost(): Promise<void> {
  const rows: [string, () => Promise<{ free(): void }>][] = [
    ['mpg123-decoder', async () => { const d = new MPEGDecoder(); await d.ready; return d; }],
    ['@wasm-audio-decoders/flac', async () => { const d = new FLACDecoder(); await d.ready; return d; }],
    ['@wasm-audio-decoders/ogg-vorbis', async () => { const d = new OggVorbisDecoder(); await d.ready; return d; }],
    ['opus-decoder', async () => { const d = new OpusDecoder(); await d.ready; return d; }],
  ];
  console.log('\nWASM decoder load (first instance compiles the module; later ones reuse it), resident memory growth:');
  for (const [name, make] of rows) {
    const rss0 = process.memoryUsage().rss;
    let t = performance.now();
    const first = await make();
    const firstMs = performance.now() - t;
    const rss1 = process.memoryUsage().rss;
    t = performance.now();
    const second = await make();
    const secondMs = performance.now() - t;
    first.free();
    second.free();
    console.log(`  ${name.padEnd(34)} first ${firstMs.toFixed(1).padStart(6)} ms, next ${secondMs.toFixed(1).padStart(5)} ms, +${((rss1 - rss0) / 1048576).toFixed(1)} MiB RSS`);
  }
}

async function main(): Promise<void> {
  await loadCost();
  console.log(`\nThroughput, x real time by CPU time on one core (${inputs[0]!.seconds} s inputs, best of 3):`);
  const results: Record<string, number> = {};
  for (const input of inputs) {
    await playAll(input); // warm up: WASM compile, JIT
    const { x, mode } = await cpuRealtime(input, 3);
    results[input.name] = x;
    console.log(`  ${input.name.padEnd(36)} ${x.toFixed(0).padStart(7)}x  (${mode})`);
  }
  if (ffmpeg) {
    const mp3 = inputs[0]!;
    const fx = ffmpegRealtime(mp3.path, mp3.seconds, 3);
    const ours = results[mp3.name]!;
    console.log(`  ${'ffmpeg MP3 -> libopus 48k (child CPU)'.padEnd(36)} ${fx.toFixed(0).padStart(7)}x`);
    console.log(`  ratio kook-rtp / ffmpeg CPU cost for MP3 -> Opus: ${(fx / ours).toFixed(2)} (below 1 = kook-rtp uses less CPU)`);
  } else {
    console.warn('  ffmpeg not installed: no comparison');
  }

  // benny: wall-clock ops/s of the same jobs (one op = one whole input), for the usual benchmark table.
  await b.suite(
    'media pipeline (one op = one whole input)',
    ...inputs.map((input) => b.add(input.name, async () => void (await playAll(input)), { minSamples: 3, maxTime: 2 })),
    b.cycle(),
    b.complete(),
  );
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Speed of the PCM/Opus core, as "x real time" (seconds of audio processed per second of CPU, one core).
 *
 * Run: npx tsx bench/media-dsp.ts
 */

import b from 'benny';
import { Resampler } from '../src/media/dsp/resampler.js';
import { FRAME_SAMPLES, PcmFramer } from '../src/media/dsp/framer.js';
import { createOpusEncoder } from '../src/media/opus/encoder.js';

/** Seconds of audio each benchmark operation processes. */
const CHUNK_SECONDS = 0.1;

function sine(freq: number, rate: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

function frames(count: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < count; f++) {
    const pcm = new Int16Array(FRAME_SAMPLES * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const t = (f * FRAME_SAMPLES + i) / 48_000;
      const v = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 331 * t) + 0.02 * (Math.random() - 0.5);
      pcm[2 * i] = Math.round(v * 32767);
      pcm[2 * i + 1] = Math.round(v * 0.9 * 32767);
    }
    out.push(pcm);
  }
  return out;
}

const n441 = 44_100 * CHUNK_SECONDS;
const left = sine(440, 44_100, n441);
const right = sine(660, 44_100, n441);
const stereoResampler = new Resampler({ inputRate: 44_100, outputRate: 48_000, channels: 2 });
const n96 = 96_000 * CHUNK_SECONDS;
const l96 = sine(440, 96_000, n96);
const r96 = sine(660, 96_000, n96);
const resampler96 = new Resampler({ inputRate: 96_000, outputRate: 48_000, channels: 2 });
const framer441 = new PcmFramer({ sampleRate: 44_100, channels: 2, volume: 0.8 });
const n48 = 48_000 * CHUNK_SECONDS;
const l48 = sine(440, 48_000, n48);
const r48 = sine(660, 48_000, n48);
const framer48 = new PcmFramer({ sampleRate: 48_000, channels: 2 });
const int48 = new Int16Array(n48 * 2);
for (let i = 0; i < n48; i++) {
  int48[2 * i] = Math.round(l48[i]! * 32767);
  int48[2 * i + 1] = Math.round(r48[i]! * 32767);
}
const framer48i = new PcmFramer({ sampleRate: 48_000, channels: 2 });
const surround = Array.from({ length: 6 }, (_, c) => sine(200 + 50 * c, 48_000, 4800));
const framer51 = new PcmFramer({ sampleRate: 48_000, channels: 6 });
const pcmFrames = frames(50);
const nativeEncoder = createOpusEncoder({ bitrate: 128_000, backend: 'native' });
const scriptEncoder = createOpusEncoder({ bitrate: 128_000, backend: 'opusscript' });
let frameIndex = 0;

function drain(framer: PcmFramer): void {
  while (framer.nextFrame() !== null);
}

/** Frames encoded per operation: 5 frames = 0.1 s. */
const ENCODE_FRAMES = 5;

const summary = await b.suite(
  'media-dsp (each op = 0.1 s of audio)',
  b.add('resample 44.1k->48k stereo', () => {
    stereoResampler.process([left, right], 0, n441);
  }),
  b.add('resample 96k->48k stereo', () => {
    resampler96.process([l96, r96], 0, n96);
  }),
  b.add('framer 44.1k stereo (resample + gain + limiter + int16)', () => {
    framer441.push([left, right]);
    drain(framer441);
  }),
  b.add('framer 48k stereo float, volume 1 (no resampling)', () => {
    framer48.push([l48, r48]);
    drain(framer48);
  }),
  b.add('framer 48k stereo int16, volume 1 (no resampling)', () => {
    framer48i.pushInterleavedInt16(int48);
    drain(framer48i);
  }),
  b.add('framer 48k 5.1 downmix', () => {
    framer51.push(surround);
    drain(framer51);
  }),
  b.add('opus encode native 128k (5 frames)', () => {
    for (let i = 0; i < ENCODE_FRAMES; i++) nativeEncoder.encode(pcmFrames[frameIndex++ % pcmFrames.length]!);
  }),
  b.add('opus encode opusscript 128k (5 frames)', () => {
    for (let i = 0; i < ENCODE_FRAMES; i++) scriptEncoder.encode(pcmFrames[frameIndex++ % pcmFrames.length]!);
  }),
  b.cycle(),
  b.complete(),
);

nativeEncoder.close();
scriptEncoder.close();

console.log('\nx real time (audio seconds per CPU second, one core):');
for (const r of summary.results) {
  console.log(`  ${r.name.padEnd(58)} ${(r.ops * CHUNK_SECONDS).toFixed(0).padStart(6)} x  (±${r.margin.toFixed(1)}%)`);
}

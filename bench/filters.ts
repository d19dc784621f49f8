/**
 * CPU cost of the filter chain, loudness meter and ducking mixer, as "x real time" (seconds of 48 kHz stereo audio
 * processed per second of CPU, one core).
 *
 * Run: npx tsx bench/filters.ts
 */

import { FilterChain, type Filters } from '../src/media/dsp/filters.js';
import { LoudnessMeter } from '../src/media/dsp/loudness.js';
import { DuckingMixer } from '../src/media/dsp/mixer.js';

const RATE = 48_000;
const FRAME = 960;
const SECONDS = 20;

/** Music-like test signal: two tones, a little noise, different on each side. */
function signal(seconds: number): Float32Array {
  const n = seconds * RATE;
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const v = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 331 * t) + 0.02 * (Math.random() - 0.5);
    x[2 * i] = v;
    x[2 * i + 1] = 0.9 * v + 0.05 * Math.sin(2 * Math.PI * 1234 * t);
  }
  return x;
}

const input = signal(SECONDS);

function time(fn: () => void): number {
  fn(); // warm-up
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function chainRun(filters: Filters): () => void {
  return () => {
    const chain = new FilterChain(filters);
    const out = new Float32Array(2 * FRAME);
    for (let o = 0; o < input.length; o += 2 * FRAME) {
      chain.push(input.subarray(o, o + 2 * FRAME));
      while (chain.pull(out));
    }
  };
}

const eq = Array.from({ length: 15 }, (_, band) => ({ band, gain: ((band % 5) - 2) * 0.1 }));
const cases: [string, () => void][] = [
  ['no filters', chainRun({})],
  ['volume', chainRun({ volume: 0.8 })],
  ['equalizer, 15 bands', chainRun({ equalizer: eq })],
  ['karaoke', chainRun({ karaoke: {} })],
  ['tremolo + vibrato + rotation', chainRun({ tremolo: {}, vibrato: {}, rotation: { rotationHz: 0.2 } })],
  ['lowPass + channelMix + distortion', chainRun({ lowPass: { smoothing: 20 }, channelMix: { leftToRight: 0.5, rightToLeft: 0.5 }, distortion: { sinScale: 2 } })],
  ['timescale speed 1.25 (WSOLA)', chainRun({ timescale: { speed: 1.25 } })],
  ['timescale pitch 1.2 (WSOLA + resampler)', chainRun({ timescale: { pitch: 1.2 } })],
  ['timescale rate 1.25 (resampler)', chainRun({ timescale: { rate: 1.25 } })],
  ['nightcore-ish: timescale speed 1.2 pitch 1.2 + 15-band eq', chainRun({ timescale: { speed: 1.2, pitch: 1.2 }, equalizer: eq })],
  ['everything', chainRun({ volume: 0.9, equalizer: eq, karaoke: {}, timescale: { speed: 1.1, pitch: 0.9 }, tremolo: {}, vibrato: {}, rotation: { rotationHz: 0.2 }, distortion: { sinScale: 2 }, channelMix: { leftToRight: 0.2 }, lowPass: { smoothing: 4 } })],
  ['loudness meter', () => {
    const m = new LoudnessMeter();
    m.pushFloat(input);
    void m.integratedLufs;
  }],
  ['ducking mixer, music + 2 overlays', () => {
    const mixer = new DuckingMixer();
    const out = new Float32Array(2 * FRAME);
    for (let o = 0; o < input.length; o += 2 * FRAME) {
      const f = input.subarray(o, o + 2 * FRAME);
      mixer.mix(out, f, [{ samples: f, volume: 0.5 }, { samples: f, volume: 0.3 }]);
    }
  }],
];

console.log(`${SECONDS} s of 48 kHz stereo per case, node ${process.version}`);
for (const [name, fn] of cases) {
  const s = time(fn);
  console.log(`${name.padEnd(58)} ${(SECONDS / s).toFixed(0).padStart(6)} x real time  (${((s / SECONDS) * 1000).toFixed(2)} ms CPU per s)`);
}

import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, PcmFramer } from '../../../src/media/dsp/framer.js';
import { MINUS_3_DB, stereoDownmix } from '../../../src/media/dsp/mix.js';
import { sine, thdPlusNoiseDb } from './analysis.js';

/** All frames currently available, copied (nextFrame reuses its array). */
function drain(framer: PcmFramer): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let f = framer.nextFrame(); f !== null; f = framer.nextFrame()) frames.push(f.slice());
  return frames;
}

function left(frame: Int16Array): number[] {
  return Array.from({ length: FRAME_SAMPLES }, (_, i) => frame[2 * i]!);
}

function right(frame: Int16Array): number[] {
  return Array.from({ length: FRAME_SAMPLES }, (_, i) => frame[2 * i + 1]!);
}

/** One planar channel of `n` samples of the constant `v`. */
const dc = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);

describe('PcmFramer framing', () => {
  it('1000 samples give one frame, then after flush a second one padded with silence', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 2 });
    const src = new Int16Array(2000);
    for (let i = 0; i < 1000; i++) {
      src[2 * i] = (i * 37) % 20000 - 10000; // distinct L and R ramps
      src[2 * i + 1] = -((i * 53) % 20000) + 10000;
    }
    framer.pushInterleavedInt16(src);
    const first = drain(framer);
    expect(first).toHaveLength(1);
    expect(first[0]).toEqual(src.subarray(0, 1920));
    expect(framer.nextFrame()).toBeNull();

    framer.flush();
    const second = drain(framer);
    expect(second).toHaveLength(1);
    const frame = second[0]!;
    // The first 40 samples (80 values) of the last frame are the real signal, the rest is zero padding.
    expect(frame.subarray(0, 80)).toEqual(src.subarray(1920, 2000));
    expect(frame.subarray(80).every((v) => v === 0)).toBe(true);
    expect(framer.outputSamples).toBe(2 * FRAME_SAMPLES);
  });

  it('flush with an exact number of frames adds no padding frame', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 1 });
    framer.push([dc(FRAME_SAMPLES * 3, 0.1)]);
    framer.flush();
    expect(drain(framer)).toHaveLength(3);
  });

  it('44.1 kHz input: chunked and one-shot pushes give identical frames, and the count matches the rate ratio', () => {
    const a = sine(440, 44_100, 44_100, 0.5);
    const b = sine(660, 44_100, 44_100, 0.3);
    const oneShot = new PcmFramer({ sampleRate: 44_100, channels: 2 });
    oneShot.push([a, b]);
    oneShot.flush();
    const expected = drain(oneShot);
    expect(expected).toHaveLength(50); // 1 s of audio = 50 frames of 20 ms

    const chunked = new PcmFramer({ sampleRate: 44_100, channels: 2 });
    const got: Int16Array[] = [];
    for (let off = 0, k = 0; off < a.length; k++) {
      const n = Math.min([1, 441, 4096, 777][k % 4]!, a.length - off);
      chunked.push([a.subarray(off, off + n), b.subarray(off, off + n)]);
      got.push(...drain(chunked));
      off += n;
    }
    chunked.flush();
    got.push(...drain(chunked));
    expect(got).toEqual(expected);
  });

  it('nextFrame returns the same reused array each time', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 1 });
    framer.push([dc(FRAME_SAMPLES * 2, 0.1)]);
    const f1 = framer.nextFrame();
    const f2 = framer.nextFrame();
    expect(f1).not.toBeNull();
    expect(f2).toBe(f1);
  });
});

describe('PcmFramer channel mixing', () => {
  it('mono becomes identical left and right (with resampling)', () => {
    const framer = new PcmFramer({ sampleRate: 22_050, channels: 1 });
    framer.push([sine(300, 22_050, 22_050, 0.6)]);
    const frames = drain(framer);
    expect(frames.length).toBeGreaterThan(40);
    for (const f of frames) expect(left(f)).toEqual(right(f));
    expect(Math.max(...left(frames[10]!))).toBeGreaterThan(0.55 * 32768);
  });

  it('5.1 with only the centre at 1.0 gives L = R = 0.707 * norm', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 6 });
    const n = FRAME_SAMPLES;
    framer.push([dc(n, 0), dc(n, 0), dc(n, 1), dc(n, 0), dc(n, 0), dc(n, 0)]);
    const frame = framer.nextFrame()!;
    const { norm } = stereoDownmix(6);
    expect(norm).toBeCloseTo(1 / (1 + 2 * MINUS_3_DB), 12);
    const expected = Math.round(MINUS_3_DB * norm * 32768);
    expect(new Set(left(frame))).toEqual(new Set([expected]));
    expect(new Set(right(frame))).toEqual(new Set([expected]));
  });

  it.each([
    { channels: 6, only: 3, l: 0, r: 0, name: '5.1 LFE is dropped' },
    { channels: 6, only: 4, l: MINUS_3_DB, r: 0, name: '5.1 Ls goes left only' },
    { channels: 8, only: 5, l: 0, r: MINUS_3_DB, name: '7.1 Rrs goes right only' },
    { channels: 8, only: 0, l: 1, r: 0, name: '7.1 L goes left at full weight' },
    { channels: 3, only: 2, l: MINUS_3_DB, r: MINUS_3_DB, name: '3.0 C goes to both' },
    { channels: 4, only: 3, l: 0, r: MINUS_3_DB, name: 'quad Rs goes right' },
  ])('$name', ({ channels, only, l, r }) => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels });
    const planar = Array.from({ length: channels }, (_, c) => dc(FRAME_SAMPLES, c === only ? 0.5 : 0));
    framer.push(planar);
    const frame = framer.nextFrame()!;
    const { norm } = stereoDownmix(channels);
    expect(frame[0]).toBe(Math.round(0.5 * l * norm * 32768));
    expect(frame[1]).toBe(Math.round(0.5 * r * norm * 32768));
  });

  it.each([3, 4, 5, 6, 7, 8])('%i channels all at full scale cannot clip', (channels) => {
    const { left: gl, right: gr } = stereoDownmix(channels);
    expect(gl.reduce((s, g) => s + Math.abs(g), 0)).toBeLessThanOrEqual(1 + 1e-12);
    expect(gr.reduce((s, g) => s + Math.abs(g), 0)).toBeLessThanOrEqual(1 + 1e-12);
  });
});

describe('PcmFramer volume and limiter', () => {
  it('volume 0.5 halves the amplitude once the one-frame ramp is over', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 1 });
    const x = sine(1000, 48_000, FRAME_SAMPLES * 4, 0.5);
    framer.push([x.subarray(0, FRAME_SAMPLES)]);
    const before = drain(framer);
    framer.volume = 0.5;
    expect(framer.volume).toBe(0.5);
    framer.push([x.subarray(FRAME_SAMPLES)]);
    const after = drain(framer);
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(3);
    for (let f = 1; f < 3; f++) {
      const l = left(after[f]!);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const src = x[(f + 1) * FRAME_SAMPLES + i]!;
        expect(Math.abs(l[i]! - src * 0.5 * 32768)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('the gain ramp is monotonic and spans exactly one frame (no click)', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 2 });
    framer.push([dc(FRAME_SAMPLES, 0.5), dc(FRAME_SAMPLES, 0.5)]);
    drain(framer);
    framer.volume = 0.2;
    framer.push([dc(FRAME_SAMPLES * 2, 0.5), dc(FRAME_SAMPLES * 2, 0.5)]);
    const [ramp, settled] = drain(framer);
    const l = left(ramp!);
    for (let i = 1; i < l.length; i++) {
      expect(l[i]!).toBeLessThanOrEqual(l[i - 1]!);
      // One even step per sample: 0.5 * (1 - 0.2) * 32768 / 960 ~ 13.7 LSB, never a jump.
      expect(l[i - 1]! - l[i]!).toBeLessThanOrEqual(14);
    }
    expect(l[0]!).toBeGreaterThan(0.49 * 32768);
    expect(l[FRAME_SAMPLES - 1]).toBe(Math.round(0.1 * 32768));
    expect(new Set(left(settled!))).toEqual(new Set([Math.round(0.1 * 32768)]));
  });

  it('+6 dB on a full-scale sine never wraps or hard-clips int16', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 1, volume: 2 });
    const x = sine(997, 48_000, 48_000, 1);
    framer.push([x]);
    const out = drain(framer).flatMap(left);
    expect(out.length).toBe(48_000);
    const maxStep = 2 * Math.sin((Math.PI * 997) / 48_000) * 2 * 32768 + 2;
    let flatRuns = 0;
    for (let i = 0; i < out.length; i++) {
      // A wrap would flip the sign of a large sample.
      if (Math.abs(x[i]!) > 0.1) expect(Math.sign(out[i]!)).toBe(Math.sign(x[i]!));
      if (i > 0 && out[i] === out[i - 1] && Math.abs(out[i]!) > 30000) flatRuns++;
      // No step steeper than the amplified sine itself (a wrap would jump by ~65536).
      if (i > 0) expect(Math.abs(out[i]! - out[i - 1]!)).toBeLessThan(maxStep);
    }
    // Hard clipping would leave flat tops on every peak (~2000 per second): the limiter leaves almost none.
    expect(flatRuns).toBeLessThan(50);
    // And the settled output is still a clean sine (hard clipping at +6 dB measures about -15 dB THD+N).
    expect(thdPlusNoiseDb(out.slice(4800, 4800 + 16_384), 997, 48_000)).toBeLessThan(-60);
    // After the limiter settles the level sits just below full scale.
    const tail = out.slice(24_000);
    expect(Math.max(...tail)).toBeGreaterThan(30_000);
    expect(Math.max(...tail)).toBeLessThanOrEqual(32_767);
  });

  it('48 kHz Int16 and float pushes give identical frames, through ramps and limiter action', () => {
    const ints = new PcmFramer({ sampleRate: 48_000, channels: 2, volume: 1 });
    const floats = new PcmFramer({ sampleRate: 48_000, channels: 2, volume: 1 });
    const n = FRAME_SAMPLES * 3;
    for (const [round, volume] of [1, 1.8, 0.4].entries()) {
      const src = new Int16Array(n * 2);
      for (let i = 0; i < n; i++) {
        src[2 * i] = Math.round(Math.sin(i * 0.05 + round) * 30_000);
        src[2 * i + 1] = Math.round(Math.cos(i * 0.031) * 20_000);
      }
      src[2 * 100] = -32768; // full scale trips the limiter even at volume 1
      const l = Float32Array.from({ length: n }, (_, i) => src[2 * i]! / 32768);
      const r = Float32Array.from({ length: n }, (_, i) => src[2 * i + 1]! / 32768);
      ints.pushInterleavedInt16(src);
      floats.push([l, r]);
      expect(drain(ints)).toEqual(drain(floats));
      ints.volume = volume;
      floats.volume = volume;
    }
  });

  it('an in-range signal passes bit-exact (the limiter does nothing)', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 2 });
    const src = new Int16Array(FRAME_SAMPLES * 2);
    for (let i = 0; i < src.length; i++) src[i] = ((i * 7919) % 65535) - 32767;
    framer.pushInterleavedInt16(src);
    expect(framer.nextFrame()).toEqual(src);
  });
});

describe('PcmFramer errors', () => {
  it.each([
    { name: 'zero channels', opts: { sampleRate: 48_000, channels: 0 }, code: 'INVALID_ARGUMENT' },
    { name: 'nine channels', opts: { sampleRate: 48_000, channels: 9 }, code: 'UNSUPPORTED_FORMAT' },
    { name: 'rate 0', opts: { sampleRate: 0, channels: 2 }, code: 'INVALID_ARGUMENT' },
    { name: 'negative volume', opts: { sampleRate: 48_000, channels: 2, volume: -1 }, code: 'INVALID_ARGUMENT' },
    { name: 'NaN volume', opts: { sampleRate: 48_000, channels: 2, volume: Number.NaN }, code: 'INVALID_ARGUMENT' },
  ])('$name -> $code', ({ opts, code }) => {
    expect(() => new PcmFramer(opts)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects bad pushes and volumes with INVALID_ARGUMENT', () => {
    const framer = new PcmFramer({ sampleRate: 48_000, channels: 2 });
    expect(() => framer.pushInterleavedInt16(new Int16Array(3))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => framer.push([new Float32Array(4)])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => framer.push([new Float32Array(4), new Float32Array(2)])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => {
      framer.volume = Number.POSITIVE_INFINITY;
    }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

import { describe, expect, it } from 'vitest';
import { DuckingMixer, crossfadeInto, equalPowerGains } from '../../../src/media/dsp/mixer.js';
import { goertzel } from '../helpers.js';

const N = 960;

/** Frame `f` of a stereo tone (same on both sides), `amp` peak, phase continuous across frames. */
function toneFrame(freq: number, amp: number, f: number): Float32Array {
  const out = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) out[2 * i] = out[2 * i + 1] = amp * Math.sin((2 * Math.PI * freq * (f * N + i)) / 48_000);
  return out;
}

/** Left channel of frames [from, to) of a recording. */
function leftOf(frames: readonly (Float32Array | Int16Array)[], from: number, to: number, scale = 1): Float32Array {
  const out = new Float32Array((to - from) * N);
  for (let f = from; f < to; f++) for (let i = 0; i < N; i++) out[(f - from) * N + i] = frames[f]![2 * i]! * scale;
  return out;
}

/** Peak amplitude of a tone from Goertzel power (integer number of cycles in the window). */
const toneDb = (x: Float32Array, freq: number): number => 20 * Math.log10(2 * Math.sqrt(goertzel(x, freq)));

describe('DuckingMixer', () => {
  it('ducks the music by duckDb during an overlay, keeps the clip, restores the music afterwards', () => {
    const mixer = new DuckingMixer({ duckDb: -12, fadeMs: 150 });
    const rec: Float32Array[] = [];
    for (let f = 0; f < 220; f++) {
      const overlays = f >= 50 && f < 150 ? [{ samples: toneFrame(1000, 0.5, f), volume: 1 }] : [];
      const out = new Float32Array(2 * N);
      mixer.mix(out, toneFrame(440, 0.5, f), overlays);
      rec.push(out);
    }
    const before = toneDb(leftOf(rec, 10, 50), 440);
    const during = toneDb(leftOf(rec, 100, 140), 440);
    const clip = toneDb(leftOf(rec, 100, 140), 1000);
    const after = toneDb(leftOf(rec, 170, 210), 440);
    console.log(`music ${before.toFixed(2)} dB, ducked ${(during - before).toFixed(2)} dB, clip ${clip.toFixed(2)} dB, after ${(after - before).toFixed(2)} dB`);
    expect(Math.abs(during - before - -12)).toBeLessThan(0.5);
    expect(Math.abs(clip - 20 * Math.log10(0.5))).toBeLessThan(0.5);
    expect(Math.abs(after - before)).toBeLessThan(0.5);
  });

  it('ramps over fadeMs: no step larger than one sample of the ramp', () => {
    const mixer = new DuckingMixer({ duckDb: -12, fadeMs: 150 });
    const dc = new Float32Array(2 * N).fill(0.5);
    const overlay = [{ samples: new Float32Array(2 * N) }];
    const gains: number[] = [];
    const out = new Float32Array(2 * N);
    for (let f = 0; f < 10; f++) {
      mixer.mix(out, dc, overlay);
      for (let i = 0; i < N; i++) gains.push(out[2 * i]! / 0.5);
    }
    // 150 ms = 7200 samples to reach -12 dB, monotonic, largest step 12 dB / 7200 samples.
    expect(20 * Math.log10(gains[7199]!)).toBeCloseTo(-12, 2);
    expect(20 * Math.log10(gains[3599]!)).toBeCloseTo(-6, 1);
    let worst = 0;
    for (let i = 1; i < gains.length; i++) worst = Math.max(worst, Math.abs(20 * Math.log10(gains[i]! / gains[i - 1]!)));
    expect(worst).toBeLessThan((12 / 7200) * 1.01);
  });

  it('never clips: two full-scale signals without ducking stay within int16, limited smoothly', () => {
    const mixer = new DuckingMixer({ duckDb: 0, fadeMs: 0 });
    const out = new Int16Array(2 * N);
    let peak = 0;
    for (let f = 0; f < 50; f++) {
      mixer.mixInt16(out, toneFrame(440, 0.95, f), [{ samples: toneFrame(440, 0.95, f) }]);
      for (const v of out) peak = Math.max(peak, Math.abs(v));
    }
    expect(peak).toBeLessThanOrEqual(32767);
    expect(peak).toBeGreaterThan(32000);
    expect(mixer.limiterGain).toBeLessThan(0.6);
  });

  it('rejects bad options and mismatched frames with INVALID_ARGUMENT', () => {
    expect(() => new DuckingMixer({ duckDb: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new DuckingMixer({ fadeMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const m = new DuckingMixer();
    expect(() => m.mix(new Float32Array(1920), new Float32Array(100), [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('crossfade', () => {
  it('equalPowerGains keeps the power sum at 1', () => {
    for (let t = 0; t <= 1; t += 0.05) {
      const [a, b] = equalPowerGains(t);
      expect(a! * a! + b! * b!).toBeCloseTo(1, 12);
    }
    expect(equalPowerGains(-1)).toEqual([1, 0]);
  });

  it.each([
    ['the same tone in phase', 440, 440],
    ['two uncorrelated tones', 440, 620],
  ])('a 1 s crossfade of %s has no dip deeper than 3 dB', (_name, fa, fb) => {
    const frames = 50;
    let worst = 0;
    for (let f = 0; f < frames; f++) {
      const out = new Float32Array(2 * N);
      crossfadeInto(out, toneFrame(fa, 0.5, f), toneFrame(fb, 0.5, f), f / frames, (f + 1) / frames);
      // RMS per 20 ms against the steady tone's 0.5/√2.
      let s = 0;
      for (let i = 0; i < N; i++) s += out[2 * i]! * out[2 * i]!;
      worst = Math.min(worst, 20 * Math.log10(Math.sqrt(s / N) / (0.5 / Math.SQRT2)));
    }
    console.log(`crossfade ${fa}/${fb} Hz: deepest dip ${worst.toFixed(2)} dB`);
    expect(worst).toBeGreaterThan(-3);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Resampler } from '../../../src/media/dsp/resampler.js';
import { isKookRtpError } from '../../../src/errors.js';
import { sine, spectrum, thdPlusNoiseDb, worstSpurDb } from './analysis.js';

/** Runs a whole mono signal through a fresh resampler in chunks of the given sizes (cycled), then flushes. */
function resampleMono(input: Float32Array, inputRate: number, chunks: readonly number[] = [input.length]): Float32Array {
  const rs = new Resampler({ inputRate, outputRate: 48_000, channels: 1 });
  const parts: number[] = [];
  let off = 0;
  let k = 0;
  while (off < input.length) {
    const n = Math.min(chunks[k++ % chunks.length] as number, input.length - off);
    const got = rs.process([input], off, n);
    for (let i = 0; i < got; i++) parts.push(rs.output[0]![i]!);
    off += n;
  }
  const got = rs.flush();
  for (let i = 0; i < got; i++) parts.push(rs.output[0]![i]!);
  return Float32Array.from(parts);
}

describe('Resampler quality', () => {
  it.each([
    { inputRate: 44_100, freq: 1000 },
    { inputRate: 22_050, freq: 1000 },
    { inputRate: 96_000, freq: 1000 },
    { inputRate: 8_000, freq: 1000 },
    { inputRate: 44_056, freq: 1000 }, // L = 6000: the interpolated-phase path
  ])('$inputRate Hz -> 48 kHz: a $freq Hz sine has THD+N < -60 dB and no image above -70 dB', ({ inputRate, freq }) => {
    const input = sine(freq, inputRate, inputRate, 0.5); // 1 s
    const out = resampleMono(input, inputRate, [997]);
    // Steady state only: skip the filter's edges.
    const steady = out.subarray(4800, 4800 + 32_768);
    expect(thdPlusNoiseDb(steady, freq, 48_000)).toBeLessThan(-60);
    const spur = worstSpurDb(steady, freq, 48_000, 32_768);
    expect(spur.db, `worst spur at ${spur.atHz.toFixed(0)} Hz`).toBeLessThan(-70);
  });

  it('44.1 kHz -> 48 kHz: the images of 1 kHz (2.9 and 4.9 kHz after folding) are far below -70 dB', () => {
    const input = sine(1000, 44_100, 44_100, 0.5);
    const steady = resampleMono(input, 44_100).subarray(4800, 4800 + 32_768);
    // THD+N with the fundamental removed is the sum of everything, images included: much stricter than -70.
    expect(thdPlusNoiseDb(steady, 1000, 48_000)).toBeLessThan(-85);
  });

  it('96 kHz -> 48 kHz: a 30 kHz tone (would alias to 18 kHz) is removed', () => {
    const input = sine(30_000, 96_000, 96_000, 0.5);
    const out = resampleMono(input, 96_000).subarray(4800, 4800 + 32_768);
    let peak = 0;
    for (const v of out) peak = Math.max(peak, Math.abs(v));
    expect(20 * Math.log10(peak / 0.5)).toBeLessThan(-70);
  });

  it('keeps the pass band flat: a 15 kHz tone at 44.1 kHz keeps its amplitude within 0.1 dB', () => {
    const input = sine(15_000, 44_100, 44_100, 0.5);
    const steady = resampleMono(input, 44_100).subarray(4800, 4800 + 32_768);
    let peak = 0;
    for (const v of steady) peak = Math.max(peak, Math.abs(v));
    expect(Math.abs(20 * Math.log10(peak / 0.5))).toBeLessThan(0.1);
  });

  it('keeps 18.5 kHz (near the pass band edge) within 0.1 dB at 44.1 kHz', () => {
    const input = sine(18_500, 44_100, 44_100, 0.5);
    const steady = resampleMono(input, 44_100).subarray(4800, 4800 + 32_768);
    let peak = 0;
    for (const v of steady) peak = Math.max(peak, Math.abs(v));
    expect(Math.abs(20 * Math.log10(peak / 0.5))).toBeLessThan(0.1);
  });

  it.each([
    { inputRate: 44_100, freq: 21_000 }, // image at 23.1 kHz
    { inputRate: 96_000, freq: 26_000 }, // alias at 22 kHz
  ])('$inputRate Hz: a $freq Hz tone in the transition band folds only above 20 kHz', ({ inputRate, freq }) => {
    const input = sine(freq, inputRate, inputRate, 0.5);
    const steady = resampleMono(input, inputRate).subarray(4800, 4800 + 32_768);
    const mag = spectrum(steady, 32_768);
    const hzPerBin = 48_000 / 32_768;
    // Reference: a full-scale-relative 0.5 sine through the same window, measured from a clean 1 kHz tone.
    const ref = spectrum(sine(1000, 48_000, 32_768, 0.5), 32_768).reduce((m, v) => Math.max(m, v), 0);
    let worst = 0;
    for (let i = Math.ceil(20 / hzPerBin); i * hzPerBin < 20_000; i++) worst = Math.max(worst, mag[i]!);
    expect(20 * Math.log10(worst / ref)).toBeLessThan(-70);
  });
});

describe('Resampler streaming', () => {
  it.each([44_100, 22_050, 11_025, 8_000, 16_000, 24_000, 32_000, 88_200, 96_000, 192_000, 44_056])(
    '%i Hz: output length is ceil(n * 48000 / rate) and the signal is not shifted',
    (rate) => {
      const n = 12_345;
      const out = resampleMono(sine(440, rate, n, 0.5), rate, [1000]);
      expect(Math.abs(out.length - (n * 48_000) / rate)).toBeLessThanOrEqual(1);
      // Delay is compensated: a 440 Hz sine (phase 0 at t = 0) still matches sin() in the middle of the output.
      const mid = Math.floor(out.length / 2);
      for (let i = mid; i < mid + 50; i++) {
        expect(out[i]!).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * 440 * i) / 48_000), 3);
      }
    },
  );

  it('chunked and one-shot outputs are identical, whatever the chunk sizes', () => {
    const input = sine(1234, 44_100, 6000, 0.7);
    const oneShot = resampleMono(input, 44_100);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (chunks) => {
        const chunked = resampleMono(input, 44_100, chunks);
        expect(chunked).toEqual(oneShot);
      }),
      { numRuns: 40 },
    );
  });

  it('chunked == one-shot when decimating 4:1 with chunks smaller than the step (192 kHz)', () => {
    const input = sine(1000, 192_000, 20_000, 0.5);
    expect(resampleMono(input, 192_000, [1, 2, 3, 5])).toEqual(resampleMono(input, 192_000));
  });

  it.each([44_100, 8_000, 96_000, 44_056])('%i Hz: a DC input stays DC', (rate) => {
    const input = new Float32Array(rate / 4).fill(0.25);
    const out = resampleMono(input, rate, [333]);
    // Away from the start/end transitions (half a filter each) every sample is the constant: each phase is
    // normalised to unity DC gain.
    const taps = new Resampler({ inputRate: rate, outputRate: 48_000, channels: 1 }).taps;
    const margin = Math.ceil(((taps / 2 + 1) * 48_000) / rate);
    expect(out.length - 2 * margin).toBeGreaterThan(1000);
    for (let i = margin; i < out.length - margin; i++) expect(Math.abs(out[i]! - 0.25)).toBeLessThan(1e-6);
  });

  it('stereo channels are processed independently and identically', () => {
    const rs = new Resampler({ inputRate: 44_100, outputRate: 48_000, channels: 2 });
    const a = sine(500, 44_100, 4410, 0.5);
    const b = a.map((v) => -v);
    const n = rs.process([a, b], 0, a.length);
    expect(n).toBeGreaterThan(4000);
    for (let i = 0; i < n; i++) expect(rs.output[1]![i]).toBe(-rs.output[0]![i]!);
  });

  it('passes samples through unchanged at equal rates', () => {
    const rs = new Resampler({ inputRate: 48_000, outputRate: 48_000, channels: 1 });
    const a = sine(500, 48_000, 1000, 0.5);
    expect(rs.process([a], 0, 1000)).toBe(1000);
    expect(rs.output[0]!.subarray(0, 1000)).toEqual(a);
    expect(rs.flush()).toBe(0);
  });

  it.each([
    { name: 'zero input rate', opts: { inputRate: 0, outputRate: 48_000, channels: 1 } },
    { name: 'fractional rate', opts: { inputRate: 44_100.5, outputRate: 48_000, channels: 1 } },
    { name: 'no channels', opts: { inputRate: 44_100, outputRate: 48_000, channels: 0 } },
  ])('rejects $name with INVALID_ARGUMENT', ({ opts }) => {
    expect(() => new Resampler(opts)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('rejects too few channel arrays or samples with INVALID_ARGUMENT', () => {
    const rs = new Resampler({ inputRate: 44_100, outputRate: 48_000, channels: 2 });
    const a = new Float32Array(10);
    for (const call of [() => rs.process([a], 0, 10), () => rs.process([a, a], 5, 10)]) {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(isKookRtpError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});

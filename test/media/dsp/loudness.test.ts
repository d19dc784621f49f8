import { describe, expect, it } from 'vitest';
import {
  LoudnessMeter,
  gainForTarget,
  gainFromTags,
  parseR128GainDb,
  parseReplayGainDb,
} from '../../../src/media/dsp/loudness.js';
import { isKookRtpError } from '../../../src/errors.js';

/** Stereo interleaved sine, same on both channels, `dbfs` peak level per channel, continuing phase from `start`. */
function stereoSine(freq: number, dbfs: number, seconds: number, start = 0): Float32Array {
  const n = Math.round(seconds * 48_000);
  const a = 10 ** (dbfs / 20);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) out[2 * i] = out[2 * i + 1] = a * Math.sin((2 * Math.PI * freq * (start + i)) / 48_000);
  return out;
}

function measure(parts: ReadonlyArray<[dbfs: number, seconds: number]>): number {
  const m = new LoudnessMeter();
  let t = 0;
  for (const [db, s] of parts) {
    const x = db === -Infinity ? new Float32Array(2 * Math.round(s * 48_000)) : stereoSine(1000, db, s, t);
    // Push in odd-sized chunks so block boundaries fall inside pushes.
    for (let o = 0; o < x.length / 2; o += 777) m.pushFloat(x.subarray(2 * o), Math.min(777, x.length / 2 - o));
    t += Math.round(s * 48_000);
  }
  return m.integratedLufs;
}

describe('LoudnessMeter (EBU Tech 3341 cases)', () => {
  it('case 1: 1 kHz stereo sine at -23 dBFS reads -23.0 LUFS ±0.1', () => {
    expect(measure([[-23, 20]])).toBeCloseTo(-23, 1);
  });
  it('case 2: 1 kHz stereo sine at -33 dBFS reads -33.0 LUFS ±0.1', () => {
    expect(Math.abs(measure([[-33, 20]]) + 33)).toBeLessThan(0.1);
  });
  it('case 3: -36 / -23 / -36 dBFS (10 s, 60 s, 10 s) reads -23.0 ±0.1 (relative gate)', () => {
    expect(Math.abs(measure([[-36, 10], [-23, 60], [-36, 10]]) + 23)).toBeLessThan(0.1);
  });
  it('case 4: -72 / -36 / -23 / -36 / -72 dBFS reads -23.0 ±0.1 (absolute gate)', () => {
    expect(Math.abs(measure([[-72, 10], [-36, 10], [-23, 60], [-36, 10], [-72, 10]]) + 23)).toBeLessThan(0.1);
  });
  it('case 5: -26 / -20 / -26 dBFS (20 s, 20.1 s, 20 s) reads -23.0 ±0.1', () => {
    expect(Math.abs(measure([[-26, 20], [-20, 20.1], [-26, 20]]) + 23)).toBeLessThan(0.1);
  });
  it('silence and less than 400 ms read -Infinity', () => {
    expect(measure([[-Infinity, 2]])).toBe(-Infinity);
    expect(measure([[-20, 0.3]])).toBe(-Infinity);
  });
  it('Int16 input measures like float, and the sample peak is tracked', () => {
    const f = stereoSine(1000, -20, 5);
    const i16 = Int16Array.from(f, (v) => Math.round(v * 32768));
    const m = new LoudnessMeter();
    m.pushInt16(i16);
    expect(Math.abs(m.integratedLufs + 20)).toBeLessThan(0.1);
    expect(20 * Math.log10(m.samplePeak)).toBeCloseTo(-20, 2);
  });
});

describe('true peak', () => {
  it.each([
    [45, 0],
    [0, 0],
    [30, 0],
  ])('a 12 kHz (fs/4) sine at phase %i° and 0 dBFS has a true peak of 0 dBFS ±0.2 whatever its sample peak', (deg) => {
    const n = 48_000;
    const x = new Float32Array(2 * n);
    const ph = (deg * Math.PI) / 180;
    for (let i = 0; i < n; i++) x[2 * i] = x[2 * i + 1] = Math.sin((Math.PI / 2) * i + ph);
    const m = new LoudnessMeter();
    m.pushFloat(x);
    const tp = 20 * Math.log10(m.truePeak);
    const sp = 20 * Math.log10(m.samplePeak);
    console.log(`fs/4 at ${deg}°: sample peak ${sp.toFixed(2)} dBFS, true peak ${tp.toFixed(2)} dBFS`);
    expect(Math.abs(tp)).toBeLessThan(0.2);
    if (deg === 45) expect(sp).toBeCloseTo(-3.01, 1);
  });
  it('a 1 kHz sine at -6 dBFS has a true peak of -6 dBFS ±0.05', () => {
    const m = new LoudnessMeter();
    const n = 48_000;
    const x = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) x[2 * i] = x[2 * i + 1] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48_000 + 0.3);
    m.pushFloat(x);
    expect(Math.abs(20 * Math.log10(m.truePeak) + 6.02)).toBeLessThan(0.05);
  });
});

describe('gainForTarget', () => {
  it('moves loudness to the target', () => {
    expect(20 * Math.log10(gainForTarget(-23))).toBeCloseTo(7, 9);
    expect(20 * Math.log10(gainForTarget(-10, -16))).toBeCloseTo(-6, 9);
  });
  it('never raises the peak past the ceiling', () => {
    // -23 LUFS, peak -3 dBFS: +7 dB would reach +4 dBFS; the ceiling -1 allows +2 dB only.
    const g = gainForTarget(-23, -16, -1, 10 ** (-3 / 20));
    expect(20 * Math.log10(g)).toBeCloseTo(2, 9);
    expect(g * 10 ** (-3 / 20)).toBeLessThanOrEqual(10 ** (-1 / 20) + 1e-12);
  });
  it('silence gets unity gain; bad arguments throw INVALID_ARGUMENT', () => {
    expect(gainForTarget(-Infinity)).toBe(1);
    for (const f of [() => gainForTarget(NaN), () => gainForTarget(-20, NaN), () => gainForTarget(-20, -16, -1, -1)]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isKookRtpError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
  it('brings a metered track to the target within 0.1 LU', () => {
    const x = stereoSine(1000, -30, 5);
    const m = new LoudnessMeter();
    m.pushFloat(x);
    const g = gainForTarget(m.integratedLufs, -16, -1, m.samplePeak);
    const y = x.map((v) => v * g);
    const m2 = new LoudnessMeter();
    m2.pushFloat(y);
    expect(Math.abs(m2.integratedLufs + 16)).toBeLessThan(0.1);
  });
});

describe('tags', () => {
  it.each([
    ['-6.20 dB', -6.2],
    ['+1.5 dB', 1.5],
    ['-6.2', -6.2],
    ['0.00 DB', 0],
  ])('ReplayGain %j is %d dB', (text, db) => expect(parseReplayGainDb(text)).toBeCloseTo(db, 9));

  it.each([
    ['-1280', -5],
    ['256', 1],
    ['0', 0],
  ])('R128 %j is %d dB', (text, db) => expect(parseR128GainDb(text)).toBeCloseTo(db, 9));

  it.each(['loud', '', '-6.2 dBx'])('ReplayGain %j throws INVALID_ARGUMENT', (text) => {
    expect(() => parseReplayGainDb(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  it.each(['1.5', '40000', 'x'])('R128 %j throws INVALID_ARGUMENT', (text) => {
    expect(() => parseR128GainDb(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('R128 wins over ReplayGain and is moved from -23 LUFS to the target', () => {
    const g = gainFromTags({ r128_track_gain: '-1280', REPLAYGAIN_TRACK_GAIN: '-6.20 dB' }, -16);
    expect(g?.source).toBe('R128_TRACK_GAIN');
    expect(g?.gainDb).toBeCloseTo(-5 + 7, 9);
  });
  it('ReplayGain is moved from -18 LUFS to the target and capped by its peak', () => {
    expect(gainFromTags({ REPLAYGAIN_TRACK_GAIN: '-6.20 dB' }, -16)?.gainDb).toBeCloseTo(-4.2, 9);
    // +3 dB wanted, peak 0.9 (-0.915 dBFS) allows only -1 + 0.915 = -0.085 dB.
    const capped = gainFromTags({ REPLAYGAIN_TRACK_GAIN: '+1.00 dB', REPLAYGAIN_TRACK_PEAK: '0.9' }, -16);
    expect(capped?.gainDb).toBeCloseTo(-1 - 20 * Math.log10(0.9), 9);
  });
  it('no usable tag gives null', () => {
    expect(gainFromTags({ TITLE: 'x', REPLAYGAIN_TRACK_GAIN: 'loud' })).toBeNull();
  });
});

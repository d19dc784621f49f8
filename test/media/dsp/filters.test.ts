import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKookRtpError } from '../../../src/errors.js';
import { EQUALIZER_BANDS_HZ, FilterChain, validateFilters, type Filters } from '../../../src/media/dsp/filters.js';
import { goertzel } from '../helpers.js';

const RATE = 48_000;
const FRAME = 960;

/** Stereo interleaved tone; `side` = R is −L (no centre), else L = R. */
function tone(freq: number, amp: number, seconds: number, side = false): Float32Array {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = amp * Math.sin((2 * Math.PI * freq * i) / RATE);
    out[2 * i] = v;
    out[2 * i + 1] = side ? -v : v;
  }
  return out;
}

/** Pushes `x` frame by frame, pulls all it can; returns the concatenated output (interleaved). */
function run(chain: FilterChain, x: Float32Array, flush = false): Float32Array {
  const frames: Float32Array[] = [];
  const f = new Float32Array(2 * FRAME);
  for (let o = 0; o < x.length; o += 2 * FRAME) {
    chain.push(x.subarray(o, Math.min(x.length, o + 2 * FRAME)));
    while (chain.pull(f)) frames.push(f.slice());
  }
  if (flush) {
    chain.flush();
    while (chain.pull(f)) frames.push(f.slice());
  }
  const out = new Float32Array(frames.length * 2 * FRAME);
  frames.forEach((fr, i) => out.set(fr, i * 2 * FRAME));
  return out;
}

const channel = (x: Float32Array, c: 0 | 1, from = 0, length = x.length / 2 - from): Float32Array => {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = x[2 * (from + i) + c]!;
  return out;
};

/** Level in dB (re. amplitude 1) of an integer-Hz tone in a 1 s window (integer cycles: no leakage). */
const levelDb = (x: Float32Array, freq: number): number => 20 * Math.log10(2 * Math.sqrt(goertzel(x, freq)));

/** Left channel of the last second of the output. */
const lastSecond = (y: Float32Array): Float32Array => channel(y, 0, y.length / 2 - RATE, RATE);

function filtered(filters: Filters, x: Float32Array): Float32Array {
  return run(new FilterChain(filters), x);
}

function besselJ(n: number, x: number): number {
  let sum = 0;
  let fact = 1; // k!
  for (let k = 0; k < 30; k++) {
    if (k > 0) fact *= k;
    let factNk = 1;
    for (let j = 2; j <= n + k; j++) factNk *= j;
    sum += ((-1) ** k / (fact * factNk)) * (x / 2) ** (2 * k + n);
  }
  return sum;
}

const report: string[] = [];
const note = (s: string): void => {
  report.push(s);
  console.log(s);
};

describe('equalizer', () => {
  it('has Lavalink\'s 15 band centres', () => {
    expect(EQUALIZER_BANDS_HZ).toEqual([25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000, 16000]);
  });
  it.each([
    [0, 0.25, 6.02],
    [8, 0.25, 6.02],
    [13, 0.25, 6.02],
    [5, 1.0, 13.98],
    [8, -0.2, -13.98],
    [11, 0.5, 9.54],
  ])('band %i at gain %d changes its centre by %d dB ±1', (band, gain, db) => {
    const f = EQUALIZER_BANDS_HZ[band]!;
    const x = tone(f, 0.1, 2);
    const y = filtered({ equalizer: [{ band, gain }] }, x);
    const change = levelDb(lastSecond(y), f) - levelDb(channel(x, 0, RATE, RATE), f);
    note(`eq band ${band} (${f} Hz) gain ${gain}: ${change.toFixed(2)} dB (want ${db})`);
    expect(Math.abs(change - db)).toBeLessThan(1);
  });
  it('a band leaves a tone three bands away within 1 dB', () => {
    const x = tone(4000, 0.1, 2);
    const y = filtered({ equalizer: [{ band: 8, gain: 0.5 }] }, x);
    expect(Math.abs(levelDb(lastSecond(y), 4000) - levelDb(channel(x, 0, RATE, RATE), 4000))).toBeLessThan(1);
  });
});

describe('lowPass', () => {
  it('smoothing 20 has its -3 dB corner where y += (x - y)/20 puts it, passes 100 Hz, cuts 10 kHz', () => {
    const a = 1 / 20;
    const cosw = (1 + (1 - a) ** 2 - 2 * a * a) / (2 * (1 - a));
    const corner = Math.round((Math.acos(cosw) * RATE) / (2 * Math.PI));
    const at = (f: number): number => {
      const x = tone(f, 0.1, 2);
      return levelDb(lastSecond(filtered({ lowPass: { smoothing: 20 } }, x)), f) - 20 * Math.log10(0.1);
    };
    const c = at(corner);
    note(`lowPass 20: corner ${corner} Hz at ${c.toFixed(2)} dB; 100 Hz ${at(100).toFixed(2)} dB; 10 kHz ${at(10000).toFixed(2)} dB`);
    expect(Math.abs(c + 3.01)).toBeLessThan(0.5);
    expect(at(100)).toBeGreaterThan(-0.5);
    expect(at(10000)).toBeLessThan(-20);
  });
});

describe('timescale', () => {
  const maxStep = (y: Float32Array, from: number): number => {
    let m = 0;
    for (let i = from + 1; i < y.length / 2; i++) m = Math.max(m, Math.abs(y[2 * i]! - y[2 * i - 2]!));
    return m;
  };
  it('speed 1.5 gives 2/3 of the samples ±2%, same pitch, no jumps', () => {
    const x = tone(440, 0.5, 10);
    const y = filtered({ timescale: { speed: 1.5 } }, x);
    const ratio = y.length / x.length;
    const l = lastSecond(y);
    const p440 = levelDb(l, 440);
    note(`speed 1.5: ${ratio.toFixed(4)} of the samples; 440 Hz at ${p440.toFixed(2)} dB, 293 Hz ${levelDb(l, 293).toFixed(1)}, 660 Hz ${levelDb(l, 660).toFixed(1)}`);
    expect(Math.abs(ratio - 2 / 3) / (2 / 3)).toBeLessThan(0.02);
    expect(Math.abs(p440 - 20 * Math.log10(0.5))).toBeLessThan(1);
    expect(levelDb(l, 293)).toBeLessThan(p440 - 30);
    // No discontinuity: no step larger than the tone's own steepest (2π f A / fs), plus 10 %.
    expect(maxStep(y, 0)).toBeLessThan(((2 * Math.PI * 440 * 0.5) / RATE) * 1.1);
  });
  it('speed 0.75 gives 4/3 of the samples ±2%', () => {
    const x = tone(440, 0.5, 6);
    const y = filtered({ timescale: { speed: 0.75 } }, x);
    expect(Math.abs(y.length / x.length - 4 / 3) / (4 / 3)).toBeLessThan(0.02);
    expect(maxStep(y, 0)).toBeLessThan(((2 * Math.PI * 440 * 0.5) / RATE) * 1.1);
  });
  it('pitch 1.5 moves 440 Hz to 660 Hz and keeps the duration ±2%', () => {
    const x = tone(440, 0.5, 6);
    const y = filtered({ timescale: { pitch: 1.5 } }, x);
    const l = lastSecond(y);
    note(`pitch 1.5: ${(y.length / x.length).toFixed(4)} of the samples; 660 Hz ${levelDb(l, 660).toFixed(2)} dB, 440 Hz ${levelDb(l, 440).toFixed(1)} dB`);
    expect(Math.abs(y.length / x.length - 1)).toBeLessThan(0.02);
    expect(Math.abs(levelDb(l, 660) - 20 * Math.log10(0.5))).toBeLessThan(1);
    expect(levelDb(l, 440)).toBeLessThan(levelDb(l, 660) - 30);
  });
  it('rate 2 halves the duration and doubles the pitch', () => {
    const x = tone(440, 0.5, 6);
    const y = filtered({ timescale: { rate: 2 } }, x);
    const l = lastSecond(y);
    expect(Math.abs(y.length / x.length - 0.5) / 0.5).toBeLessThan(0.02);
    expect(levelDb(l, 880)).toBeGreaterThan(levelDb(l, 440) + 30);
  });
  it('timescale switched on, changed and back to 1 mid-stream: output continuous, tone kept, Int16 input', () => {
    // Two tones (not one period to lock onto), pushed as Int16.
    const n = 6 * RATE;
    const x = new Int16Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE) + 0.2 * Math.sin((2 * Math.PI * 587 * i) / RATE);
      x[2 * i] = x[2 * i + 1] = Math.round(v * 32767);
    }
    const chain = new FilterChain();
    const f = new Float32Array(2 * FRAME);
    const out: number[] = [];
    for (let k = 0; k < n / FRAME; k++) {
      if (k === 50) chain.set({ timescale: { speed: 1.3 } });
      if (k === 150) chain.set({ timescale: { speed: 0.8 } });
      if (k === 220) chain.set({ timescale: { speed: 1 } });
      chain.push(x.subarray(k * 2 * FRAME, (k + 1) * 2 * FRAME));
      while (chain.pull(f)) for (let i = 0; i < FRAME; i++) out.push(f[2 * i]!);
    }
    let worst = 0;
    for (let i = 1; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - out[i - 1]!));
    const natural = (2 * Math.PI * (440 * 0.3 + 587 * 0.2)) / RATE;
    note(`timescale on/changed/off mid-stream: largest step ${(worst / natural).toFixed(3)} × the signal's steepest slope`);
    expect(worst).toBeLessThan(natural * 1.1);
    // Expected length: 50 frames at 1, 100 at 1/1.3, 70 at 1/0.8, the rest at 1, minus the stretcher's latency.
    const want = FRAME * (50 + 100 / 1.3 + 70 / 0.8 + (n / FRAME - 220));
    expect(Math.abs(out.length - want) / want).toBeLessThan(0.02);
    const tail = Float32Array.from(out.slice(out.length - RATE));
    expect(levelDb(tail, 440)).toBeGreaterThan(20 * Math.log10(0.3) - 1);
    expect(levelDb(tail, 587)).toBeGreaterThan(20 * Math.log10(0.2) - 1);
  });
  it('after flush every input sample has come out (speed 1: output ≥ input)', () => {
    const x = tone(440, 0.5, 1);
    const chain = new FilterChain({ timescale: { speed: 1.0001 } });
    const y = run(chain, x, true);
    expect(y.length).toBeGreaterThanOrEqual(x.length * 0.999);
  });
});

describe('modulation filters', () => {
  it('tremolo 5 Hz depth 0.5: sidebands at ±5 Hz, 15.56 dB under the carrier ±0.5', () => {
    const y = filtered({ tremolo: { frequency: 5, depth: 0.5 } }, tone(1000, 0.5, 2));
    const l = lastSecond(y);
    const side = levelDb(l, 1005) - levelDb(l, 1000);
    const side2 = levelDb(l, 995) - levelDb(l, 1000);
    note(`tremolo: sidebands ${side.toFixed(2)} / ${side2.toFixed(2)} dB re carrier (want -15.56)`);
    expect(Math.abs(side - 20 * Math.log10(0.125 / 0.75))).toBeLessThan(0.5);
    expect(Math.abs(side2 - 20 * Math.log10(0.125 / 0.75))).toBeLessThan(0.5);
  });
  it('vibrato 5 Hz depth 0.5: first sideband / carrier as Bessel J1/J0 of the phase deviation ±0.5 dB', () => {
    const y = filtered({ vibrato: { frequency: 5, depth: 0.5 } }, tone(440, 0.5, 2));
    const l = lastSecond(y);
    const beta = 2 * Math.PI * 440 * ((0.5 * 96) / 2 / RATE);
    const want = 20 * Math.log10(Math.abs(besselJ(1, beta)) / Math.abs(besselJ(0, beta)));
    const got = levelDb(l, 445) - levelDb(l, 440);
    note(`vibrato: sideband ${got.toFixed(2)} dB re carrier (Bessel: ${want.toFixed(2)})`);
    expect(Math.abs(got - want)).toBeLessThan(0.5);
  });
  it('rotation 2 Hz: each side swings at 2 Hz (sidebands 6.02 dB under), the sides in opposition', () => {
    const y = filtered({ rotation: { rotationHz: 2 } }, tone(1000, 0.5, 2));
    const l = lastSecond(y);
    const side = levelDb(l, 1002) - levelDb(l, 1000);
    note(`rotation: left sideband ${side.toFixed(2)} dB re carrier (want -6.02)`);
    expect(Math.abs(side + 6.02)).toBeLessThan(0.5);
    // L + R is the input itself (gains (1 ± sin)/2 sum to 1).
    let worst = 0;
    for (let i = 0; i < y.length / 2; i++) worst = Math.max(worst, Math.abs(y[2 * i]! + y[2 * i + 1]! - 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE)));
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('karaoke, channelMix, distortion, volume', () => {
  it('karaoke removes a centred 1 kHz tone, keeps the 220 Hz band and side content', () => {
    const centreGone = levelDb(lastSecond(filtered({ karaoke: {} }, tone(1000, 0.5, 2))), 1000) - 20 * Math.log10(0.5);
    const fullyGone = levelDb(lastSecond(filtered({ karaoke: { monoLevel: 0 } }, tone(1000, 0.5, 2))), 1000) - 20 * Math.log10(0.5);
    const bass = levelDb(lastSecond(filtered({ karaoke: {} }, tone(220, 0.5, 2))), 220) - 20 * Math.log10(0.5);
    const side = levelDb(lastSecond(filtered({ karaoke: {} }, tone(1000, 0.5, 2, true))), 1000) - 20 * Math.log10(0.5);
    note(`karaoke: centre 1 kHz ${centreGone.toFixed(1)} dB (monoLevel 0: ${fullyGone.toFixed(1)}), centre 220 Hz ${bass.toFixed(2)} dB, side 1 kHz ${side.toFixed(2)} dB`);
    expect(centreGone).toBeLessThan(-15);
    expect(fullyGone).toBeLessThan(-60);
    expect(Math.abs(bass)).toBeLessThan(1);
    expect(Math.abs(side)).toBeLessThan(0.1);
  });
  it('channelMix 0.5 everywhere makes mono', () => {
    const x = tone(1000, 0.5, 0.1);
    for (let i = 0; i < x.length / 2; i++) x[2 * i + 1] = 0;
    const y = filtered({ channelMix: { leftToLeft: 0.5, leftToRight: 0.5, rightToLeft: 0.5, rightToRight: 0.5 } }, x);
    for (let i = 0; i < y.length / 2; i++) {
      expect(y[2 * i]).toBe(y[2 * i + 1]);
      expect(y[2 * i]).toBeCloseTo(x[2 * i]! * 0.5, 6);
    }
  });
  it('distortion: defaults change nothing, sinScale 4 adds even harmonics, cosScale 4 odd ones', () => {
    const x = tone(1000, 0.5, 1);
    expect(filtered({ distortion: {} }, x)).toEqual(x);
    const y = filtered({ distortion: { sinScale: 4 } }, x);
    // x · sin(4x) is even: a 2nd harmonic; x · cos(4x) is odd: a 3rd.
    expect(levelDb(channel(y, 0), 2000) - levelDb(channel(y, 0), 1000)).toBeGreaterThan(-30);
    const z = filtered({ distortion: { cosScale: 4 } }, x);
    expect(levelDb(channel(z, 0), 3000) - levelDb(channel(z, 0), 1000)).toBeGreaterThan(-30);
  });
  it('volume 0.5 is -6.02 dB; no filters is bit-exact with Int16 frames', () => {
    const y = filtered({ volume: 0.5 }, tone(1000, 0.5, 1));
    expect(levelDb(channel(y, 0), 1000)).toBeCloseTo(20 * Math.log10(0.25), 3);
    const chain = new FilterChain();
    const frame = new Int16Array(2 * FRAME).map((_, i) => (i * 7919) % 65536 - 32768);
    const copy = frame.slice();
    expect(chain.processFrame(frame)).toBe(true);
    expect(frame).toEqual(copy);
  });
});

describe('set', () => {
  it('a change is heard from the next frame, ramped over it: no step larger than the tone\'s own', () => {
    const chain = new FilterChain();
    const x = tone(1000, 0.5, 1);
    const frames: Float32Array[] = [];
    const f = new Float32Array(2 * FRAME);
    for (let k = 0; k < 50; k++) {
      if (k === 10) chain.set({ volume: 0.2, equalizer: [{ band: 8, gain: 0.5 }], lowPass: { smoothing: 4 } });
      if (k === 30) chain.set({});
      chain.push(x.subarray(k * 2 * FRAME, (k + 1) * 2 * FRAME));
      expect(chain.pull(f)).toBe(true);
      frames.push(f.slice());
    }
    const all = new Float32Array(50 * 2 * FRAME);
    frames.forEach((fr, i) => all.set(fr, i * 2 * FRAME));
    let worst = 0;
    for (let i = 1; i < all.length / 2; i++) worst = Math.max(worst, Math.abs(all[2 * i]! - all[2 * i - 2]!));
    const natural = (2 * Math.PI * 1000 * 0.5) / RATE;
    note(`set: largest step ${(worst / natural).toFixed(3)} × the tone's steepest slope`);
    expect(worst).toBeLessThan(natural * 1.1);
    // Frames 12..29 carry the new settings entirely (within 40 ms of the set): level differs from frames 0..9.
    const level = (k0: number, k1: number): number => levelDb(channel(all, 0, k0 * FRAME, (k1 - k0) * FRAME), 1000);
    expect(Math.abs(level(12, 27) - level(13, 28))).toBeLessThan(0.2);
    expect(level(12, 27)).toBeLessThan(level(0, 10) - 3);
    expect(Math.abs(level(32, 42) - level(0, 10))).toBeLessThan(0.1);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 3, 'filters must be an object'],
    ['unknown filter', { echo: {} }, 'filters.echo'],
    ['an Object.prototype name', { toString: 1 }, 'filters.toString'],
    ['volume too high', { volume: 6 }, 'filters.volume'],
    ['band out of range', { equalizer: [{ band: 15, gain: 0 }] }, 'filters.equalizer[0].band'],
    ['band not integer', { equalizer: [{ band: 1.5, gain: 0 }] }, 'filters.equalizer[0].band'],
    ['gain below -0.25', { equalizer: [{ band: 1, gain: -0.5 }] }, 'filters.equalizer[0].gain'],
    ['duplicate band', { equalizer: [{ band: 1, gain: 0.1 }, { band: 1, gain: 0.2 }] }, 'band 1 twice'],
    ['speed 0', { timescale: { speed: 0 } }, 'filters.timescale.speed'],
    ['pitch NaN', { timescale: { pitch: NaN } }, 'filters.timescale.pitch'],
    ['vibrato 20 Hz', { vibrato: { frequency: 20 } }, 'filters.vibrato.frequency'],
    ['tremolo depth 0', { tremolo: { depth: 0 } }, 'filters.tremolo.depth'],
    ['unknown field', { rotation: { hz: 1 } }, 'filters.rotation.hz'],
    ['channelMix > 1', { channelMix: { leftToRight: 2 } }, 'filters.channelMix.leftToRight'],
    ['lowPass string', { lowPass: { smoothing: '20' } }, 'filters.lowPass.smoothing'],
  ])('%s throws INVALID_ARGUMENT naming the field', (_name, filters, path) => {
    let err: unknown;
    try {
      validateFilters(filters);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain(path);
  });

  it('a rejected set leaves the filters in force', () => {
    const chain = new FilterChain({ volume: 0.5 });
    expect(() => chain.set({ volume: -1 })).toThrow();
    expect(chain.filters).toEqual({ volume: 0.5 });
  });

  it('validateFilters fills in Lavalink\'s defaults', () => {
    expect(validateFilters({ karaoke: {}, tremolo: {}, timescale: { speed: 1.2 } })).toEqual({
      karaoke: { level: 1, monoLevel: 1, filterBand: 220, filterWidth: 100 },
      tremolo: { frequency: 2, depth: 0.5 },
      timescale: { speed: 1.2, pitch: 1, rate: 1 },
    });
  });
});

describe('validateFilters on anything', () => {
  it('either accepts and a chain runs it with finite output, or throws INVALID_ARGUMENT', () => {
    const num = fc.oneof(
      { arbitrary: fc.constantFrom(1, 0.5, 0.8), weight: 30 },
      { arbitrary: fc.double({ min: -2, max: 20, noNaN: false }), weight: 1 },
      { arbitrary: fc.string(), weight: 1 },
    );
    const obj = (keys: string[]) => fc.record(Object.fromEntries(keys.map((k) => [k, num])), { requiredKeys: [] });
    const filters = fc.record(
      {
        volume: num,
        equalizer: fc.array(fc.record({ band: fc.integer({ min: 0, max: 15 }), gain: num }), { maxLength: 4 }),
        karaoke: obj(['level', 'monoLevel', 'filterBand', 'filterWidth']),
        timescale: obj(['speed', 'pitch', 'rate']),
        tremolo: obj(['frequency', 'depth']),
        vibrato: obj(['frequency', 'depth']),
        rotation: obj(['rotationHz']),
        channelMix: obj(['leftToLeft', 'leftToRight', 'rightToLeft', 'rightToRight']),
        lowPass: obj(['smoothing']),
      },
      { requiredKeys: [] },
    );
    const x = tone(440, 0.5, 0.2);
    let accepted = 0;
    fc.assert(
      fc.property(filters, (f) => {
        let chain: FilterChain;
        try {
          chain = new FilterChain(f as Filters);
        } catch (e) {
          return isKookRtpError(e, 'INVALID_ARGUMENT');
        }
        accepted++;
        const y = run(chain, x, true);
        return y.length > 0 && y.every((v) => Number.isFinite(v));
      }),
      { numRuns: 300, seed: 11 },
    );
    expect(accepted).toBeGreaterThan(10); // the generator reaches valid chains too, not only errors
  });
});

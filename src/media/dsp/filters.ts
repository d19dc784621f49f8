/**
 * Audio filters with Lavalink's names, fields and units (Lavalink v4 REST `filters` object), for 48 kHz interleaved
 * stereo frames: `volume`, `equalizer`, `karaoke`, `timescale`, `tremolo`, `vibrato`, `rotation`, `distortion`,
 * `channelMix`, `lowPass`.
 *
 * @see https://lavalink.dev/api/rest.html#filters
 */

import { isPlainObject } from '../../util/object.js';
import { KookRtpError } from '../../errors.js';
import { StereoFifo, VariableResampler, Wsola } from './timescale.js';

const RATE = 48_000;
/** Samples per channel in one output frame (20 ms). */
const FRAME = 960;

/** Centre frequencies of Lavalink's 15 equalizer bands (band 0..14), Hz. */
export const EQUALIZER_BANDS_HZ: readonly number[] = [
  25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000, 16000,
];
/** Q of every equalizer band: 2/3 octave, the spacing of the bands. */
const EQ_Q = 2.15;
/** The deepest cut (a band at gain −0.25, "muted"), dB. */
const EQ_FLOOR_DB = -60;
/** Vibrato's largest delay swing at depth 1: 2 ms (as lavadsp's). */
const VIBRATO_WIDTH = 0.002 * RATE;
const VIB_LEN = 256;

/** One equalizer band: `band` 0..14, `gain` −0.25 (muted) .. 1.0; 0 = unchanged, 0.25 = doubled (+6 dB). */
export interface EqualizerBand {
  readonly band: number;
  readonly gain: number;
}
/** Removes the centre (vocals), keeping a band of it (the bass) at `monoLevel`. Defaults 1, 1, 220 Hz, 100 Hz. */
export interface KaraokeFilter {
  readonly level?: number;
  readonly monoLevel?: number;
  readonly filterBand?: number;
  readonly filterWidth?: number;
}
/** `speed` (tempo, same pitch), `pitch` (same tempo), `rate` (both, like a record). Each 0.25..4, default 1. */
export interface TimescaleFilter {
  readonly speed?: number;
  readonly pitch?: number;
  readonly rate?: number;
}
/** Volume oscillation: `frequency` Hz (> 0, default 2), `depth` (0 < d ≤ 1, default 0.5). */
export interface TremoloFilter {
  readonly frequency?: number;
  readonly depth?: number;
}
/** Pitch oscillation: `frequency` Hz (0 < f ≤ 14, default 2), `depth` (0 < d ≤ 1, default 0.5). */
export interface VibratoFilter {
  readonly frequency?: number;
  readonly depth?: number;
}
/** Pans the sound around the listener: `rotationHz` turns per second (default 0 = off). */
export interface RotationFilter {
  readonly rotationHz?: number;
}
/** lavadsp's distortion: `out = x · clamp(offset + scale · sinTerm · cosTerm · tanTerm, −1, 1)`. */
export interface DistortionFilter {
  readonly sinOffset?: number;
  readonly sinScale?: number;
  readonly cosOffset?: number;
  readonly cosScale?: number;
  readonly tanOffset?: number;
  readonly tanScale?: number;
  readonly offset?: number;
  readonly scale?: number;
}
/** Channel matrix, each 0..1: defaults 1, 0, 0, 1 (unchanged); all 0.5 = mono. */
export interface ChannelMixFilter {
  readonly leftToLeft?: number;
  readonly leftToRight?: number;
  readonly rightToLeft?: number;
  readonly rightToRight?: number;
}
/** One-pole low-pass `y += (x − y) / smoothing`; `smoothing` ≤ 1 disables it. Default 20. */
export interface LowPassFilter {
  readonly smoothing?: number;
}

/** Lavalink's `filters` object. Absent fields are off; `set` replaces the whole set, as Lavalink's PATCH does. */
export interface Filters {
  /** Linear gain 0..5, default 1. */
  readonly volume?: number;
  readonly equalizer?: readonly EqualizerBand[];
  readonly karaoke?: KaraokeFilter;
  readonly timescale?: TimescaleFilter;
  readonly tremolo?: TremoloFilter;
  readonly vibrato?: VibratoFilter;
  readonly rotation?: RotationFilter;
  readonly distortion?: DistortionFilter;
  readonly channelMix?: ChannelMixFilter;
  readonly lowPass?: LowPassFilter;
}

const KEYS: Readonly<Record<keyof Filters, readonly string[] | null>> = {
  volume: null,
  equalizer: null,
  karaoke: ['level', 'monoLevel', 'filterBand', 'filterWidth'],
  timescale: ['speed', 'pitch', 'rate'],
  tremolo: ['frequency', 'depth'],
  vibrato: ['frequency', 'depth'],
  rotation: ['rotationHz'],
  distortion: ['sinOffset', 'sinScale', 'cosOffset', 'cosScale', 'tanOffset', 'tanScale', 'offset', 'scale'],
  channelMix: ['leftToLeft', 'leftToRight', 'rightToLeft', 'rightToRight'],
  lowPass: ['smoothing'],
};

const bad = (msg: string): KookRtpError => new KookRtpError('INVALID_ARGUMENT', msg);

const isObject = isPlainObject;

/** Reads `obj[key]` as a number in [min, max] (`min` exclusive when `open`), or `dflt` when absent. */
function num(
  path: string,
  obj: Record<string, unknown>,
  key: string,
  dflt: number,
  min: number,
  max: number,
  open = false,
): number {
  const v = obj[key];
  if (v === undefined) return dflt;
  const ok = typeof v === 'number' && Number.isFinite(v) && (open ? v > min : v >= min) && v <= max;
  if (!ok) {
    const range = `${open ? '(' : '['}${min}, ${max}]`;
    throw bad(`filters.${path === '' ? '' : `${path}.`}${key} must be a finite number in ${range}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v as number;
}

/** The filters with every default filled in: what the chain runs. */
interface Resolved {
  volume: number;
  eqDb: Float64Array;
  karaoke: { level: number; monoLevel: number; filterBand: number; filterWidth: number } | null;
  timescale: { speed: number; pitch: number; rate: number };
  tremolo: { frequency: number; depth: number } | null;
  vibrato: { frequency: number; depth: number } | null;
  rotationHz: number;
  distortion: Required<DistortionFilter> | null;
  channelMix: Required<ChannelMixFilter> | null;
  smoothing: number;
}

/**
 * Checks a Lavalink `filters` object and fills in the defaults.
 *
 * @returns A normalised copy (only the filters given, every field present).
 * @throws KookRtpError `INVALID_ARGUMENT` naming the first bad field, its allowed range and the value found.
 */
export function validateFilters(filters: unknown): Filters {
  return toFilters(resolve(filters), filters as Filters);
}

function resolve(input: unknown): Resolved {
  if (!isObject(input)) throw bad(`filters must be an object like { equalizer: [...], timescale: {...} }, got ${String(input)}`);
  for (const k of Object.keys(input)) {
    if (!Object.hasOwn(KEYS, k)) throw bad(`filters.${k} is not a filter; expected one of ${Object.keys(KEYS).join(', ')}`);
    const fields = KEYS[k as keyof Filters];
    const v = input[k];
    if (fields === null || v === undefined) continue;
    if (!isObject(v)) throw bad(`filters.${k} must be an object with ${fields.join(', ')}, got ${JSON.stringify(v)}`);
    for (const f of Object.keys(v)) {
      if (!fields.includes(f)) throw bad(`filters.${k}.${f} is not a field of ${k}; expected ${fields.join(', ')}`);
    }
  }
  const r: Resolved = {
    volume: num('', { volume: input['volume'] }, 'volume', 1, 0, 5),
    eqDb: new Float64Array(15),
    karaoke: null,
    timescale: { speed: 1, pitch: 1, rate: 1 },
    tremolo: null,
    vibrato: null,
    rotationHz: 0,
    distortion: null,
    channelMix: null,
    smoothing: 1,
  };
  const eq = input['equalizer'];
  if (eq !== undefined) {
    if (!Array.isArray(eq)) throw bad(`filters.equalizer must be an array of { band, gain }, got ${JSON.stringify(eq)}`);
    const seen = new Set<number>();
    eq.forEach((b: unknown, i: number) => {
      if (!isObject(b)) throw bad(`filters.equalizer[${i}] must be { band, gain }, got ${JSON.stringify(b)}`);
      const band = num(`equalizer[${i}]`, b, 'band', NaN, 0, 14);
      if (!Number.isInteger(band)) throw bad(`filters.equalizer[${i}].band must be an integer 0..14, got ${String(b['band'])}`);
      if (seen.has(band)) throw bad(`filters.equalizer has band ${band} twice; give each band once`);
      seen.add(band);
      const gain = num(`equalizer[${i}]`, b, 'gain', 0, -0.25, 1);
      // Lavalink: the band's multiplier is 1 + 4·gain (−0.25 mutes it, 0.25 doubles it).
      r.eqDb[band] = gain <= -0.25 ? EQ_FLOOR_DB : Math.max(EQ_FLOOR_DB, 20 * Math.log10(1 + 4 * gain));
    });
  }
  const obj = (k: string): Record<string, unknown> | null => {
    const v = input[k];
    return isObject(v) ? v : null;
  };
  const k = obj('karaoke');
  if (k) {
    r.karaoke = {
      level: num('karaoke', k, 'level', 1, 0, 1),
      monoLevel: num('karaoke', k, 'monoLevel', 1, 0, 1),
      filterBand: num('karaoke', k, 'filterBand', 220, 20, 20_000),
      filterWidth: num('karaoke', k, 'filterWidth', 100, 0, 20_000, true),
    };
  }
  const ts = obj('timescale');
  if (ts) {
    r.timescale = {
      speed: num('timescale', ts, 'speed', 1, 0.25, 4),
      pitch: num('timescale', ts, 'pitch', 1, 0.25, 4),
      rate: num('timescale', ts, 'rate', 1, 0.25, 4),
    };
  }
  const tr = obj('tremolo');
  if (tr) r.tremolo = { frequency: num('tremolo', tr, 'frequency', 2, 0, 100, true), depth: num('tremolo', tr, 'depth', 0.5, 0, 1, true) };
  const vb = obj('vibrato');
  if (vb) r.vibrato = { frequency: num('vibrato', vb, 'frequency', 2, 0, 14, true), depth: num('vibrato', vb, 'depth', 0.5, 0, 1, true) };
  const ro = obj('rotation');
  if (ro) r.rotationHz = num('rotation', ro, 'rotationHz', 0, 0, 100);
  const d = obj('distortion');
  if (d) {
    const f = (key: string, dflt: number): number => num('distortion', d, key, dflt, -1000, 1000);
    r.distortion = {
      sinOffset: f('sinOffset', 0), sinScale: f('sinScale', 1),
      cosOffset: f('cosOffset', 0), cosScale: f('cosScale', 1),
      tanOffset: f('tanOffset', 0), tanScale: f('tanScale', 1),
      offset: f('offset', 0), scale: f('scale', 1),
    };
  }
  const cm = obj('channelMix');
  if (cm) {
    r.channelMix = {
      leftToLeft: num('channelMix', cm, 'leftToLeft', 1, 0, 1),
      leftToRight: num('channelMix', cm, 'leftToRight', 0, 0, 1),
      rightToLeft: num('channelMix', cm, 'rightToLeft', 0, 0, 1),
      rightToRight: num('channelMix', cm, 'rightToRight', 1, 0, 1),
    };
  }
  const lp = obj('lowPass');
  if (lp) r.smoothing = num('lowPass', lp, 'smoothing', 20, 0, 10_000);
  return r;
}

function toFilters(r: Resolved, given: Filters): Filters {
  const out: Record<string, unknown> = {};
  if (given.volume !== undefined) out['volume'] = r.volume;
  if (given.equalizer !== undefined) out['equalizer'] = given.equalizer.map((b) => ({ band: b.band, gain: b.gain }));
  if (r.karaoke) out['karaoke'] = { ...r.karaoke };
  if (given.timescale !== undefined) out['timescale'] = { ...r.timescale };
  if (r.tremolo) out['tremolo'] = { ...r.tremolo };
  if (r.vibrato) out['vibrato'] = { ...r.vibrato };
  if (given.rotation !== undefined) out['rotation'] = { rotationHz: r.rotationHz };
  if (r.distortion) out['distortion'] = { ...r.distortion };
  if (r.channelMix) out['channelMix'] = { ...r.channelMix };
  if (given.lowPass !== undefined) out['lowPass'] = { smoothing: r.smoothing };
  return out as Filters;
}

/** RBJ biquad coefficients `[b0, b1, b2, a1, a2]` (a0 = 1) into `c` at `o`. */
function peaking(c: Float64Array, o: number, f0: number, q: number, db: number): void {
  const a = 10 ** (db / 40);
  const w0 = (2 * Math.PI * f0) / RATE;
  const alpha = Math.sin(w0) / (2 * q);
  const cw = Math.cos(w0);
  const a0 = 1 + alpha / a;
  c[o] = (1 + alpha * a) / a0;
  c[o + 1] = (-2 * cw) / a0;
  c[o + 2] = (1 - alpha * a) / a0;
  c[o + 3] = (-2 * cw) / a0;
  c[o + 4] = (1 - alpha / a) / a0;
}

function bandpass(c: Float64Array, o: number, f0: number, q: number): void {
  const w0 = (2 * Math.PI * f0) / RATE;
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  c[o] = alpha / a0;
  c[o + 1] = 0;
  c[o + 2] = -alpha / a0;
  c[o + 3] = (-2 * Math.cos(w0)) / a0;
  c[o + 4] = (1 - alpha) / a0;
}

/**
 * The per-sample effects (everything but timescale) with their state in typed arrays, so that a second instance can
 * take over the first's state and the two outputs be crossfaded over one frame when the settings change.
 */
class Effects {
  r!: Resolved;
  active = false;
  readonly eqCoef = new Float64Array(15 * 5);
  readonly eqBands = new Int32Array(15);
  eqCount = 0;
  readonly eqState = new Float64Array(15 * 2 * 4);
  readonly kCoef = new Float64Array(5);
  readonly kState = new Float64Array(4);
  readonly vib = new Float32Array(VIB_LEN * 2);
  vibWrite = 0;
  tremPhase = 0;
  vibPhase = 0;
  rotPhase = 0;
  lpL = 0;
  lpR = 0;

  configure(r: Resolved): void {
    this.r = r;
    this.eqCount = 0;
    for (let b = 0; b < 15; b++) {
      if (r.eqDb[b] === 0) continue;
      peaking(this.eqCoef, b * 5, EQUALIZER_BANDS_HZ[b]!, EQ_Q, r.eqDb[b]!);
      this.eqBands[this.eqCount++] = b;
    }
    if (r.karaoke) bandpass(this.kCoef, 0, r.karaoke.filterBand, r.karaoke.filterBand / r.karaoke.filterWidth);
    this.active =
      r.volume !== 1 || this.eqCount > 0 || r.karaoke !== null || r.tremolo !== null || r.vibrato !== null ||
      r.rotationHz > 0 || r.distortion !== null || r.channelMix !== null || r.smoothing > 1;
  }

  /** Starts from rest (used when effects are turned on after a stretch without any: old state would be stale). */
  clearState(first: Float32Array): void {
    this.eqState.fill(0);
    this.kState.fill(0);
    this.vib.fill(0);
    this.lpL = first[0]!;
    this.lpR = first[1]!;
  }

  copyStateFrom(o: Effects): void {
    this.eqState.set(o.eqState);
    this.kState.set(o.kState);
    this.vib.set(o.vib);
    this.vibWrite = o.vibWrite;
    this.tremPhase = o.tremPhase;
    this.vibPhase = o.vibPhase;
    this.rotPhase = o.rotPhase;
    this.lpL = o.lpL;
    this.lpR = o.lpR;
  }

  /** Processes `n` interleaved stereo samples of `x` in place. */
  process(x: Float32Array, n: number): void {
    const r = this.r;
    // Equalizer: one biquad per active band, band by band over the frame (direct form I).
    for (let k = 0; k < this.eqCount; k++) {
      const b = this.eqBands[k]!;
      const c = this.eqCoef;
      const o = b * 5;
      const b0 = c[o]!, b1 = c[o + 1]!, b2 = c[o + 2]!, a1 = c[o + 3]!, a2 = c[o + 4]!;
      for (let ch = 0; ch < 2; ch++) {
        const s = this.eqState;
        const so = (b * 2 + ch) * 4;
        let x1 = s[so]!, x2 = s[so + 1]!, y1 = s[so + 2]!, y2 = s[so + 3]!;
        for (let i = ch; i < 2 * n; i += 2) {
          const v = x[i]!;
          const y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
          x2 = x1;
          x1 = v;
          y2 = y1;
          y1 = y;
          x[i] = y;
        }
        s[so] = x1; s[so + 1] = x2; s[so + 2] = y1; s[so + 3] = y2;
      }
    }
    if (r.karaoke) {
      const { level, monoLevel } = r.karaoke;
      const c = this.kCoef;
      const s = this.kState;
      for (let i = 0; i < n; i++) {
        const center = (x[2 * i]! + x[2 * i + 1]!) / 2;
        const bp = c[0]! * center + c[2]! * s[1]! - c[3]! * s[2]! - c[4]! * s[3]!;
        s[1] = s[0]!; s[0] = center; s[3] = s[2]!; s[2] = bp;
        const remove = level * (center - monoLevel * bp);
        x[2 * i] = x[2 * i]! - remove;
        x[2 * i + 1] = x[2 * i + 1]! - remove;
      }
    }
    if (r.tremolo) {
      const { frequency, depth } = r.tremolo;
      const step = (2 * Math.PI * frequency) / RATE;
      let p = this.tremPhase;
      for (let i = 0; i < n; i++) {
        const g = 1 - depth * (0.5 + 0.5 * Math.sin(p));
        x[2 * i] = x[2 * i]! * g;
        x[2 * i + 1] = x[2 * i + 1]! * g;
        p += step;
      }
      this.tremPhase = p % (2 * Math.PI);
    }
    // The vibrato's delay line is written whenever any effect runs, so turning vibrato on mid-stream usually reads
    // real history (and the crossfade hides the first 20 ms when it does not).
    {
      const vib = this.vib;
      const v = r.vibrato;
      const step = v ? (2 * Math.PI * v.frequency) / RATE : 0;
      let p = this.vibPhase;
      let w = this.vibWrite;
      for (let i = 0; i < n; i++) {
        vib[2 * w] = x[2 * i]!;
        vib[2 * w + 1] = x[2 * i + 1]!;
        if (v) {
          const d = 1 + v.depth * VIBRATO_WIDTH * (0.5 + 0.5 * Math.sin(p));
          const rp = w - d + VIB_LEN;
          const ri = Math.floor(rp);
          const f = rp - ri;
          const a = ri & (VIB_LEN - 1);
          const b = (ri + 1) & (VIB_LEN - 1);
          x[2 * i] = vib[2 * a]! * (1 - f) + vib[2 * b]! * f;
          x[2 * i + 1] = vib[2 * a + 1]! * (1 - f) + vib[2 * b + 1]! * f;
          p += step;
        }
        w = (w + 1) & (VIB_LEN - 1);
      }
      this.vibWrite = w;
      this.vibPhase = p % (2 * Math.PI);
    }
    if (r.rotationHz > 0) {
      const step = (2 * Math.PI * r.rotationHz) / RATE;
      let p = this.rotPhase;
      for (let i = 0; i < n; i++) {
        const s = Math.sin(p);
        x[2 * i] = x[2 * i]! * (0.5 + 0.5 * s);
        x[2 * i + 1] = x[2 * i + 1]! * (0.5 - 0.5 * s);
        p += step;
      }
      this.rotPhase = p % (2 * Math.PI);
    }
    if (r.distortion) {
      const d = r.distortion;
      const useSin = d.sinOffset !== 0 || d.sinScale !== 1;
      const useCos = d.cosOffset !== 0 || d.cosScale !== 1;
      const useTan = d.tanOffset !== 0 || d.tanScale !== 1;
      for (let i = 0; i < 2 * n; i++) {
        const v = x[i]!;
        let m = d.scale;
        if (useSin) m *= d.sinOffset + Math.sin(v * d.sinScale);
        if (useCos) m *= d.cosOffset + Math.cos(v * d.cosScale);
        if (useTan) m *= d.tanOffset + Math.tan(v * d.tanScale);
        m += d.offset;
        x[i] = v * (m > 1 ? 1 : m < -1 ? -1 : m);
      }
    }
    if (r.channelMix) {
      const { leftToLeft, leftToRight, rightToLeft, rightToRight } = r.channelMix;
      for (let i = 0; i < n; i++) {
        const l = x[2 * i]!;
        const rr = x[2 * i + 1]!;
        x[2 * i] = l * leftToLeft + rr * rightToLeft;
        x[2 * i + 1] = l * leftToRight + rr * rightToRight;
      }
    }
    // The low-pass state follows the signal while off, so turning it on starts from where the signal is.
    {
      let l = this.lpL;
      let rr = this.lpR;
      if (r.smoothing > 1) {
        const a = 1 / r.smoothing;
        for (let i = 0; i < n; i++) {
          l += (x[2 * i]! - l) * a;
          rr += (x[2 * i + 1]! - rr) * a;
          x[2 * i] = l;
          x[2 * i + 1] = rr;
        }
      } else if (n > 0) {
        l = x[2 * n - 2]!;
        rr = x[2 * n - 1]!;
      }
      this.lpL = l;
      this.lpR = rr;
    }
    if (r.volume !== 1) for (let i = 0; i < 2 * n; i++) x[i] = x[i]! * r.volume;
  }
}

/** Input block converted at a time (bounds the scratch buffer). */
const BLOCK = 2048;

/**
 * Runs Lavalink-style filters over 48 kHz interleaved stereo: push any number of input samples, pull 20 ms frames.
 *
 * @remarks
 * `timescale` changes how many samples come out (speed 1.5 → two thirds), so the chain is a FIFO: {@link push} input
 * (float −1..1 or Int16), then {@link pull} 960-sample frames while it returns true. Without timescale one push of a
 * frame gives one frame (no latency; {@link processFrame} does both in place). Once timescale has been on, the
 * stretcher stays in the path with ~50 ms of latency (it needs 50 ms of input ahead of its output).
 *
 * Order: timescale (on push: WSOLA for `speed / pitch`, then resampling by `pitch · rate`), then on pull: equalizer,
 * karaoke, tremolo, vibrato, rotation, distortion, channelMix, lowPass, volume.
 *
 * Changes by {@link set} are heard from the next frame pulled: the old and new settings both process that frame,
 * from the same filter state, and are crossfaded over its 20 ms (no click). Timescale ratios change at the next
 * 20 ms hop; both of its stages are continuous across a change. Int16 output saturates at full scale: put a limiter
 * after the chain (the framer's, or the mixer's) when gains above unity are used.
 *
 * @example
 * ```ts
 * const chain = new FilterChain({ equalizer: [{ band: 0, gain: 0.25 }], timescale: { speed: 1.25 } });
 * chain.push(pcm);
 * while (chain.pull(frame)) send(frame);
 * ```
 */
export class FilterChain {
  private cur = new Effects();
  private next = new Effects();
  private pending = false;
  private filtersValue: Filters = {};
  private readonly wsola = new Wsola();
  private readonly resampler = new VariableResampler();
  private stretching = false;
  private readonly mid = new StereoFifo(4096);
  private readonly out = new StereoFifo(4096);
  private readonly scratch = new Float32Array(BLOCK * 2);
  private readonly frame = new Float32Array(FRAME * 2);
  private readonly frame2 = new Float32Array(FRAME * 2);

  /** @throws KookRtpError `INVALID_ARGUMENT` on a bad filter (see {@link validateFilters}). */
  constructor(filters: Filters = {}) {
    const r = resolve(filters);
    this.cur.configure(r);
    this.filtersValue = toFilters(r, filters);
    this.applyTimescale(r);
  }

  /** The filters in force (normalised: defaults filled in). */
  get filters(): Filters {
    return this.filtersValue;
  }

  /**
   * Replaces every filter (absent ones turn off), heard from the next frame pulled.
   *
   * @throws KookRtpError `INVALID_ARGUMENT` on a bad filter; the filters in force are then left unchanged.
   */
  set(filters: Filters): void {
    const r = resolve(filters);
    this.next.configure(r);
    this.pending = true;
    this.filtersValue = toFilters(r, filters);
    this.applyTimescale(r);
  }

  private applyTimescale(r: Resolved): void {
    const { speed, pitch, rate } = r.timescale;
    if (speed !== 1 || pitch !== 1 || rate !== 1) this.stretching = true;
    // Duration × 1 / (speed · rate), pitch × pitch · rate: stretch by speed / pitch, then resample by pitch · rate.
    this.wsola.tempo = speed / pitch;
    this.resampler.ratio = pitch * rate;
  }

  /**
   * Timescale has been on: the stretcher is in the path, so output frames no longer map one to one onto input frames
   * (and a rewind cannot find the input of a given output frame).
   */
  get isStretching(): boolean {
    return this.stretching;
  }

  /** Complete samples per channel waiting to be pulled. */
  get availableSamples(): number {
    return this.out.length;
  }

  /**
   * Adds interleaved stereo input.
   *
   * @param samples - Float (−1..1) or Int16, L R pairs.
   * @param frames - Pairs to take, default all.
   * @throws KookRtpError `INVALID_ARGUMENT` when `frames` is not an integer within the array.
   */
  push(samples: Float32Array | Int16Array, frames = samples.length >> 1): void {
    if (!Number.isInteger(frames) || frames < 0 || frames * 2 > samples.length) {
      throw bad(`frames must be an integer in 0..${samples.length >> 1}, got ${String(frames)}`);
    }
    const scale = samples instanceof Int16Array ? 1 / 32768 : 1;
    const s = this.scratch;
    for (let off = 0; off < frames; off += BLOCK) {
      const n = Math.min(BLOCK, frames - off);
      for (let i = 0; i < 2 * n; i++) s[i] = samples[off * 2 + i]! * scale;
      if (this.stretching) {
        this.wsola.push(s, 0, n);
        this.runTimescale();
      } else {
        this.out.append(s, 0, n);
      }
    }
  }

  private runTimescale(): void {
    this.wsola.process(this.mid);
    this.resampler.process(this.mid, this.out);
  }

  /**
   * Takes the next 960-sample frame, filtered, into `out` (1920 interleaved values).
   *
   * @returns False (and `out` untouched) when fewer than 960 samples are waiting: push more first.
   * @throws KookRtpError `INVALID_ARGUMENT` when `out` is not 1920 values long.
   */
  pull(out: Float32Array | Int16Array): boolean {
    if (out.length !== FRAME * 2) throw bad(`a frame is ${FRAME * 2} interleaved values, got an array of ${out.length}`);
    if (this.out.length < FRAME) return false;
    const f = this.frame;
    const src = this.out.buf;
    for (let i = 0; i < FRAME * 2; i++) f[i] = src[i]!;
    this.out.dropBefore(this.out.base + FRAME);
    if (this.pending) {
      if (this.cur.active) this.next.copyStateFrom(this.cur);
      else this.next.clearState(f);
      const g = this.frame2;
      g.set(f);
      if (this.cur.active) this.cur.process(f, FRAME);
      if (this.next.active) this.next.process(g, FRAME);
      for (let i = 0; i < FRAME; i++) {
        const t = (i + 1) / FRAME;
        f[2 * i] = f[2 * i]! * (1 - t) + g[2 * i]! * t;
        f[2 * i + 1] = f[2 * i + 1]! * (1 - t) + g[2 * i + 1]! * t;
      }
      const swap = this.cur;
      this.cur = this.next;
      this.next = swap;
      this.pending = false;
    } else if (this.cur.active) {
      this.cur.process(f, FRAME);
    }
    if (out instanceof Int16Array) {
      for (let i = 0; i < FRAME * 2; i++) {
        const v = Math.round(f[i]! * 32768);
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    } else {
      out.set(f);
    }
    return true;
  }

  /** Pushes one frame and pulls one into the same array. @returns False while timescale is still buffering. */
  processFrame(frame: Float32Array | Int16Array): boolean {
    this.push(frame);
    return this.pull(frame);
  }

  /** Ends the input: drains the stretcher and pads the last partial frame with silence so it can be pulled. */
  flush(): void {
    if (this.stretching) {
      this.wsola.pushZeros(2400 + 64);
      this.runTimescale();
    }
    const rest = this.out.length % FRAME;
    if (rest > 0) this.out.appendZeros(FRAME - rest);
  }

  /** Drops everything buffered and all filter state (a new track); the filters stay set. */
  reset(): void {
    this.wsola.reset();
    this.resampler.reset();
    this.mid.clear();
    this.out.clear();
    const fresh = new Effects();
    fresh.configure(this.pending ? this.next.r : this.cur.r);
    this.cur = fresh;
    this.pending = false;
  }
}

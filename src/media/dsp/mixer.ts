/**
 * Mixing overlays (TTS, jingles, soundboard clips) over music with ducking, equal-power crossfades, and a final
 * peak limiter so the sum never clips. 48 kHz interleaved stereo frames, float (−1..1) or Int16.
 */

import { KookRtpError } from '../../errors.js';

const RATE = 48_000;
/** The largest float that still fits int16 after scaling by 32768. */
const CEILING = 32767 / 32768;
/** Limiter hold (20 ms) and release (~50 ms time constant), as in the framer's limiter. */
const HOLD_SAMPLES = 960;
const RELEASE = 1 - Math.exp(-1 / (0.05 * RATE));

/** Options of {@link DuckingMixer}. */
export interface DuckingMixerOptions {
  /** Music gain while at least one overlay plays, in dB (≤ 0). Default −12. */
  readonly duckDb?: number;
  /** Duration of the duck and of the restore ramps, in ms (0..5000). Default 150. */
  readonly fadeMs?: number;
}

function checkDuck(duckDb: number, fadeMs: number): void {
  if (typeof duckDb !== 'number' || !(duckDb <= 0) || !(duckDb >= -96)) {
    throw new KookRtpError('INVALID_ARGUMENT', `duckDb must be a number of dB in -96..0, got ${String(duckDb)}`);
  }
  if (typeof fadeMs !== 'number' || !(fadeMs >= 0) || !(fadeMs <= 5000)) {
    throw new KookRtpError('INVALID_ARGUMENT', `fadeMs must be a number of ms in 0..5000, got ${String(fadeMs)}`);
  }
}

/**
 * Equal-power crossfade gains at position `t` (0 = all outgoing, 1 = all incoming): `cos(tπ/2)` and `sin(tπ/2)`,
 * so the summed power of two uncorrelated signals stays constant.
 *
 * @param t - Clamped to 0..1.
 * @param into - Optional 2-element array to write `[outgoing, incoming]` into (no allocation).
 * @returns `into`, or a new array.
 */
export function equalPowerGains(t: number, into: Float64Array | number[] = [0, 0]): Float64Array | number[] {
  const c = t <= 0 ? 0 : t >= 1 ? 1 : t;
  into[0] = Math.cos((c * Math.PI) / 2);
  into[1] = Math.sin((c * Math.PI) / 2);
  return into;
}

/**
 * Crossfades two interleaved stereo frames into `out` with equal-power gains moving linearly in `t` from `t0` (first
 * sample) to `t1` (after the last sample). `out` may be either input.
 *
 * @throws KookRtpError `INVALID_ARGUMENT` when the lengths differ or are odd.
 */
export function crossfadeInto(
  out: Float32Array,
  outgoing: Float32Array,
  incoming: Float32Array,
  t0: number,
  t1: number,
): void {
  if (outgoing.length !== out.length || incoming.length !== out.length || out.length % 2 !== 0) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `crossfade needs three interleaved stereo arrays of one even length, got ${out.length}, ${outgoing.length}, ${incoming.length}`,
    );
  }
  const n = out.length / 2;
  for (let i = 0; i < n; i++) {
    let t = t0 + ((t1 - t0) * i) / n;
    t = t <= 0 ? 0 : t >= 1 ? 1 : t;
    const go = Math.cos((t * Math.PI) / 2);
    const gi = Math.sin((t * Math.PI) / 2);
    out[2 * i] = outgoing[2 * i]! * go + incoming[2 * i]! * gi;
    out[2 * i + 1] = outgoing[2 * i + 1]! * go + incoming[2 * i + 1]! * gi;
  }
}

/** The factor to −1..1 of a frame's samples, after checking its length. */
function scaleOf(a: Float32Array | Int16Array, len: number, what: string): number {
  if (a.length !== len) {
    throw new KookRtpError('INVALID_ARGUMENT', `${what} has ${a.length} values, expected ${len} like the output`);
  }
  return a instanceof Int16Array ? 1 / 32768 : 1;
}

/** An overlay frame to mix: interleaved stereo samples and a linear volume. */
export interface OverlayFrame {
  readonly samples: Float32Array | Int16Array;
  /** Linear gain, default 1. */
  readonly volume?: number;
}

/** What {@link DuckingMixer.snapshot} returns. */
export interface DuckingState {
  readonly gain: number;
  readonly envelope: number;
  readonly holdLeft: number;
}

/**
 * Mixes any number of overlays over a music frame, ducking the music while overlays play, and limits the sum.
 *
 * @remarks
 * The music gain moves in dB at a constant rate (an exponential ramp, which the ear hears as linear), from 0 dB to
 * `duckDb` over `fadeMs` when the first overlay arrives and back over `fadeMs` after the last one ends. The limiter
 * is stereo-linked with instant attack, 20 ms hold and ~50 ms release: it touches nothing while the sum stays within
 * full scale. Nothing is allocated per frame.
 *
 * @example
 * ```ts
 * const mixer = new DuckingMixer({ duckDb: -12, fadeMs: 150 });
 * mixer.mixInt16(out, musicFrame, [{ samples: ttsFrame }]);
 * ```
 */
export class DuckingMixer {
  private duckGain: number;
  private step = 1;
  private gain = 1;
  private envelope = 1;
  private holdLeft = 0;
  private readonly acc = new Float32Array(1920);
  private fadeSamples: number;

  /** @throws KookRtpError `INVALID_ARGUMENT` on a duckDb outside −96..0 or fadeMs outside 0..5000. */
  constructor(options: DuckingMixerOptions = {}) {
    const duckDb = options.duckDb ?? -12;
    const fadeMs = options.fadeMs ?? 150;
    checkDuck(duckDb, fadeMs);
    this.duckGain = 10 ** (duckDb / 20);
    this.fadeSamples = Math.max(1, Math.round((fadeMs * RATE) / 1000));
    this.step = this.duckGain ** (-1 / this.fadeSamples);
  }

  /** Changes the duck depth and fade time; an ongoing ramp continues toward the new depth. */
  configure(options: DuckingMixerOptions): void {
    const duckDb = options.duckDb ?? 20 * Math.log10(this.duckGain);
    const fadeMs = options.fadeMs ?? (this.fadeSamples * 1000) / RATE;
    checkDuck(duckDb, fadeMs);
    this.duckGain = 10 ** (duckDb / 20);
    this.fadeSamples = Math.max(1, Math.round((fadeMs * RATE) / 1000));
    this.step = this.duckGain ** (-1 / this.fadeSamples);
  }

  /** The music's current linear gain (1 = not ducked). */
  get musicGain(): number {
    return this.gain;
  }

  /** The limiter's current gain (1 = idle). */
  get limiterGain(): number {
    return this.envelope;
  }

  /** The ramp and limiter state, to go back to with {@link restore} (a rewind re-mixes frames already mixed). */
  snapshot(): DuckingState {
    return { gain: this.gain, envelope: this.envelope, holdLeft: this.holdLeft };
  }

  /** Puts back a state taken by {@link snapshot}. */
  restore(s: DuckingState): void {
    this.gain = s.gain;
    this.envelope = s.envelope;
    this.holdLeft = s.holdLeft;
  }

  /**
   * Mixes into `out` (float, interleaved stereo). `music` may be null (overlays alone), `overlays` empty (the music
   * alone, restored from any duck). `out` may be `music` itself.
   *
   * @throws KookRtpError `INVALID_ARGUMENT` when a frame's length differs from `out`'s or `out` is larger than 960
   * stereo samples.
   */
  mix(out: Float32Array, music: Float32Array | Int16Array | null, overlays: readonly OverlayFrame[]): void {
    this.sum(out.length, music, overlays);
    const acc = this.acc;
    for (let i = 0; i < out.length; i++) out[i] = acc[i]!;
  }

  /** As {@link mix}, writing Int16 (the limiter keeps every value within int16). */
  mixInt16(out: Int16Array, music: Float32Array | Int16Array | null, overlays: readonly OverlayFrame[]): void {
    this.sum(out.length, music, overlays);
    const acc = this.acc;
    for (let i = 0; i < out.length; i++) {
      const v = Math.round(acc[i]! * 32768);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }

  private sum(len: number, music: Float32Array | Int16Array | null, overlays: readonly OverlayFrame[]): void {
    if (len > this.acc.length || len % 2 !== 0) {
      throw new KookRtpError('INVALID_ARGUMENT', `a frame is at most 960 interleaved stereo samples, got ${len} values`);
    }
    const acc = this.acc;
    const n = len / 2;
    const target = overlays.length > 0 ? this.duckGain : 1;
    let g = this.gain;
    if (music === null) {
      acc.fill(0, 0, len);
      // The envelope still moves, so music that resumes mid-overlay comes back at the ducked level.
      for (let i = 0; i < n; i++) g = this.nextGain(g, target);
    } else {
      const s = scaleOf(music, len, 'the music frame');
      for (let i = 0; i < n; i++) {
        g = this.nextGain(g, target);
        acc[2 * i] = music[2 * i]! * s * g;
        acc[2 * i + 1] = music[2 * i + 1]! * s * g;
      }
    }
    this.gain = g;
    for (let k = 0; k < overlays.length; k++) {
      const o = overlays[k]!;
      const s = scaleOf(o.samples, len, 'an overlay frame') * (o.volume ?? 1);
      const x = o.samples;
      for (let i = 0; i < len; i++) acc[i] = acc[i]! + x[i]! * s;
    }
    this.limit(n);
  }

  private nextGain(g: number, target: number): number {
    if (g === target) return g;
    if (g > target) {
      const v = g / this.step;
      return v < target ? target : v;
    }
    const v = g * this.step;
    return v > target ? target : v;
  }

  private limit(n: number): void {
    const acc = this.acc;
    let env = this.envelope;
    let hold = this.holdLeft;
    if (env === 1) {
      let peak = 0;
      for (let i = 0; i < 2 * n; i++) {
        const a = Math.abs(acc[i]!);
        if (a > peak) peak = a;
      }
      if (peak <= CEILING) return;
    }
    for (let i = 0; i < n; i++) {
      const l = acc[2 * i]!;
      const r = acc[2 * i + 1]!;
      const peak = Math.max(Math.abs(l), Math.abs(r));
      if (peak * env > CEILING) {
        env = CEILING / peak;
        hold = HOLD_SAMPLES;
      } else if (hold > 0) {
        hold--;
      } else if (env < 1) {
        env += (1 - env) * RELEASE;
        if (env > 0.99999) env = 1;
        if (peak * env > CEILING) env = CEILING / peak;
      }
      acc[2 * i] = l * env;
      acc[2 * i + 1] = r * env;
    }
    this.envelope = env;
    this.holdLeft = hold;
  }
}

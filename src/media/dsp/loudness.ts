/**
 * Loudness per ITU-R BS.1770-4 / EBU R128, and the gain that brings a track to a target loudness.
 *
 * @see https://www.itu.int/rec/R-REC-BS.1770 (K-weighting, gating)
 * @see EBU Tech 3341 (the test signals our tests reproduce)
 */

import { KookRtpError } from '../../errors.js';

/** The meter's rate: frames are 48 kHz (the K-weighting coefficients below are BS.1770's own, for 48 kHz). */
const RATE = 48_000;
/** 100 ms: the hop between gating blocks (75 % overlap of 400 ms blocks). */
const HOP = RATE / 10;
/** Absolute gate, LUFS (BS.1770-4 §2.7). */
export const ABSOLUTE_GATE_LUFS = -70;
/** Relative gate, LU below the absolute-gated loudness. */
export const RELATIVE_GATE_LU = -10;
/** The reference of R128_*_GAIN tags (RFC 7845 §5.2.1): gains are relative to −23 LUFS. */
export const R128_REFERENCE_LUFS = -23;
/** ReplayGain 2.0's reference loudness: −18 LUFS (what its 89 dB SPL reference measures as under BS.1770). */
export const REPLAYGAIN_REFERENCE_LUFS = -18;

// BS.1770-4 Table 1 and 2: stage 1 (the head's high shelf) and stage 2 (RLB high-pass), 48 kHz.
const S1B0 = 1.53512485958697;
const S1B1 = -2.69169618940638;
const S1B2 = 1.19839281085285;
const S1A1 = -1.69065929318241;
const S1A2 = 0.73248077421585;
const S2A1 = -1.99004745483398;
const S2A2 = 0.99007225036621;

const powerToLufs = (p: number): number => -0.691 + 10 * Math.log10(p);

/** True-peak oversampling (BS.1770-4 Annex 2: 4x) and its interpolator: a Blackman-windowed sinc of 49 taps. */
const OVERSAMPLE = 4;
const TP_TAPS = 13;
const TP_FIR = (() => {
  const n = 49;
  const h = new Float64Array(OVERSAMPLE * TP_TAPS);
  for (let i = 0; i < n; i++) {
    const t = (i - 24) / OVERSAMPLE;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1));
    h[i] = sinc * w;
  }
  return h;
})();
/** TP_FIR by phase: TP_PHASES[q · TP_TAPS + k] = TP_FIR[4k + q]. */
const TP_PHASES = (() => {
  const p = new Float64Array(OVERSAMPLE * TP_TAPS);
  for (let q = 0; q < OVERSAMPLE; q++) for (let k = 0; k < TP_TAPS; k++) p[q * TP_TAPS + k] = TP_FIR[OVERSAMPLE * k + q]!;
  return p;
})();

/**
 * Streaming integrated-loudness meter for 48 kHz stereo (ITU-R BS.1770-4, EBU R128).
 *
 * @remarks
 * Each channel is K-weighted (two biquads), squared and summed per 100 ms; every 100 ms the last four sums make one
 * 400 ms block. True peak is tracked on a 4x oversampled copy. Integrated loudness is gated at −70 LUFS absolute, then −10 LU relative. Block powers are kept in a
 * growing array (8 bytes per 100 ms: 288 kB per hour), so the result is exact, not a histogram approximation.
 * Allocation happens only when that array doubles.
 *
 * @example
 * ```ts
 * const meter = new LoudnessMeter();
 * for (const frame of frames) meter.pushInt16(frame);
 * const gain = gainForTarget(meter.integratedLufs, -16, -1, meter.truePeak);
 * ```
 */
export class LoudnessMeter {
  // Per channel: stage-1 x1 x2 y1 y2, stage-2 y1 y2 (stage 2's input is stage 1's output).
  private readonly state = new Float64Array(12);
  private readonly sub = new Float64Array(4);
  private subIndex = 0;
  private subCount = 0;
  private acc = 0;
  private accN = 0;
  private blocks = new Float64Array(1024);
  private blockCount = 0;
  private peak = 0;
  private tp = 0;
  /** The last TP_TAPS input samples per channel, each stored twice (see `run`), for the true-peak interpolator. */
  private readonly ring = new Float64Array(2 * 2 * TP_TAPS);
  private ringPos = 0;

  /** Largest absolute sample seen (linear, 1 = full scale). */
  get samplePeak(): number {
    return this.peak;
  }

  /**
   * Largest absolute value of the signal 4x oversampled (BS.1770-4 Annex 2 "true peak"), linear; at least the
   * sample peak. What a DAC or a lossy encoder may reconstruct between samples: pass it to {@link gainForTarget}.
   */
  get truePeak(): number {
    return Math.max(this.tp, this.peak);
  }

  /** 400 ms blocks measured so far. */
  get blockCountSoFar(): number {
    return this.blockCount;
  }

  /**
   * Adds interleaved stereo float samples (−1..1).
   *
   * @param samples - Interleaved L R pairs.
   * @param frames - Pairs to take, default all.
   */
  pushFloat(samples: Float32Array, frames = samples.length >> 1): void {
    this.run(samples, frames, 1);
  }

  /** Adds interleaved stereo Int16 samples. */
  pushInt16(samples: Int16Array, frames = samples.length >> 1): void {
    this.run(samples, frames, 1 / 32768);
  }

  private run(x: Float32Array | Int16Array, frames: number, scale: number): void {
    if (!Number.isInteger(frames) || frames < 0 || frames * 2 > x.length) {
      throw new KookRtpError('INVALID_ARGUMENT', `frames must be an integer in 0..${x.length >> 1}, got ${frames}`);
    }
    const s = this.state;
    let peak = this.peak;
    let acc = this.acc;
    let accN = this.accN;
    let tp = this.tp;
    let pos = this.ringPos;
    const ring = this.ring;
    for (let i = 0; i < frames; i++) {
      for (let c = 0; c < 2; c++) {
        const v = (x[2 * i + c] as number) * scale;
        const a = v < 0 ? -v : v;
        if (a > peak) peak = a;
        // The history is stored twice (at p and p + TP_TAPS) so the newest TP_TAPS samples are always contiguous,
        // newest last: no wrap-around inside the filter loop.
        const hb = c * 2 * TP_TAPS;
        ring[hb + pos] = v;
        ring[hb + pos + TP_TAPS] = v;
        const newest = hb + pos + TP_TAPS;
        // The interpolated points lie between the samples 6 and 7 back (the filter's delay). An inter-sample peak
        // more than 6 dB above both its neighbours does not occur in band-limited audio, so most samples are skipped
        // once the peak so far is known.
        const n6 = ring[newest - 6]!;
        const n7 = ring[newest - 7]!;
        const half = tp * 0.5;
        if (n6 > half || -n6 > half || n7 > half || -n7 > half) {
          for (let q = 0; q < OVERSAMPLE; q++) {
            let y = 0;
            const fo = q * TP_TAPS;
            for (let k = 0; k < TP_TAPS; k++) y += TP_PHASES[fo + k]! * ring[newest - k]!;
            if (y > tp) tp = y;
            else if (-y > tp) tp = -y;
          }
        }
        const o = c * 6;
        const y1 = S1B0 * v + S1B1 * s[o]! + S1B2 * s[o + 1]! - S1A1 * s[o + 2]! - S1A2 * s[o + 3]!;
        s[o + 1] = s[o]!;
        s[o] = v;
        // Stage 2: b = 1, -2, 1.
        const y2 = y1 - 2 * s[o + 2]! + s[o + 3]! - S2A1 * s[o + 4]! - S2A2 * s[o + 5]!;
        s[o + 3] = s[o + 2]!;
        s[o + 2] = y1;
        s[o + 5] = s[o + 4]!;
        s[o + 4] = y2;
        acc += y2 * y2;
      }
      pos = pos === TP_TAPS - 1 ? 0 : pos + 1;
      if (++accN === HOP) {
        this.sub[this.subIndex] = acc;
        this.subIndex = (this.subIndex + 1) & 3;
        acc = 0;
        accN = 0;
        if (this.subCount < 4) this.subCount++;
        if (this.subCount === 4) this.addBlock((this.sub[0]! + this.sub[1]! + this.sub[2]! + this.sub[3]!) / (4 * HOP));
      }
    }
    this.peak = peak;
    this.tp = tp;
    this.ringPos = pos;
    this.acc = acc;
    this.accN = accN;
  }

  private addBlock(power: number): void {
    if (this.blockCount === this.blocks.length) {
      const grown = new Float64Array(this.blocks.length * 2);
      grown.set(this.blocks);
      this.blocks = grown;
    }
    this.blocks[this.blockCount++] = power;
  }

  /**
   * Gated integrated loudness of everything pushed so far, in LUFS; −Infinity while no block passes the gates (less
   * than 400 ms pushed, or silence).
   */
  get integratedLufs(): number {
    const absGate = 10 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10);
    let sum = 0;
    let n = 0;
    for (let i = 0; i < this.blockCount; i++) {
      const p = this.blocks[i]!;
      if (p > absGate) (sum += p), n++;
    }
    if (n === 0) return -Infinity;
    const relGate = 10 ** ((powerToLufs(sum / n) + RELATIVE_GATE_LU + 0.691) / 10);
    sum = 0;
    n = 0;
    for (let i = 0; i < this.blockCount; i++) {
      const p = this.blocks[i]!;
      if (p > absGate && p > relGate) (sum += p), n++;
    }
    return n === 0 ? -Infinity : powerToLufs(sum / n);
  }

  /** Loudness of the last complete 400 ms block (BS.1770 "momentary"), −Infinity before the first. */
  get momentaryLufs(): number {
    return this.blockCount === 0 ? -Infinity : powerToLufs(this.blocks[this.blockCount - 1]!);
  }

  /** Forgets everything measured (a new track). */
  reset(): void {
    this.state.fill(0);
    this.sub.fill(0);
    this.subIndex = 0;
    this.subCount = 0;
    this.acc = 0;
    this.accN = 0;
    this.blockCount = 0;
    this.peak = 0;
    this.tp = 0;
    this.ring.fill(0);
    this.ringPos = 0;
  }
}

/** dB to a linear gain. */
export const dbToGain = (db: number): number => 10 ** (db / 20);

/**
 * The linear gain that brings a track measured at `lufs` to `targetLufs`, reduced if needed so that its peak stays
 * at or below `truePeakCeilingDbfs`.
 *
 * @param lufs - The track's integrated loudness (−Infinity for silence: gain 1).
 * @param targetLufs - Default −16 LUFS (a common streaming target; R128 broadcast is −23).
 * @param truePeakCeilingDbfs - Default −1 dBFS.
 * @param peak - The track's peak, linear (1 = full scale), when known; without it only loudness decides.
 * @returns A linear gain ≥ 0.
 * @throws KookRtpError `INVALID_ARGUMENT` for a non-finite target, ceiling or a negative / NaN peak.
 */
export function gainForTarget(lufs: number, targetLufs = -16, truePeakCeilingDbfs = -1, peak?: number): number {
  if (!Number.isFinite(targetLufs) || !Number.isFinite(truePeakCeilingDbfs)) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `targetLufs and truePeakCeilingDbfs must be finite numbers, got ${targetLufs} and ${truePeakCeilingDbfs}`,
    );
  }
  if (peak !== undefined && !(peak >= 0)) {
    throw new KookRtpError('INVALID_ARGUMENT', `peak must be a linear amplitude >= 0, got ${String(peak)}`);
  }
  if (Number.isNaN(lufs)) throw new KookRtpError('INVALID_ARGUMENT', 'lufs is NaN: expected a loudness or -Infinity');
  let db = lufs === -Infinity ? 0 : targetLufs - lufs;
  if (peak !== undefined && peak > 0) db = Math.min(db, truePeakCeilingDbfs - 20 * Math.log10(peak));
  return dbToGain(db);
}

/** Where a tag-derived gain came from. */
export type TagGainSource = 'R128_TRACK_GAIN' | 'REPLAYGAIN_TRACK_GAIN';

/** A gain read from a track's tags, already moved to the caller's target loudness. */
export interface TagGain {
  /** Gain in dB to reach the target. */
  readonly gainDb: number;
  /** Linear gain (peak-limited when a REPLAYGAIN_TRACK_PEAK tag was present). */
  readonly gain: number;
  readonly source: TagGainSource;
}

/**
 * Parses a ReplayGain gain value such as `"-6.20 dB"`, `"+1.5 dB"` or `"-6.2"`.
 *
 * @returns The gain in dB.
 * @throws KookRtpError `INVALID_ARGUMENT` when the text is not a number optionally followed by `dB`.
 */
export function parseReplayGainDb(text: string): number {
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*(?:db)?\s*$/i.exec(text);
  if (m === null) {
    throw new KookRtpError('INVALID_ARGUMENT', `ReplayGain value ${JSON.stringify(text)} is not like "-6.20 dB"`);
  }
  return Number(m[1]);
}

/**
 * Parses an `R128_TRACK_GAIN` / `R128_ALBUM_GAIN` value: a Q7.8 signed integer (dB × 256) relative to −23 LUFS
 * (RFC 7845 §5.2.1).
 *
 * @returns The gain in dB relative to −23 LUFS.
 * @throws KookRtpError `INVALID_ARGUMENT` when it is not an integer in −32768..32767.
 */
export function parseR128GainDb(text: string): number {
  const t = text.trim();
  const v = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
  if (!(v >= -32768 && v <= 32767)) {
    throw new KookRtpError('INVALID_ARGUMENT', `R128 gain ${JSON.stringify(text)} is not a Q7.8 integer in -32768..32767`);
  }
  return v / 256;
}

/**
 * The gain from a track's tags (keys case-insensitive), moved to `targetLufs`: `R128_TRACK_GAIN` first (Opus), then
 * `REPLAYGAIN_TRACK_GAIN` (its −18 LUFS reference). A `REPLAYGAIN_TRACK_PEAK` caps the gain at the ceiling.
 *
 * @returns The gain, or null when no usable tag is present (malformed values are ignored, not thrown).
 */
export function gainFromTags(
  tags: Readonly<Record<string, string>>,
  targetLufs = -16,
  truePeakCeilingDbfs = -1,
): TagGain | null {
  const upper = new Map<string, string>();
  for (const [k, v] of Object.entries(tags)) upper.set(k.toUpperCase(), v);
  const tryParse = (f: (s: string) => number, s: string | undefined): number | null => {
    if (s === undefined) return null;
    try {
      return f(s);
    } catch {
      return null;
    }
  };
  const r128 = tryParse(parseR128GainDb, upper.get('R128_TRACK_GAIN'));
  if (r128 !== null) {
    const gainDb = r128 + (targetLufs - R128_REFERENCE_LUFS);
    return { gainDb, gain: dbToGain(gainDb), source: 'R128_TRACK_GAIN' };
  }
  const rg = tryParse(parseReplayGainDb, upper.get('REPLAYGAIN_TRACK_GAIN'));
  if (rg !== null) {
    let gainDb = rg + (targetLufs - REPLAYGAIN_REFERENCE_LUFS);
    const peak = tryParse(Number, upper.get('REPLAYGAIN_TRACK_PEAK'));
    if (peak !== null && peak > 0) gainDb = Math.min(gainDb, truePeakCeilingDbfs - 20 * Math.log10(peak));
    return { gainDb, gain: dbToGain(gainDb), source: 'REPLAYGAIN_TRACK_GAIN' };
  }
  return null;
}

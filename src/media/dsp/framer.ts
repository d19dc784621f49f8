/**
 * Decoded PCM of any rate and channel count in, 20 ms 48 kHz stereo Int16 frames out (what the Opus encoder eats).
 *
 * Order of work per block: downmix to stereo (or keep mono) → resample to 48 kHz → gain (ramped) → peak limiter →
 * Int16. Downmixing first means 5.1 costs two resampled channels, not six. Everything runs in preallocated typed
 * arrays, in blocks of {@link BLOCK} input samples, so a push allocates nothing once the frame queue has grown to the
 * caller's working size.
 */

import { KookRtpError } from '../../errors.js';
import { checkVolume } from '../../util/volume.js';
import { stereoDownmix, type StereoDownmix } from './mix.js';
import { Resampler } from './resampler.js';

/** Samples per channel in one frame: 20 ms at 48 kHz. */
export const FRAME_SAMPLES = 960;
/** The output rate of every frame. */
export const OUTPUT_RATE = 48_000;
/** Int16 values in one interleaved stereo frame. */
export const FRAME_VALUES = FRAME_SAMPLES * 2;
/** Input samples per channel processed at a time; bounds the size of every scratch buffer. */
const BLOCK = 2048;
/** Limiter ceiling: the largest value that still fits int16 after scaling by 32768. */
const CEILING = 32767 / 32768;
/** Limiter release: the gain reduction recovers with a ~50 ms time constant (slow enough not to modulate bass). */
const RELEASE = 1 - Math.exp(-1 / (0.05 * OUTPUT_RATE));
/** Limiter hold: gain reduction is kept this long (one 50 Hz period) before it releases, so a steady tone settles
 *  to one gain instead of being squeezed anew at every peak (which would distort like clipping). */
const HOLD_SAMPLES = 960;

/** Options of {@link PcmFramer}. */
export interface PcmFramerOptions {
  /** Input rate in Hz, an integer (8000..192000 typical; 1000..768000 accepted). */
  readonly sampleRate: number;
  /** Input channel count 1..8: 1 = mono (copied to both sides), 2 = stereo, 3..8 downmixed (see `stereoDownmix`). */
  readonly channels: number;
  /** Linear gain, default 1 (0..16). */
  readonly volume?: number;
}


/**
 * Turns decoded PCM of any rate and channel layout into 20 ms, 48 kHz, interleaved Int16 stereo frames.
 *
 * @remarks
 * Clipping protection is a stereo-linked peak limiter with instant attack, 20 ms hold and ~50 ms release: when gain
 * would push a sample past int16 full scale, the gain is reduced exactly enough for that sample, held, and then
 * recovers smoothly. It
 * never hard-clips or wraps, and it does nothing at all (bit-exact) while the signal stays in range.
 *
 * @example
 * ```ts
 * const framer = new PcmFramer({ sampleRate: 44100, channels: 2, volume: 0.8 });
 * framer.push([left, right]);
 * for (let f = framer.nextFrame(); f !== null; f = framer.nextFrame()) send(encoder.encode(f));
 * ```
 */
export class PcmFramer {
  /** Input rate in Hz. */
  readonly sampleRate: number;
  /** Input channel count. */
  readonly channels: number;

  private readonly mix: StereoDownmix;
  private readonly resampler: Resampler;
  private readonly mixBuf: Float32Array[];
  private scratch: Float32Array[] | null = null;
  private pending = new Int16Array(FRAME_VALUES * 8);
  private pendingStart = 0;
  private pendingEnd = 0;
  private readonly frame = new Int16Array(FRAME_VALUES);
  private gain: number;
  private targetGain: number;
  private gainStep = 0;
  private rampLeft = 0;
  private envelope = 1;
  private holdLeft = 0;
  private produced = 0;

  /**
   * @param options - See {@link PcmFramerOptions}.
   * @throws KookRtpError `INVALID_ARGUMENT` on a bad rate, channel count or volume; `UNSUPPORTED_FORMAT` for more
   * than 8 channels.
   */
  constructor(options: PcmFramerOptions) {
    if (!Number.isInteger(options.channels) || options.channels < 1) {
      throw new KookRtpError('INVALID_ARGUMENT', `channels must be an integer >= 1, got ${String(options.channels)}`);
    }
    const volume = options.volume ?? 1;
    checkVolume(volume);
    this.mix = stereoDownmix(options.channels);
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    const working = this.mix.mono ? 1 : 2;
    this.resampler = new Resampler({ inputRate: options.sampleRate, outputRate: OUTPUT_RATE, channels: working });
    this.mixBuf = [];
    if (options.channels > 2) for (let c = 0; c < 2; c++) this.mixBuf.push(new Float32Array(BLOCK));
    this.gain = volume;
    this.targetGain = volume;
  }

  /**
   * How the last volume change was applied: `rescaled` (the samples waiting were rescaled too, ramped over their first
   * frame) or `ramp` (the samples emitted next ramp over one frame).
   */
  lastChange: 'rescaled' | 'ramp' = 'ramp';
  /** Over how many samples (from the next frame taken on) that change ramps. */
  lastRampSamples = FRAME_SAMPLES;

  /** Current target gain (linear). Setting it ramps linearly to the new value over the next frame (no click). */
  get volume(): number {
    return this.targetGain;
  }

  set volume(v: number) {
    checkVolume(v);
    const pending = this.pendingEnd - this.pendingStart;
    if (pending > 0 && this.rampLeft === 0 && this.targetGain > 0 && this.gain === this.targetGain) {
      // Samples already scaled but not taken yet (a decoder block can be hundreds of ms) take the new volume too:
      // rescaled, ramped over their first frame, so a change is heard from the next frame taken.
      const ratio = v / this.targetGain;
      const q = this.pending;
      const ramp = Math.min(FRAME_SAMPLES, pending / 2);
      for (let i = 0, k = this.pendingStart; k < this.pendingEnd; i++, k += 2) {
        const g = i < ramp ? 1 + ((ratio - 1) * (i + 1)) / ramp : ratio;
        for (let c = 0; c < 2; c++) {
          const x = Math.round((q[k + c] as number) * g);
          q[k + c] = x > 32767 ? 32767 : x < -32768 ? -32768 : x;
        }
      }
      this.gain = v;
      this.targetGain = v;
      this.gainStep = 0;
      this.rampLeft = 0;
      this.lastChange = 'rescaled';
      this.lastRampSamples = ramp;
      return;
    }
    this.lastChange = 'ramp';
    this.lastRampSamples = FRAME_SAMPLES;
    this.targetGain = v;
    this.gainStep = (v - this.gain) / FRAME_SAMPLES;
    this.rampLeft = FRAME_SAMPLES;
  }

  /** Samples per channel at 48 kHz produced so far (queued or already taken), flush padding included. */
  get outputSamples(): number {
    return this.produced;
  }

  /** Complete frames waiting for {@link nextFrame}. */
  get bufferedFrames(): number {
    return Math.floor((this.pendingEnd - this.pendingStart) / FRAME_VALUES);
  }

  /**
   * Adds planar float32 PCM (one array per channel, nominal range −1..1).
   *
   * @param planar - At least `channels` arrays.
   * @param length - Samples per channel to take, default `planar[0].length`.
   * @throws KookRtpError `INVALID_ARGUMENT` when there are too few channels or samples.
   */
  push(planar: readonly Float32Array[], length?: number): void {
    if (planar.length < this.channels) {
      throw new KookRtpError(
        'INVALID_ARGUMENT',
        `expected ${this.channels} planar channel arrays, got ${planar.length}`,
      );
    }
    const n = length ?? (planar[0] as Float32Array).length;
    if (!Number.isInteger(n) || n < 0) {
      throw new KookRtpError('INVALID_ARGUMENT', `length must be a non-negative integer, got ${String(length)}`);
    }
    for (let c = 0; c < this.channels; c++) {
      if ((planar[c] as Float32Array).length < n) {
        throw new KookRtpError(
          'INVALID_ARGUMENT',
          `channel ${c} has ${(planar[c] as Float32Array).length} samples, fewer than length ${n}`,
        );
      }
    }
    for (let off = 0; off < n; off += BLOCK) this.processBlock(planar, off, Math.min(BLOCK, n - off));
  }

  /**
   * Adds raw interleaved Int16 PCM (s16le as decoded, or a WAV body viewed as Int16Array).
   *
   * @throws KookRtpError `INVALID_ARGUMENT` when the length is not a multiple of the channel count.
   */
  pushInterleavedInt16(samples: Int16Array): void {
    const ch = this.channels;
    if (samples.length % ch !== 0) {
      throw new KookRtpError(
        'INVALID_ARGUMENT',
        `interleaved input of ${samples.length} values is not a whole number of ${ch}-channel samples`,
      );
    }
    if (this.scratch === null) {
      this.scratch = [];
      for (let c = 0; c < ch; c++) this.scratch.push(new Float32Array(BLOCK));
    }
    const scratch = this.scratch;
    const frames = samples.length / ch;
    for (let off = 0; off < frames; off += BLOCK) {
      const n = Math.min(BLOCK, frames - off);
      if (ch === 2) {
        // The common case (48 kHz stereo from an Opus or WAV source): straight to the queue while the limiter is idle.
        const direct = this.resampler.passthrough ? this.emitInt16Stereo(samples, off, n) : 0;
        if (direct === n) continue;
        const dl = scratch[0] as Float32Array;
        const dr = scratch[1] as Float32Array;
        for (let i = 0, k = (off + direct) * 2; i < n - direct; i++, k += 2) {
          dl[i] = (samples[k] as number) / 32768;
          dr[i] = (samples[k + 1] as number) / 32768;
        }
        this.processBlock(scratch, 0, n - direct);
        continue;
      }
      for (let c = 0; c < ch; c++) {
        const dst = scratch[c] as Float32Array;
        let k = off * ch + c;
        for (let i = 0; i < n; i++, k += ch) dst[i] = (samples[k] as number) / 32768;
      }
      this.processBlock(scratch, 0, n);
    }
  }

  /**
   * The next complete frame: interleaved Int16 stereo, {@link FRAME_SAMPLES} per channel.
   *
   * @returns A reused array (overwritten by the next call: consume or copy it first), or null when no complete
   * frame is buffered.
   */
  nextFrame(): Int16Array | null {
    if (this.pendingEnd - this.pendingStart < FRAME_VALUES) return null;
    const src = this.pending;
    const dst = this.frame;
    const start = this.pendingStart;
    for (let i = 0; i < FRAME_VALUES; i++) dst[i] = src[start + i] as number;
    this.pendingStart += FRAME_VALUES;
    if (this.pendingStart === this.pendingEnd) {
      this.pendingStart = 0;
      this.pendingEnd = 0;
    }
    return dst;
  }

  /**
   * Ends the input: drains the resampler and pads the last partial frame with silence so that it becomes available
   * to {@link nextFrame} (nothing is dropped). Pushing again afterwards starts a new stream.
   */
  flush(): void {
    const out = this.resampler.output;
    const count = this.resampler.flush();
    this.emit(out[0] as Float32Array, (this.mix.mono ? out[0] : out[1]) as Float32Array, 0, count);
    const partial = (this.pendingEnd - this.pendingStart) % FRAME_VALUES;
    if (partial !== 0) {
      const pad = FRAME_VALUES - partial;
      this.reserve(pad);
      this.pending.fill(0, this.pendingEnd, this.pendingEnd + pad);
      this.pendingEnd += pad;
      this.produced += pad / 2;
    }
  }

  private processBlock(planar: readonly Float32Array[], offset: number, n: number): void {
    let src: readonly Float32Array[] = planar;
    let from = offset;
    if (this.channels > 2) {
      const ml = this.mixBuf[0] as Float32Array;
      const mr = this.mixBuf[1] as Float32Array;
      ml.fill(0, 0, n);
      mr.fill(0, 0, n);
      const { left, right } = this.mix;
      for (let c = 0; c < this.channels; c++) {
        const gl = left[c] as number;
        const gr = right[c] as number;
        if (gl === 0 && gr === 0) continue;
        const ch = planar[c] as Float32Array;
        for (let i = 0; i < n; i++) {
          const x = ch[offset + i] as number;
          ml[i] = (ml[i] as number) + gl * x;
          mr[i] = (mr[i] as number) + gr * x;
        }
      }
      src = this.mixBuf;
      from = 0;
    }
    const mono = this.mix.mono;
    if (this.resampler.passthrough) {
      // 48 kHz in: no filter and no copy, straight to gain + int16.
      this.emit(src[0] as Float32Array, (mono ? src[0] : src[1]) as Float32Array, from, n);
      return;
    }
    const produced = this.resampler.process(src, from, n);
    const out = this.resampler.output;
    this.emit(out[0] as Float32Array, (mono ? out[0] : out[1]) as Float32Array, 0, produced);
  }

  /** Makes room for `values` more Int16 values at the end of the queue (compacts first, grows only if needed). */
  private reserve(values: number): void {
    if (this.pendingEnd + values <= this.pending.length) return;
    if (this.pendingStart > 0) {
      this.pending.copyWithin(0, this.pendingStart, this.pendingEnd);
      this.pendingEnd -= this.pendingStart;
      this.pendingStart = 0;
    }
    if (this.pendingEnd + values > this.pending.length) {
      const grown = new Int16Array(Math.max(this.pending.length * 2, this.pendingEnd + values));
      grown.set(this.pending.subarray(0, this.pendingEnd));
      this.pending = grown;
    }
  }

  /**
   * 48 kHz interleaved stereo Int16 frames `[from, from + n)` straight into the queue, scaled by the gain, for as long
   * as no ramp or limiter is active and no sample would pass the ceiling.
   *
   * @returns Frames taken (the rest must go through {@link emit}). The result is bit-identical to that path:
   * (x / 32768 · gain) · 32768 = x · gain exactly, as scaling by a power of two is exact.
   */
  private emitInt16Stereo(samples: Int16Array, from: number, n: number): number {
    if (this.rampLeft !== 0 || this.holdLeft !== 0 || this.envelope !== 1) return 0;
    this.reserve(n * 2);
    const q = this.pending;
    const g = this.gain;
    let k = this.pendingEnd;
    let j = from * 2;
    const end = j + n * 2;
    for (; j < end; j += 2) {
      const vl = (samples[j] as number) * g;
      const vr = (samples[j + 1] as number) * g;
      if (vl > 32767 || vl < -32767 || vr > 32767 || vr < -32767) break;
      q[k++] = Math.round(vl);
      q[k++] = Math.round(vr);
    }
    const done = (k - this.pendingEnd) / 2;
    this.pendingEnd = k;
    this.produced += done;
    return done;
  }

  /**
   * Gain, limiter and Int16 conversion of `count` samples (`left[offset..]`, `right[offset..]`) into the frame queue.
   *
   * While no ramp, hold or gain reduction is active, a tight loop only scales and rounds; it leaves for the full
   * per-sample limiter at the first sample that would pass the ceiling (same results, bit for bit).
   */
  private emit(left: Float32Array, right: Float32Array, offset: number, count: number): void {
    if (count === 0) return;
    this.reserve(count * 2);
    const q = this.pending;
    let k = this.pendingEnd;
    let gain = this.gain;
    let env = this.envelope;
    let hold = this.holdLeft;
    let rampLeft = this.rampLeft;
    const step = this.gainStep;
    const end = offset + count;
    let i = offset;
    while (i < end) {
      if (rampLeft === 0 && hold === 0 && env === 1) {
        // Scaling by 32768 is exact, so x·(gain·32768) equals (x·gain)·32768 and |v| > 32767 is the limiter's test.
        const g = gain * 32768;
        for (; i < end; i++) {
          const vl = (left[i] as number) * g;
          const vr = (right[i] as number) * g;
          if (vl > 32767 || vl < -32767 || vr > 32767 || vr < -32767) break;
          q[k++] = Math.round(vl);
          q[k++] = Math.round(vr);
        }
        if (i === end) break;
      }
      if (rampLeft > 0) {
        gain += step;
        if (--rampLeft === 0) gain = this.targetGain;
      }
      const l = (left[i] as number) * gain;
      const r = (right[i] as number) * gain;
      const al = l < 0 ? -l : l;
      const ar = r < 0 ? -r : r;
      const peak = al > ar ? al : ar;
      if (hold > 0) hold--;
      else if (env < 1) {
        env += (1 - env) * RELEASE;
        // Snap back to exactly 1 so an in-range signal is bit-exact again once the limiter has let go.
        if (env > 0.999999) env = 1;
      }
      // Instant attack: the gain needed for this very sample, so the output never passes the ceiling.
      if (peak * env > CEILING) {
        env = CEILING / peak;
        hold = HOLD_SAMPLES;
      }
      let sl = Math.round(l * env * 32768);
      let sr = Math.round(r * env * 32768);
      // Rounding can land one step past the ceiling; saturate rather than wrap.
      if (sl > 32767) sl = 32767;
      else if (sl < -32768) sl = -32768;
      if (sr > 32767) sr = 32767;
      else if (sr < -32768) sr = -32768;
      q[k++] = sl;
      q[k++] = sr;
      i++;
    }
    this.pendingEnd = k;
    this.gain = gain;
    this.envelope = env;
    this.holdLeft = hold;
    this.rampLeft = rampLeft;
    this.produced += count;
  }
}

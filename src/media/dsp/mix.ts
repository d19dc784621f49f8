/**
 * Channel layouts to stereo: ITU-R BS.775-style downmix coefficients, normalised so the mix cannot clip.
 *
 * Channel orders are WAVE/FFmpeg default layouts for each count (what decoders hand us):
 * 1 mono · 2 L R · 3 L R C · 4 L R Ls Rs (quad) · 5 L R C Ls Rs · 6 L R C LFE Ls Rs (5.1) ·
 * 7 L R C LFE Cs Ls Rs (6.1) · 8 L R C LFE Lrs Rrs Ls Rs (7.1).
 */

import { KookRtpError } from '../../errors.js';

/** −3 dB: the usual weight of centre and surround channels folded into a front pair. */
export const MINUS_3_DB = Math.SQRT1_2;

/** Gains from each input channel to the left and right outputs. */
export interface StereoDownmix {
  /** `left[c]` is the gain of input channel c in the left output. */
  readonly left: Float64Array;
  /** `right[c]` is the gain of input channel c in the right output. */
  readonly right: Float64Array;
  /** True for 1 channel: the signal is copied to both sides at unity gain (no downmix arithmetic). */
  readonly mono: boolean;
  /** The normalisation factor applied (1 / largest row sum), so a full-scale input on every channel stays ≤ 1. */
  readonly norm: number;
}

/**
 * The stereo downmix matrix for `channels` input channels in the default layout for that count.
 *
 * @remarks
 * Centre and surrounds enter at −3 dB ({@link MINUS_3_DB}), a single back-centre (6.1) at −3 dB into both sides
 * (−6 dB each), the LFE is dropped (KOOK listeners are on headphones and phone speakers; folding it in mostly eats
 * headroom). Each row is then scaled by 1 / (sum of absolute gains of the larger row), so the output can never exceed
 * the largest input: for 5.1 that is 1 / (1 + 0.707 + 0.707) ≈ 0.414.
 *
 * @param channels - 1..8.
 * @returns The matrix (fresh arrays: the caller may keep them).
 * @throws KookRtpError `UNSUPPORTED_FORMAT` for other counts.
 */
export function stereoDownmix(channels: number): StereoDownmix {
  const h = MINUS_3_DB;
  let left: number[];
  let right: number[];
  switch (channels) {
    case 1:
      return { left: Float64Array.of(1), right: Float64Array.of(1), mono: true, norm: 1 };
    case 2:
      left = [1, 0];
      right = [0, 1];
      break;
    case 3: // L R C
      left = [1, 0, h];
      right = [0, 1, h];
      break;
    case 4: // L R Ls Rs
      left = [1, 0, h, 0];
      right = [0, 1, 0, h];
      break;
    case 5: // L R C Ls Rs
      left = [1, 0, h, h, 0];
      right = [0, 1, h, 0, h];
      break;
    case 6: // L R C LFE Ls Rs
      left = [1, 0, h, 0, h, 0];
      right = [0, 1, h, 0, 0, h];
      break;
    case 7: // L R C LFE Cs Ls Rs
      left = [1, 0, h, 0, h * h, h, 0];
      right = [0, 1, h, 0, h * h, 0, h];
      break;
    case 8: // L R C LFE Lrs Rrs Ls Rs
      left = [1, 0, h, 0, h, 0, h, 0];
      right = [0, 1, h, 0, 0, h, 0, h];
      break;
    default:
      throw new KookRtpError(
        'UNSUPPORTED_FORMAT',
        `cannot downmix ${String(channels)} channels to stereo: expected 1..8 channels; remix the source first`,
      );
  }
  const rowSum = (row: number[]): number => row.reduce((s, g) => s + Math.abs(g), 0);
  const norm = 1 / Math.max(rowSum(left), rowSum(right));
  return {
    left: Float64Array.from(left, (g) => g * norm),
    right: Float64Array.from(right, (g) => g * norm),
    mono: false,
    norm,
  };
}

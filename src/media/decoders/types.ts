/**
 * What every decoder produces: blocks of planar float PCM at the source's rate, pulled one at a time.
 */
import { KookRtpError } from '../../errors.js';

/** One block of decoded audio: `planar[c]` holds `length` samples of channel c, in [-1, 1]. */
export interface PcmBlock {
  readonly planar: readonly Float32Array[];
  readonly length: number;
}

/** A pull-based PCM decoder over a byte input. */
export interface PcmSource {
  readonly sampleRate: number;
  readonly channels: number;
  /**
   * @returns the next block, or null at the end.
   * @throws {@link KookRtpError} `DECODE_FAILED` (corrupt or truncated input) and the input's errors.
   */
  next(): Promise<PcmBlock | null>;
  /** Frees the decoder (WASM memory) and the input. Safe to call twice. */
  close(): Promise<void>;
}

/** Mutes a library's console.error chatter during a synchronous call: errors are reported through return values. */
export function quietly<T>(fn: () => T): T {
  const orig = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = orig;
  }
}

/**
 * Checks a decoder's output block against the channel count its header promised. A corrupt frame can make a decoder
 * return fewer channels or shorter arrays than the stream header said; that is a file broken half way, not a caller
 * error, so it maps to `DECODE_FAILED`.
 *
 * @param block - what the decoder returned.
 * @param channels - the channel count the header (and the framer) expect.
 * @param what - the decoder's name, for the message.
 * @throws {@link KookRtpError} `DECODE_FAILED` when the block has fewer than `channels` arrays, a bad `length`, or an
 *   array shorter than `length`.
 */
export function checkPcmBlock(block: PcmBlock, channels: number, what: string): void {
  const { planar, length } = block;
  if (!Array.isArray(planar) || planar.length < channels) {
    const got = Array.isArray(planar) ? planar.length : 0;
    throw new KookRtpError('DECODE_FAILED', `${what} decoded ${got} channel(s) where the stream header says ${channels}: the file is corrupt`);
  }
  if (!Number.isInteger(length) || length < 0) {
    throw new KookRtpError('DECODE_FAILED', `${what} decoder returned an invalid block length ${String(length)}: the file is corrupt`);
  }
  for (let c = 0; c < channels; c++) {
    const a = planar[c];
    if (!(a instanceof Float32Array) || a.length < length) {
      throw new KookRtpError('DECODE_FAILED', `${what} decoder returned channel ${c} with ${a instanceof Float32Array ? a.length : 0} of ${length} samples: the file is corrupt`);
    }
  }
}

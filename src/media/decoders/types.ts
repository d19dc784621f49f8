/**
 * What every decoder produces: blocks of planar float PCM at the source's rate, pulled one at a time.
 */

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

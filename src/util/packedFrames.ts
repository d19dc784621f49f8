/**
 * Opus frames packed for a postMessage between threads: one byte buffer plus offsets and sample counts, transferred
 * (not copied) across, never one message per frame.
 */

/** A frame as it crosses: the bytes and its 48 kHz sample count. */
export interface PlainFrame {
  readonly data: Uint8Array;
  readonly samples: number;
}

/** Frames packed for a postMessage: one byte buffer plus offsets and sample counts. */
export interface PackedFrames {
  readonly bytes: Uint8Array;
  /** Frame i is `bytes[ends[i-1] .. ends[i]]`. */
  readonly ends: Uint32Array;
  readonly samples: Uint32Array;
}

/**
 * Packs frames into one buffer (copied once; the buffer can then be transferred).
 *
 * @param frames - the frames.
 * @returns the packed batch.
 */
export function packFrames(frames: readonly PlainFrame[]): PackedFrames {
  let total = 0;
  for (const f of frames) total += f.data.length;
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(frames.length);
  const samples = new Uint32Array(frames.length);
  let off = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as PlainFrame;
    bytes.set(f.data, off);
    off += f.data.length;
    ends[i] = off;
    samples[i] = f.samples;
  }
  return { bytes, ends, samples };
}

/**
 * Unpacks a batch into frames whose data are views of the batch's buffer (zero copy).
 *
 * @param packed - the batch.
 * @returns the frames.
 */
export function unpackFrames(packed: PackedFrames): PlainFrame[] {
  const out: PlainFrame[] = new Array(packed.ends.length);
  let start = 0;
  for (let i = 0; i < packed.ends.length; i++) {
    const end = packed.ends[i] as number;
    out[i] = { data: packed.bytes.subarray(start, end), samples: packed.samples[i] as number };
    start = end;
  }
  return out;
}

/** The buffers of a packed batch, for the transfer list. */
export function packedTransfer(packed: PackedFrames): ArrayBuffer[] {
  return [packed.bytes.buffer as ArrayBuffer, packed.ends.buffer as ArrayBuffer, packed.samples.buffer as ArrayBuffer];
}

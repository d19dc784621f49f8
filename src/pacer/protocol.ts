/**
 * The messages between the host thread and the pacer thread: plain data, frames packed into one transferable buffer
 * per batch (never one message per packet).
 */

import type { PacketKind, TransportInfo } from '../transport/transport.js';
import type { PacerEvent, PacerFrame, StreamConfig } from './stream.js';
import type { SenderStats } from './stats.js';

/** Where a stream sends; opened inside the pacer thread. */
export interface PacerTarget {
  readonly host: string;
  readonly port: number;
  readonly rtcpPort?: number;
  readonly rtcpMux: boolean;
  readonly localPort?: number;
}

/** Frames packed for a postMessage: one byte buffer plus offsets and sample counts. */
export interface PackedFrames {
  readonly bytes: Uint8Array;
  /** Frame i is `bytes[ends[i-1] .. ends[i]]`. */
  readonly ends: Uint32Array;
  readonly samples: Uint32Array;
}

/** Host → pacer. */
export type PacerCommand =
  | {
      readonly op: 'open';
      readonly id: number;
      readonly config: StreamConfig;
      readonly target: PacerTarget;
      readonly refillAt: number;
      /** Send copies of every datagram back (recorders). */
      readonly packets: boolean;
    }
  | { readonly op: 'push'; readonly id: number; readonly seg: number; readonly frames: PackedFrames }
  | { readonly op: 'end'; readonly id: number; readonly seg: number; readonly endSilence: boolean }
  | { readonly op: 'flush'; readonly id: number; readonly seg: number | undefined; readonly silence: boolean }
  | { readonly op: 'pause'; readonly id: number }
  | { readonly op: 'resume'; readonly id: number }
  | { readonly op: 'close'; readonly id: number }
  /** Test hook: crash the thread (a worker that dies must not hang the host). */
  | { readonly op: 'crash' };

/** One stream's news in a batch. */
export interface StreamNews {
  readonly id: number;
  readonly events: PacerEvent[];
  /** Frames sent or dropped so far (backpressure). */
  consumed: number;
  /** A fresh snapshot, when something worth one happened (progress, a segment's end, a state change). */
  stats?: Omit<SenderStats, 'status'>;
  /** Copies of the datagrams sent, with the pacer clock's time (see `timeOrigin`). */
  packets?: { bytes: Uint8Array; kind: PacketKind; time: number }[];
}

/** Pacer → host. */
export type PacerReply =
  | { readonly type: 'opened'; readonly id: number; readonly info: TransportInfo }
  | { readonly type: 'openFailed'; readonly id: number; readonly error: { code: string; message: string } }
  | { readonly type: 'closed'; readonly id: number; readonly stats: Omit<SenderStats, 'status'> }
  | { readonly type: 'batch'; readonly news: StreamNews[] }
  | { readonly type: 'ready'; readonly timeOrigin: number };

/**
 * Packs frames into one buffer (copied once; the buffer can then be transferred).
 *
 * @param frames - the frames.
 * @returns the packed batch.
 */
export function packFrames(frames: readonly PacerFrame[]): PackedFrames {
  let total = 0;
  for (const f of frames) total += f.data.length;
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(frames.length);
  const samples = new Uint32Array(frames.length);
  let off = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as PacerFrame;
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
export function unpackFrames(packed: PackedFrames): PacerFrame[] {
  const out: PacerFrame[] = new Array(packed.ends.length);
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

/**
 * The messages between the host thread and the pacer thread: plain data, frames packed into one transferable buffer
 * per batch (never one message per packet).
 */

import type { PacketKind, TransportInfo } from '../transport/transport.js';
import type { PackedFrames } from '../util/packedFrames.js';
import type { PacerEvent, StreamConfig } from './stream.js';
import type { SenderStats } from './stats.js';

/** Where a stream sends; opened inside the pacer thread. */
export interface PacerTarget {
  readonly host: string;
  readonly port: number;
  readonly rtcpPort?: number;
  readonly rtcpMux: boolean;
  readonly localPort?: number;
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
  /** Frames `start .. start + count - 1` of the enclosing batch's frames, for segment `seg`. */
  | { readonly op: 'push'; readonly id: number; readonly seg: number; readonly epoch: number; readonly start: number; readonly count: number }
  | { readonly op: 'truncate'; readonly id: number; readonly seg: number; readonly keep: number; readonly epoch: number }
  | { readonly op: 'end'; readonly id: number; readonly seg: number; readonly endSilence: boolean }
  | { readonly op: 'flush'; readonly id: number; readonly seg: number | undefined; readonly silence: boolean }
  | { readonly op: 'pause'; readonly id: number }
  | { readonly op: 'resume'; readonly id: number }
  | { readonly op: 'resetLateness'; readonly id: number }
  | { readonly op: 'close'; readonly id: number }
  /** Test hook: crash the thread (a worker that dies must not hang the host). */
  | { readonly op: 'crash' };

/**
 * What the host sends: every command of one turn of its event loop, in order, and the frames of all their pushes
 * packed into one transferred buffer (1000 streams cost one message per turn, not one per stream).
 */
export interface PacerBatch {
  readonly cmds: readonly PacerCommand[];
  readonly frames: PackedFrames;
}

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

export type { PackedFrames } from '../util/packedFrames.js';

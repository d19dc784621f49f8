/**
 * Statistics and event payloads of an RTP sender. Plain readonly data; event payloads are tagged by `type`.
 */

import type { LatenessSummary } from './histogram.js';
import type { RemoteReport, RtcpCounters } from './rtcpSession.js';
import type { PacketKind } from '../transport/transport.js';

/** The sender's lifecycle, as a discriminated union on `status`. */
export type SenderState =
  | { readonly status: 'new' }
  | { readonly status: 'starting' }
  /** Started; nothing is being played (between plays). */
  | { readonly status: 'idle' }
  | { readonly status: 'playing' }
  | { readonly status: 'paused' }
  | { readonly status: 'closing' }
  | { readonly status: 'closed' };

/** A snapshot of everything a sender counts. */
export interface SenderStats {
  /** Current lifecycle status. */
  readonly status: SenderState['status'];
  /** SSRC. */
  readonly ssrc: number;
  /** RTP packets sent (silence frames included). */
  readonly packetsSent: number;
  /** Opus silence frames among them. */
  readonly silenceFramesSent: number;
  /** Bytes sent three ways: RTP payload, RTP (header + payload), and IP (RTP + IP/UDP headers). */
  readonly bytes: { readonly payload: number; readonly rtp: number; readonly ip: number };
  /** Bitrate of RTP bytes (header + payload) over the last 1 s, and the highest over any 1 s window, bits/s. */
  readonly bitrate: { readonly currentBps: number; readonly maxBps: number };
  /** Send lateness (actual minus scheduled send time). */
  readonly lateness: LatenessSummary;
  /** Event-loop stalls that forced a re-anchor of the schedule. */
  readonly stalls: number;
  /** Deadlines that found no frame ready. */
  readonly underruns: number;
  /** The bitrate guard (undefined when disabled). */
  readonly guard:
    | {
        /** Bytes allowed per window, as counted. */
        readonly limitBytes: number;
        /** Counted bytes in the window ending now. */
        readonly windowBytes: number;
        /** Highest counted bytes in any window so far. */
        readonly maxWindowBytes: number;
        /** Packets that had to wait. */
        readonly delayedPackets: number;
        /** How far sending lags behind the media schedule now, ms. */
        readonly backlogMs: number;
        /** The largest backlog seen, ms. */
        readonly maxBacklogMs: number;
        /** Whether a lower bitrate is currently advised. */
        readonly adviceActive: boolean;
      }
    | undefined;
  /** RTCP counters. */
  readonly rtcp: RtcpCounters;
  /** The last report about us from the far end. */
  readonly remote: RemoteReport | undefined;
  /** Send failures (all of them, not only the reported ones) and datagrams skipped while backing off. */
  readonly sendErrors: number;
  readonly sendSkipped: number;
  /** The next sequence number, its rollover count, and the next timestamp. */
  readonly sequenceNumber: number;
  readonly rollovers: number;
  readonly timestamp: number;
  /** Frames waiting in the lookahead queue. */
  readonly queued: number;
}

/** Emitted every second while the sender is started. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly stats: SenderStats;
}

/** A send failure (first of a streak, or backoff grew). */
export interface SendErrorEvent {
  readonly type: 'sendError';
  readonly kind: PacketKind;
  /** `ECONNREFUSED`, `ENETUNREACH`, `EPERM`, ... */
  readonly code: string;
  readonly error: Error;
  /** Failures in the current streak. */
  readonly consecutive: number;
  /** Sends are skipped for this long, ms (0: not backing off). */
  readonly backoffMs: number;
}

/** The event loop stalled past the threshold; the schedule was re-anchored (no catch-up burst). */
export interface StallEvent {
  readonly type: 'stall';
  /** How late the packet was, ms: the latency the stream gained. */
  readonly lateMs: number;
}

/** No frame was ready at a deadline. */
export interface UnderrunEvent {
  readonly type: 'underrun';
  /** Underruns so far. */
  readonly count: number;
}

/**
 * Advice for the encoder. `reason: 'backlog'`: the guard holds frames back; encode at `bps` or lower.
 * `reason: 'drained'`: the backlog is gone; `bps` is the highest encoder bitrate that fits the limit.
 */
export interface BitrateAdviceEvent {
  readonly type: 'bitrateAdvice';
  readonly reason: 'backlog' | 'drained';
  /** Opus payload bitrate, bits/s. */
  readonly bps: number;
  /** The backlog when the advice was made, ms. */
  readonly backlogMs: number;
}

/** How a `play()` ended. */
export interface PlayResult {
  /**
   * `finished`: the iterable ended and every frame was sent. `aborted`: the signal fired. `closed`: the sender was
   * closed. `error`: the iterable threw (frames before the error were sent) or yielded an invalid frame.
   */
  readonly reason: 'finished' | 'aborted' | 'closed' | 'error';
  /** The error, for `reason: 'error'`. */
  readonly error?: unknown;
}

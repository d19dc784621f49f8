/**
 * The messages between the host and a media worker: plain data; frames packed into one transferred buffer per batch.
 */

import type { PackedFrames } from '../util/packedFrames.js';
import type { TrackInfo } from './probe.js';
import type { Filters } from './dsp/filters.js';
import type { OverlayOptions, TrackOptions } from './track.js';

/** An input that can cross to a worker. Streams and async iterables cannot: they are opened on the host. */
export type WorkerInput =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'url'; readonly href: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** No music: a bed for overlays (see openOverlayBed). */
  | { readonly kind: 'bed' };

/** An error as it crosses. */
export interface ErrorData {
  readonly code: string;
  readonly message: string;
}

/** A track event as it crosses (see TrackEvent; errors as plain data). */
export type WireTrackEvent =
  | { readonly kind: 'overlayStart'; readonly id: number; readonly frame: number }
  | { readonly kind: 'overlayEnd'; readonly id: number; readonly frame: number; readonly error?: ErrorData; readonly read?: number; readonly clipSec?: number }
  | { readonly kind: 'overlayHandover'; readonly id: number; readonly frame: number; readonly consumedFrames: number };

/** Track options as they cross (no signal: the host closes the job instead). */
export type WorkerTrackOptions = Omit<TrackOptions, 'signal'>;

/** Host → worker. */
export type MediaCommand =
  | { readonly op: 'open'; readonly job: number; readonly input: WorkerInput; readonly options: WorkerTrackOptions; readonly credit: number }
  /** The host has taken `frames` more: produce that many more. */
  | { readonly op: 'credit'; readonly job: number; readonly frames: number }
  | { readonly op: 'volume'; readonly job: number; readonly value: number }
  | { readonly op: 'bitrate'; readonly job: number; readonly bps: number }
  | { readonly op: 'close'; readonly job: number }
  /** Produce again from frame `from` (0-based within the track), re-encoded at the current volume; frames from now on carry `epoch`. */
  | { readonly op: 'replay'; readonly job: number; readonly from: number; readonly epoch: number; readonly credit: number }
  | { readonly op: 'filters'; readonly job: number; readonly filters: Filters }
  | { readonly op: 'crossfade'; readonly job: number; readonly ms: number }
  | { readonly op: 'overlay'; readonly job: number; readonly id: number; readonly input: WorkerInput; readonly options: OverlayOptions }
  | { readonly op: 'overlayRemove'; readonly job: number; readonly id: number }
  | { readonly op: 'handOver'; readonly job: number; readonly frame?: number; readonly epoch?: number; readonly credit?: number }
  | { readonly op: 'crash' };

/** Worker → host. */
export type MediaReply =
  | { readonly type: 'opened'; readonly job: number; readonly info: TrackInfo }
  | { readonly type: 'frames'; readonly job: number; readonly epoch: number; readonly frames: PackedFrames }
  /** The answer to a replay: `ok` false when the frames were not held (nothing was changed). */
  | { readonly type: 'replayed'; readonly job: number; readonly epoch: number; readonly ok: boolean }
  | { readonly type: 'events'; readonly job: number; readonly events: readonly WireTrackEvent[] }
  /** The answer to an 'overlay': its first frames are decoded (or it failed). */
  | { readonly type: 'overlayAdded'; readonly job: number; readonly id: number; readonly error?: ErrorData }
  | { readonly type: 'end'; readonly job: number; readonly error?: ErrorData; readonly tail?: Float32Array };

/**
 * A media worker: decode → resample → volume → Opus encode for many tracks at once, ahead of time, in batches, off the
 * host's thread. A thin shell around {@link openTrack}: each job is one track, driven by plain messages, sending its
 * frames packed in batches and producing only as far as the host's credit goes (backpressure).
 */

import { parentPort, workerData } from 'node:worker_threads';
import { isKookRtpError } from '../errors.js';
import { setThreadNice } from '../util/threadPriority.js';
import { packFrames, packedTransfer, type PlainFrame } from '../util/packedFrames.js';
import type { OpusFrame } from './frame.js';
import type { MediaCommand, MediaReply } from './workerProtocol.js';
import { openOverlayBed, openTrack, type Track, type TrackEvent } from './track.js';
import type { WireTrackEvent, WorkerInput } from './workerProtocol.js';
import type { TrackInput } from './input.js';

const port = parentPort;
if (port === null) throw new Error('media/worker.ts runs as a worker thread');
// Normal priority by default: a worker starved on a busy machine would empty its stream's buffer.
const nice = ((workerData ?? {}) as { nice?: number }).nice;
if (nice !== undefined) setThreadNice(nice);

interface Job {
  readonly abort: AbortController;
  track: Track | undefined;
  credit: number;
  wake: (() => void) | undefined;
  closed: boolean;
  /** Frames taken from the track so far (sent or in the batch). */
  produced: number;
  epoch: number;
  /** Frames taken but not yet sent. */
  batch: PlainFrame[];
}

const jobs = new Map<number, Job>();
/** Frames per message: 100 ms of audio. */
const BATCH = 5;

function post(reply: MediaReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

function inputOf(w: WorkerInput): TrackInput {
  return w.kind === 'url' ? new URL(w.href) : w.kind === 'path' ? w.path : w.kind === 'bytes' ? w.bytes : new Uint8Array(0);
}

function wireEvent(e: TrackEvent): WireTrackEvent {
  if (e.kind === 'overlayEnd' && e.error !== undefined) return { ...e, error: errorData(e.error) };
  return e as WireTrackEvent;
}

function errorData(err: unknown): { code: string; message: string } {
  if (isKookRtpError(err)) return { code: err.code, message: err.message };
  return { code: 'DECODE_FAILED', message: `decoding failed: ${err instanceof Error ? err.message : String(err)}` };
}

async function run(id: number, cmd: Extract<MediaCommand, { op: 'open' }>): Promise<void> {
  const job: Job = { abort: new AbortController(), track: undefined, credit: cmd.credit, wake: undefined, closed: false, produced: 0, epoch: 0, batch: [] };
  jobs.set(id, job);
  try {
    const overlays = cmd.options.overlays?.map((o) => ({ ...o, input: inputOf(o.input as unknown as WorkerInput) }));
    const options = { ...cmd.options, ...(overlays === undefined ? {} : { overlays }), signal: job.abort.signal };
    const track = cmd.input.kind === 'bed' ? await openOverlayBed(options) : await openTrack(inputOf(cmd.input), options);
    job.track = track;
    track.onEvent = (e) => post({ type: 'events', job: id, events: [wireEvent(e)] });
    if (job.closed) {
      await track.close();
      return;
    }
    post({ type: 'opened', job: id, info: track.info });
    const flush = (): void => {
      if (job.batch.length === 0) return;
      const packed = packFrames(job.batch);
      job.batch = [];
      post({ type: 'frames', job: id, epoch: job.epoch, frames: packed }, packedTransfer(packed));
    };
    for await (const frame of track as AsyncIterable<OpusFrame>) {
      if (job.closed) break;
      job.batch.push(frame);
      job.produced++;
      job.credit--;
      if (job.batch.length >= BATCH || job.credit <= 0) flush();
      while (job.credit <= 0 && !job.closed) await new Promise<void>((r) => (job.wake = r));
    }
    flush();
    const tail = track.takeTail?.();
    if (!job.closed) post(tail === undefined ? { type: 'end', job: id } : { type: 'end', job: id, tail }, tail === undefined ? [] : [tail.buffer as ArrayBuffer]);
  } catch (err) {
    if (!job.closed) post({ type: 'end', job: id, error: errorData(err) });
  } finally {
    jobs.delete(id);
    await job.track?.close().catch(() => {});
  }
}

port.on('message', (cmd: MediaCommand) => {
  switch (cmd.op) {
    case 'open':
      void run(cmd.job, cmd);
      return;
    case 'crash':
      // Test hook: a worker that dies must not hang the host.
      throw new Error('media worker crash requested');
    default:
      break;
  }
  const job = jobs.get(cmd.job);
  if (job === undefined) {
    if (cmd.op === 'replay') post({ type: 'replayed', job: cmd.job, epoch: cmd.epoch, ok: false });
    if (cmd.op === 'overlay') post({ type: 'overlayAdded', job: cmd.job, id: cmd.id, error: { code: 'ABORTED', message: 'the track has ended' } });
    return;
  }
  switch (cmd.op) {
    case 'credit': {
      job.credit += cmd.frames;
      const w = job.wake;
      job.wake = undefined;
      w?.();
      return;
    }
    case 'volume':
      if (job.track !== undefined) job.track.volume = cmd.value;
      return;
    case 'bitrate':
      job.track?.setBitrate(cmd.bps);
      return;
    case 'replay': {
      const ok = job.track !== undefined && cmd.from <= job.produced && job.track.rewind(cmd.from);
      if (ok) {
        // The frames not sent yet are among those replayed.
        job.batch = [];
        job.produced = cmd.from;
        job.epoch = cmd.epoch;
        job.credit = cmd.credit;
        const w = job.wake;
        job.wake = undefined;
        w?.();
      }
      if (!ok) {
        // Not held (too far back): go on from here under the new epoch, or the host would drop every frame for good.
        job.epoch = cmd.epoch;
        job.credit = cmd.credit;
        const w = job.wake;
        job.wake = undefined;
        w?.();
      }
      post({ type: 'replayed', job: cmd.job, epoch: cmd.epoch, ok });
      return;
    }
    case 'filters':
      try {
        if (job.track !== undefined) job.track.filters = cmd.filters;
      } catch {
        // validated on the host
      }
      return;
    case 'crossfade':
      if (job.track !== undefined) job.track.crossfadeOutMs = cmd.ms;
      return;
    case 'overlay': {
      const t = job.track;
      if (t?.addOverlay === undefined) {
        post({ type: 'overlayAdded', job: cmd.job, id: cmd.id, error: { code: 'ABORTED', message: 'the track has ended' } });
        return;
      }
      t.addOverlay(cmd.id, inputOf(cmd.input), cmd.options).then(
        () => post({ type: 'overlayAdded', job: cmd.job, id: cmd.id }),
        (err: unknown) => post({ type: 'overlayAdded', job: cmd.job, id: cmd.id, error: errorData(err) }),
      );
      return;
    }
    case 'overlayRemove':
      job.track?.removeOverlay?.(cmd.id);
      return;
    case 'handOver':
      if (cmd.frame !== undefined && job.track !== undefined) {
        job.batch = [];
        job.produced = Math.min(job.produced, cmd.frame);
        job.epoch = cmd.epoch ?? job.epoch;
        job.credit = cmd.credit ?? job.credit;
      }
      job.track?.handOver?.(cmd.frame);
      {
        const w = job.wake;
        job.wake = undefined;
        w?.();
      }
      return;
    case 'close': {
      job.closed = true;
      job.abort.abort();
      const w = job.wake;
      job.wake = undefined;
      w?.();
      return;
    }
  }
});

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
import { openTrack, type Track } from './track.js';

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

function errorData(err: unknown): { code: string; message: string } {
  if (isKookRtpError(err)) return { code: err.code, message: err.message };
  return { code: 'DECODE_FAILED', message: `decoding failed: ${err instanceof Error ? err.message : String(err)}` };
}

async function run(id: number, cmd: Extract<MediaCommand, { op: 'open' }>): Promise<void> {
  const job: Job = { abort: new AbortController(), track: undefined, credit: cmd.credit, wake: undefined, closed: false, produced: 0, epoch: 0, batch: [] };
  jobs.set(id, job);
  try {
    const input = cmd.input.kind === 'url' ? new URL(cmd.input.href) : cmd.input.kind === 'path' ? cmd.input.path : cmd.input.bytes;
    const track = await openTrack(input, { ...cmd.options, signal: job.abort.signal });
    job.track = track;
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
    if (!job.closed) post({ type: 'end', job: id });
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
      post({ type: 'replayed', job: cmd.job, epoch: cmd.epoch, ok });
      return;
    }
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

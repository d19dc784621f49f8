/**
 * The media worker pool, host side: tracks opened in worker threads ({@link openTrackInWorker}) look like any
 * {@link Track} to the player, but their decoding, resampling and Opus encoding run on other cores, ahead of time,
 * in batches, with credit-based backpressure (a worker produces only what the host has room for).
 *
 * The pool is sized from `os.availableParallelism()` (configurable with {@link configureMediaPool} or
 * `KOOK_RTP_MEDIA_WORKERS`), started lazily, and unreferenced while idle so it never keeps the process alive. A worker
 * that dies ends its tracks with `WORKER_CRASHED` (the player reports the track and goes on); the next track opens on
 * a fresh worker.
 */

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { type ErrorCode, KookRtpError } from '../errors.js';
import type { OpusFrame } from '../media/frame.js';
import type { TrackInput } from '../media/input.js';
import type { TrackInfo } from '../media/probe.js';
import { checkCrossfadeMs, openTrack, type OverlayOptions, type Track, type TrackEvent, type TrackOptions } from '../media/track.js';
import type { Filters } from '../media/dsp/filters.js';
import { validateFilters } from '../media/dsp/filters.js';
import type { MediaCommand, MediaReply, WireTrackEvent, WorkerInput } from '../media/workerProtocol.js';
import { unpackFrames } from '../util/packedFrames.js';
import { startWorker } from './threads.js';

/** Options of the media pool. */
export interface MediaPoolOptions {
  /** Worker threads. Default `KOOK_RTP_MEDIA_WORKERS` or `os.availableParallelism()`. */
  workers?: number;
  /** Frames a worker may produce ahead of what the host has taken. Default 10 (200 ms). */
  creditFrames?: number;
}

let poolOptions: MediaPoolOptions = {};
let pool: MediaPool | undefined;

/** Sets the pool's options (before the first track opens in a worker; later calls apply to workers started after). */
export function configureMediaPool(options: MediaPoolOptions): void {
  poolOptions = { ...options };
}

/** Whether `input` can be opened in a worker (paths, URLs, bytes: yes; streams and iterables: no). */
export function workerInput(input: TrackInput): WorkerInput | undefined {
  if (typeof input === 'string') return /^https?:\/\//i.test(input) ? { kind: 'url', href: input } : { kind: 'path', path: input };
  if (input instanceof URL) return input.protocol === 'file:' ? { kind: 'path', path: decodeURIComponent(input.pathname) } : { kind: 'url', href: input.href };
  if (input instanceof Uint8Array) return { kind: 'bytes', bytes: input };
  return undefined;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly jobs: Map<number, RemoteTrack>;
  dead: boolean;
}

class MediaPool {
  readonly #size: number;
  readonly credit: number;
  readonly #workers: PoolWorker[] = [];
  #nextJob = 1;

  constructor(options: MediaPoolOptions) {
    const env = Number(process.env['KOOK_RTP_MEDIA_WORKERS']);
    const n = options.workers ?? (Number.isInteger(env) && env > 0 ? env : availableParallelism());
    this.#size = Math.max(1, Math.min(64, Math.floor(n)));
    this.credit = Math.max(2, options.creditFrames ?? 10);
  }

  /** Picks the least busy worker (starting one while below the pool size). */
  assign(track: RemoteTrack): { w: PoolWorker; job: number } {
    // The whole pool starts at once: a worker takes a while to load, and the next track must not wait for that.
    while (this.#workers.length < this.#size) this.#spawn();
    const alive = this.#workers.filter((w) => !w.dead);
    const w = alive.reduce((best, x) => (x.jobs.size < best.jobs.size ? x : best));
    const job = this.#nextJob++;
    w.jobs.set(job, track);
    if (w.jobs.size === 1) w.worker.ref();
    return { w, job };
  }

  release(w: PoolWorker, job: number): void {
    if (w.jobs.delete(job) && w.jobs.size === 0 && !w.dead) w.worker.unref();
  }

  /** Test hook: crash every worker. */
  crashAll(): void {
    for (const w of this.#workers) if (!w.dead) w.worker.postMessage({ op: 'crash' } satisfies MediaCommand);
  }

  #spawn(): PoolWorker {
    // A small young generation: a media worker allocates fast (decoded PCM), and V8 would otherwise grow it to tens of
    // MB per worker. Measured at 40 streams: 232 MB for the process with 4 MB, 306 MB with 16, no CPU difference.
    const env = Number(process.env['KOOK_RTP_MEDIA_YOUNG_MB']);
    const young = Number.isFinite(env) && env > 0 ? env : 4;
    const niceEnv = process.env['KOOK_RTP_MEDIA_NICE'];
    const nice = niceEnv === undefined || niceEnv === '' || !Number.isInteger(Number(niceEnv)) ? undefined : Number(niceEnv);
    const worker = startWorker(import.meta.url, '../media/worker', {
      resourceLimits: { maxYoungGenerationSizeMb: young },
      ...(nice === undefined ? {} : { workerData: { nice } }),
    });
    const w: PoolWorker = { worker, jobs: new Map(), dead: false };
    this.#workers.push(w);
    worker.on('message', (m: MediaReply) => w.jobs.get(m.job)?.onReply(m));
    const die = (err: Error): void => {
      if (w.dead) return;
      w.dead = true;
      const i = this.#workers.indexOf(w);
      if (i >= 0) this.#workers.splice(i, 1);
      const error = new KookRtpError('WORKER_CRASHED', `a media worker died: ${err.message}`, { cause: err });
      const jobs = [...w.jobs.values()];
      w.jobs.clear();
      for (const t of jobs) t.crashed(error);
      void worker.terminate();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return w;
  }
}

function getPool(): MediaPool {
  pool ??= new MediaPool(poolOptions);
  return pool;
}

/** Test hook: makes every media worker crash. */
export function crashMediaWorkersForTest(): void {
  pool?.crashAll();
}

/** A track decoded and encoded in a media worker. */
class RemoteTrack implements Track {
  #info: TrackInfo | undefined;
  #volume: number;
  readonly #w: PoolWorker;
  readonly #job: number;
  readonly #pool: MediaPool;
  readonly #frames: OpusFrame[] = [];
  #head = 0;
  #ended = false;
  #error: KookRtpError | undefined;
  #wake: (() => void) | undefined;
  #opened: { resolve: (t: Track) => void; reject: (e: KookRtpError) => void } | undefined;
  #taken = 0;
  #closed = false;
  #iterating = false;
  /** Frames handed out so far (the index of the next one). */
  #yielded = 0;
  /** Frames of an older epoch (made before a replay) are dropped. */
  #epoch = 0;
  #filters: Filters;
  #crossfadeOutMs: number;
  #onEvent: ((e: TrackEvent) => void) | undefined;
  readonly #pendingEvents: TrackEvent[] = [];
  readonly #overlayWaits = new Map<number, { resolve: () => void; reject: (e: KookRtpError) => void }>();
  #tail: Float32Array | undefined;

  constructor(p: MediaPool, input: WorkerInput, options: TrackOptions) {
    this.#pool = p;
    this.#volume = options.volume ?? 1;
    this.#filters = options.filters ?? {};
    this.#crossfadeOutMs = options.crossfadeOutMs ?? 0;
    const { w, job } = p.assign(this);
    this.#w = w;
    this.#job = job;
    const { signal, ...plain } = options;
    const crossing =
      plain.overlays === undefined
        ? plain
        : { ...plain, overlays: plain.overlays.map((o) => ({ ...o, input: workerInput(o.input) as unknown as TrackInput })) };
    this.#post({ op: 'open', job, input, options: crossing, credit: p.credit });
    signal?.addEventListener('abort', () => this.#fail(new KookRtpError('ABORTED', 'the track was aborted')), { once: true });
  }

  /** Resolves once the worker has probed and opened the input. */
  ready(): Promise<Track> {
    if (this.#info !== undefined) return Promise.resolve(this);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise<Track>((resolve, reject) => (this.#opened = { resolve, reject }));
  }

  get info(): TrackInfo {
    return this.#info as TrackInfo;
  }

  get volume(): number {
    return this.#volume;
  }

  set volume(v: number) {
    this.#volume = v;
    this.#post({ op: 'volume', job: this.#job, value: v });
  }

  setBitrate(bps: number): void {
    this.#post({ op: 'bitrate', job: this.#job, bps });
  }

  get filters(): Filters {
    return this.#filters;
  }

  set filters(f: Filters) {
    this.#filters = validateFilters(f);
    this.#post({ op: 'filters', job: this.#job, filters: this.#filters });
  }

  get crossfadeOutMs(): number {
    return this.#crossfadeOutMs;
  }

  set crossfadeOutMs(ms: number) {
    this.#crossfadeOutMs = checkCrossfadeMs(ms);
    this.#post({ op: 'crossfade', job: this.#job, ms });
  }

  get onEvent(): ((e: TrackEvent) => void) | undefined {
    return this.#onEvent;
  }

  set onEvent(f: ((e: TrackEvent) => void) | undefined) {
    this.#onEvent = f;
    if (f !== undefined) for (const e of this.#pendingEvents.splice(0)) f(e);
  }

  async addOverlay(id: number, input: TrackInput, options: OverlayOptions = {}): Promise<void> {
    if (this.#closed || this.#ended || this.#error !== undefined) throw new KookRtpError('ABORTED', 'the track has ended');
    const wi = workerInput(input);
    if (wi === undefined) throw new KookRtpError('INVALID_ARGUMENT', 'an overlay for a media worker is a path, URL or bytes (the player reads streams whole first)');
    return new Promise<void>((resolve, reject) => {
      this.#overlayWaits.set(id, { resolve, reject });
      this.#post({ op: 'overlay', job: this.#job, id, input: wi, options });
      if (this.#w.dead) reject(new KookRtpError('WORKER_CRASHED', 'the media worker died'));
    });
  }

  removeOverlay(id: number): boolean {
    this.#post({ op: 'overlayRemove', job: this.#job, id });
    return true;
  }

  handOver(frame?: number): void {
    if (frame !== undefined && frame <= this.#yielded && !this.#closed) {
      // What waits here from `frame` on is dropped: the worker hands over from there.
      this.#frames.length = 0;
      this.#head = 0;
      this.#yielded = frame;
      this.#epoch++;
      this.#taken = 0;
      this.#post({ op: 'handOver', job: this.#job, frame, epoch: this.#epoch, credit: this.#pool.credit });
      return;
    }
    this.#post({ op: 'handOver', job: this.#job });
  }

  takeTail(): Float32Array | undefined {
    const t = this.#tail;
    this.#tail = undefined;
    return t;
  }

  #abortOverlayWaits(): void {
    const error = new KookRtpError('ABORTED', 'the track ended while the overlay was opening');
    for (const w of this.#overlayWaits.values()) w.reject(error);
    this.#overlayWaits.clear();
  }

  #event(e: WireTrackEvent): void {
    const ev: TrackEvent =
      e.kind === 'overlayEnd' && e.error !== undefined ? { ...e, error: new KookRtpError(e.error.code as ErrorCode, e.error.message) } : (e as TrackEvent);
    if (this.#onEvent === undefined) this.#pendingEvents.push(ev);
    else this.#onEvent(ev);
  }

  rewind(frame: number): boolean {
    if (!Number.isInteger(frame) || frame < 0 || frame > this.#yielded || this.#closed) return false;
    if (frame === this.#yielded && this.#head === this.#frames.length) return true;
    // Whatever waits here was made before the change: the worker makes it again from `frame` on.
    this.#frames.length = 0;
    this.#head = 0;
    this.#yielded = frame;
    this.#epoch++;
    this.#taken = 0;
    this.#post({ op: 'replay', job: this.#job, from: frame, epoch: this.#epoch, credit: this.#pool.credit });
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abortOverlayWaits();
    this.#post({ op: 'close', job: this.#job });
    this.#pool.release(this.#w, this.#job);
    this.#ended = true;
    this.#frames.length = 0;
    this.#head = 0;
    this.#kick();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<OpusFrame> {
    if (this.#iterating) throw new KookRtpError('INVALID_ARGUMENT', 'a track can be iterated once');
    this.#iterating = true;
    try {
      for (;;) {
        if (this.#head < this.#frames.length) {
          const f = this.#frames[this.#head++] as OpusFrame;
          if (this.#head === this.#frames.length) {
            this.#frames.length = 0;
            this.#head = 0;
          }
          // Credit back in batches: the worker produces only what was taken.
          this.#yielded++;
          if (++this.#taken >= 5) {
            this.#post({ op: 'credit', job: this.#job, frames: this.#taken });
            this.#taken = 0;
          }
          yield f;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#ended) return;
        await new Promise<void>((r) => (this.#wake = r));
      }
    } finally {
      await this.close();
    }
  }

  onReply(m: MediaReply): void {
    switch (m.type) {
      case 'opened':
        this.#info = m.info;
        this.#opened?.resolve(this);
        this.#opened = undefined;
        return;
      case 'frames':
        if (this.#closed || m.epoch !== this.#epoch) return;
        for (const f of unpackFrames(m.frames)) this.#frames.push(f);
        this.#kick();
        return;
      case 'replayed':
        return;
      case 'events':
        for (const e of m.events) this.#event(e);
        return;
      case 'overlayAdded': {
        const w = this.#overlayWaits.get(m.id);
        this.#overlayWaits.delete(m.id);
        if (m.error === undefined) w?.resolve();
        else w?.reject(new KookRtpError(m.error.code as ErrorCode, m.error.message));
        return;
      }
      case 'end':
        if (m.tail !== undefined) this.#tail = m.tail;
        if (m.error !== undefined) {
          this.#fail(new KookRtpError(m.error.code as ErrorCode, m.error.message));
          return;
        }
        this.#ended = true;
        this.#pool.release(this.#w, this.#job);
        // An overlay asked for as the track ended: its answer cannot reach this track any more.
        this.#abortOverlayWaits();
        this.#kick();
        return;
    }
  }

  crashed(error: KookRtpError): void {
    this.#fail(error);
  }

  #fail(error: KookRtpError): void {
    for (const w of this.#overlayWaits.values()) w.reject(error);
    this.#overlayWaits.clear();
    if (this.#error !== undefined || this.#closed) return;
    this.#error = error;
    this.#pool.release(this.#w, this.#job);
    this.#opened?.reject(error);
    this.#opened = undefined;
    if (error.code === 'ABORTED') this.#post({ op: 'close', job: this.#job });
    this.#kick();
  }

  #kick(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #post(cmd: MediaCommand, transfer: ArrayBuffer[] = []): void {
    if (this.#w.dead) return;
    this.#w.worker.postMessage(cmd, transfer);
  }
}

/** Opens a bed for overlays in a media worker (see openOverlayBed). */
export function openOverlayBedInWorker(options: TrackOptions = {}): Promise<Track> {
  return new RemoteTrack(getPool(), { kind: 'bed' }, options).ready();
}

/**
 * Opens a track in a media worker (see the module comment); inputs that cannot cross threads (Node streams, async
 * iterables) are opened here with {@link openTrack} instead.
 *
 * @param input - path, URL or bytes (others fall back to this thread).
 * @param options - as {@link openTrack}.
 * @returns the track, once probed and opened.
 * @throws {@link KookRtpError} as {@link openTrack}; `WORKER_CRASHED` when the worker died while opening.
 */
export async function openTrackInWorker(input: TrackInput, options: TrackOptions = {}): Promise<Track> {
  const wi = workerInput(input);
  if (wi === undefined) return openTrack(input, options);
  return new RemoteTrack(getPool(), wi, options).ready();
}

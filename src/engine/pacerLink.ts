/**
 * How a host-side {@link RtpSender} reaches its stream's pacing core: in the process-wide pacer thread
 * ({@link ThreadLink}), or in this thread on an injected scheduler ({@link LocalLink}: fake-clock tests, hosts that
 * forbid workers). Both run the same {@link PacedStream}; only the edge differs.
 */

import type { Worker } from 'node:worker_threads';
import { KookRtpError, type ErrorCode } from '../errors.js';
import type { LatenessHistogram } from '../pacer/histogram.js';
import type { PacerBatch, PacerCommand, PacerReply, PacerTarget, StreamNews } from '../pacer/protocol.js';
import { packFrames, packedTransfer } from '../util/packedFrames.js';
import type { Scheduler } from '../pacer/scheduler.js';
import type { SchedulerPrecision } from '../pacer/scheduler.js';
import type { SenderStats } from '../pacer/stats.js';
import { PacedStream, type PacerEvent, type PacerFrame, type StreamConfig } from '../pacer/stream.js';
import type { PacketKind, PacketTransport, TransportInfo } from '../transport/transport.js';
import type { RtpSequencer } from '../wire/rtp/sequencer.js';
import { startWorker } from './threads.js';

/** What a link reports to its sender. */
export interface LinkListener {
  event(event: PacerEvent): void;
  /** `consumed`: frames sent or dropped so far. */
  space(consumed: number): void;
  /** Datagrams sent, with host-clock times (only when asked for). */
  packet?(bytes: Uint8Array, kind: PacketKind, timeMs: number): void;
  /** The pacer thread died: the stream is gone. */
  crashed(error: KookRtpError): void;
}

/** The stream operations a sender needs. */
export interface PacerLink {
  open(): Promise<TransportInfo>;
  push(seg: number, frames: readonly PacerFrame[], epoch: number): void;
  truncate(seg: number, keep: number, epoch: number): void;
  end(seg: number, endSilence: boolean): void;
  flush(seg: number | undefined, silence: boolean): void;
  pause(): void;
  resume(): void;
  resetLateness(): void;
  /** BYE, socket closed. Never rejects. */
  close(): Promise<void>;
  /** The latest counters (in a thread: as of the last batch, at most a second old; exact after a segment's end). */
  stats(): Omit<SenderStats, 'status'> | undefined;
  /** Frames sent or dropped so far, as last reported. */
  readonly consumed: number;
  readonly latenessHistogram: LatenessHistogram | undefined;
}

// ------------------------------------------------------------------------------------------------ in this thread

/** Runs the stream's core on this thread's scheduler. */
export class LocalLink implements PacerLink {
  readonly #config: StreamConfig;
  readonly #scheduler: Scheduler;
  readonly #openTransport: () => Promise<PacketTransport>;
  readonly #listener: LinkListener;
  readonly #refillAt: number;
  readonly #sequencer: RtpSequencer | undefined;
  readonly #packets: boolean;
  #stream: PacedStream | undefined;

  constructor(args: {
    config: StreamConfig;
    scheduler: Scheduler;
    openTransport: () => Promise<PacketTransport>;
    listener: LinkListener;
    refillAt: number;
    sequencer?: RtpSequencer;
    packets: boolean;
  }) {
    this.#config = args.config;
    this.#scheduler = args.scheduler;
    this.#openTransport = args.openTransport;
    this.#listener = args.listener;
    this.#refillAt = args.refillAt;
    this.#sequencer = args.sequencer;
    this.#packets = args.packets;
  }

  async open(): Promise<TransportInfo> {
    const transport = await this.#openTransport();
    const l = this.#listener;
    this.#stream = new PacedStream(this.#config, {
      scheduler: this.#scheduler,
      transport,
      refillAt: this.#refillAt,
      listener: { event: (e) => l.event(e), space: (c) => l.space(c) },
      ...(this.#sequencer === undefined ? {} : { sequencer: this.#sequencer }),
      ...(this.#packets && l.packet !== undefined ? { onPacket: l.packet.bind(l) } : {}),
    });
    return transport.info;
  }

  push(seg: number, frames: readonly PacerFrame[], epoch: number): void {
    this.#stream?.push(seg, frames, epoch);
  }
  truncate(seg: number, keep: number, epoch: number): void {
    this.#stream?.truncate(seg, keep, epoch);
  }
  end(seg: number, endSilence: boolean): void {
    this.#stream?.end(seg, endSilence);
  }
  flush(seg: number | undefined, silence: boolean): void {
    this.#stream?.flush(seg, silence);
  }
  pause(): void {
    this.#stream?.pause();
  }
  resume(): void {
    this.#stream?.resume();
  }
  resetLateness(): void {
    this.#stream?.resetLateness();
  }
  async close(): Promise<void> {
    await this.#stream?.close();
  }
  stats(): Omit<SenderStats, 'status'> | undefined {
    return this.#stream?.stats();
  }
  get consumed(): number {
    return this.#stream?.consumed ?? 0;
  }
  get latenessHistogram(): LatenessHistogram | undefined {
    return this.#stream?.latenessHistogram;
  }
}

// ------------------------------------------------------------------------------------------------ the pacer thread

/** Options of the process-wide pacer thread, read when it starts. */
export interface PacerThreadOptions {
  /** Scheduler precision inside the thread. Default `KOOK_RTP_PRECISION` or `'balanced'`. */
  precision?: SchedulerPrecision;
  /**
   * Ask for real-time scheduling (SCHED_FIFO 10, through `chrt`) for the pacer thread; granted to root or with
   * CAP_SYS_NICE, otherwise it asks for nice -10, and otherwise stays as it is. Default true unless
   * `KOOK_RTP_PACER_RT=0`.
   */
  realtime?: boolean;
}

interface Handle {
  onReply(reply: PacerReply | StreamNews): void;
  crashed(error: KookRtpError): void;
}

/** The process-wide pacer thread (started on first use, unreferenced while no stream is open). */
class PacerThread {
  readonly #worker: Worker;
  readonly #handles = new Map<number, Handle>();
  #nextId = 1;
  /** Host time = pacer time + this. */
  #offset = 0;
  #dead: KookRtpError | undefined;
  readonly #onDead: () => void;
  #cmds: PacerCommand[] = [];
  #frames: PacerFrame[] = [];
  #flushing = false;

  constructor(onDead: () => void, options: PacerThreadOptions) {
    this.#onDead = onDead;
    const env = process.env['KOOK_RTP_PRECISION'];
    const precision = options.precision ?? (env === 'high' || env === 'low' || env === 'balanced' ? env : 'balanced');
    const realtime = options.realtime ?? process.env['KOOK_RTP_PACER_RT'] !== '0';
    this.#worker = startWorker(import.meta.url, '../pacer/worker', { workerData: { precision, realtime } });
    this.#worker.on('message', (m: PacerReply) => this.#onMessage(m));
    this.#worker.on('error', (err) => this.#die(err));
    this.#worker.on('exit', (code) => this.#die(new Error(`the pacer thread exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
  }

  /** Host-clock ms for a pacer-clock time. */
  hostTime(pacerTime: number): number {
    return pacerTime + this.#offset;
  }

  register(handle: Handle): number {
    if (this.#dead !== undefined) throw this.#dead;
    const id = this.#nextId++;
    this.#handles.set(id, handle);
    if (this.#handles.size === 1) this.#worker.ref();
    return id;
  }

  unregister(id: number): void {
    if (this.#handles.delete(id) && this.#handles.size === 0) this.#worker.unref();
  }

  /** Queues a command; everything queued in one turn of the event loop goes out as one message. */
  post(cmd: PacerCommand): void {
    if (this.#dead !== undefined) return;
    this.#cmds.push(cmd);
    this.#flushSoon();
  }

  /** Queues frames for a stream's segment (packed together with every other push of this turn). */
  push(id: number, seg: number, epoch: number, frames: readonly PacerFrame[]): void {
    if (this.#dead !== undefined || frames.length === 0) return;
    this.#cmds.push({ op: 'push', id, seg, epoch, start: this.#frames.length, count: frames.length });
    for (const f of frames) this.#frames.push(f);
    this.#flushSoon();
  }

  #flushSoon(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#cmds.length === 0 || this.#dead !== undefined) return;
    const frames = packFrames(this.#frames);
    const batch: PacerBatch = { cmds: this.#cmds, frames };
    this.#cmds = [];
    this.#frames = [];
    this.#worker.postMessage(batch, frames.ends.length > 0 ? packedTransfer(frames) : []);
  }

  /** Kills the thread (tests: a crash must not hang anything). */
  crashForTest(): void {
    this.post({ op: 'crash' });
  }

  #onMessage(m: PacerReply): void {
    if (m.type === 'ready') {
      this.#offset = m.timeOrigin - performance.timeOrigin;
      return;
    }
    if (m.type === 'batch') {
      for (const n of m.news) this.#handles.get(n.id)?.onReply(n);
      return;
    }
    this.#handles.get(m.id)?.onReply(m);
  }

  #die(err: Error): void {
    if (this.#dead !== undefined) return;
    this.#dead = new KookRtpError('WORKER_CRASHED', `the pacer thread died: ${err.message}`, { cause: err });
    this.#onDead();
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    for (const h of handles) h.crashed(this.#dead);
    void this.#worker.terminate();
  }
}

let shared: PacerThread | undefined;
let sharedOptions: PacerThreadOptions = {};

/** Sets the options the pacer thread starts with (before the first threaded sender opens). */
export function configurePacerThread(options: PacerThreadOptions): void {
  sharedOptions = { ...options };
}

function pacerThread(): PacerThread {
  if (shared === undefined) {
    const t = new PacerThread(() => {
      if (shared === t) shared = undefined;
    }, sharedOptions);
    shared = t;
  }
  return shared;
}

/** Test hook: makes the pacer thread crash. */
export function crashPacerThreadForTest(): void {
  shared?.crashForTest();
}

/** Runs the stream's core in the process-wide pacer thread. */
export class ThreadLink implements PacerLink {
  readonly #config: StreamConfig;
  readonly #target: PacerTarget;
  readonly #listener: LinkListener;
  readonly #refillAt: number;
  readonly #packets: boolean;
  #thread: PacerThread | undefined;
  #id = 0;
  #stats: Omit<SenderStats, 'status'> | undefined;
  #consumed = 0;
  #opened: ((info: TransportInfo) => void) | undefined;
  #openFailed: ((err: KookRtpError) => void) | undefined;
  #closed: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #gone = false;

  constructor(args: { config: StreamConfig; target: PacerTarget; listener: LinkListener; refillAt: number; packets: boolean }) {
    this.#config = args.config;
    this.#target = args.target;
    this.#listener = args.listener;
    this.#refillAt = args.refillAt;
    this.#packets = args.packets;
  }

  open(): Promise<TransportInfo> {
    const thread = pacerThread();
    this.#thread = thread;
    return new Promise<TransportInfo>((resolve, reject) => {
      this.#opened = resolve;
      this.#openFailed = reject;
      this.#id = thread.register({ onReply: (r) => this.#onReply(r), crashed: (e) => this.#crashed(e) });
      thread.post({ op: 'open', id: this.#id, config: this.#config, target: this.#target, refillAt: this.#refillAt, packets: this.#packets });
    });
  }

  push(seg: number, frames: readonly PacerFrame[], epoch: number): void {
    if (this.#gone) return;
    this.#thread?.push(this.#id, seg, epoch, frames);
  }
  truncate(seg: number, keep: number, epoch: number): void {
    this.#post({ op: 'truncate', id: this.#id, seg, keep, epoch });
  }
  end(seg: number, endSilence: boolean): void {
    this.#post({ op: 'end', id: this.#id, seg, endSilence });
  }
  flush(seg: number | undefined, silence: boolean): void {
    this.#post({ op: 'flush', id: this.#id, seg, silence });
  }
  pause(): void {
    this.#post({ op: 'pause', id: this.#id });
  }
  resume(): void {
    this.#post({ op: 'resume', id: this.#id });
  }
  resetLateness(): void {
    this.#post({ op: 'resetLateness', id: this.#id });
  }
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#gone || this.#thread === undefined) {
        resolve();
        return;
      }
      this.#closed = resolve;
      this.#post({ op: 'close', id: this.#id });
    });
    return this.#closing;
  }
  stats(): Omit<SenderStats, 'status'> | undefined {
    return this.#stats;
  }
  get consumed(): number {
    return this.#consumed;
  }
  get latenessHistogram(): LatenessHistogram | undefined {
    return undefined;
  }

  #post(cmd: PacerCommand): void {
    if (this.#gone) return;
    this.#thread?.post(cmd);
  }

  #onReply(r: PacerReply | StreamNews): void {
    if ('type' in r) {
      switch (r.type) {
        case 'opened':
          this.#opened?.(r.info);
          return;
        case 'openFailed': {
          this.#gone = true;
          this.#thread?.unregister(this.#id);
          const code = r.error.code === 'SOCKET_ERROR' || r.error.code === 'INVALID_ARGUMENT' ? r.error.code : 'SOCKET_ERROR';
          this.#openFailed?.(new KookRtpError(code as ErrorCode, r.error.message));
          return;
        }
        case 'closed':
          this.#stats = r.stats;
          this.#gone = true;
          this.#thread?.unregister(this.#id);
          this.#closed?.();
          return;
        default:
          return;
      }
    }
    // A batch of news: the counters first, so events see them.
    if (r.stats !== undefined) this.#stats = r.stats;
    this.#consumed = r.consumed;
    const l = this.#listener;
    if (r.packets !== undefined && l.packet !== undefined && this.#thread !== undefined) {
      for (const p of r.packets) l.packet(p.bytes, p.kind, this.#thread.hostTime(p.time));
    }
    for (const e of r.events) l.event(e);
    l.space(r.consumed);
  }

  #crashed(error: KookRtpError): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#openFailed?.(error);
    this.#closed?.();
    this.#listener.crashed(error);
  }
}

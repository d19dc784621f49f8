/**
 * The RTP/Opus sender, host side: one SSRC, one socket, many plays in a row as one continuous stream.
 *
 * The pacing itself (absolute deadlines, the bitrate guard, RTCP, the socket) runs in a {@link PacedStream}: by default
 * in the process-wide pacer thread, so a busy host (a bot's JSON parse, decoding, a GC pause) never reaches the wire;
 * with `threads: false`, or a clock, scheduler, transport or sequencer given, in this thread. This object pulls each
 * play's frames ahead of time into the stream's buffer (`bufferMs`, in batches), and turns the stream's reports back
 * into the events, stats and promises below.
 *
 * Plays follow each other without a gap: a play may start while the previous one is still draining (its source done,
 * its frames still buffered), and its frames then follow with contiguous timestamps and no marker bit.
 */

import { EventEmitter } from 'node:events';
import { KookRtpError } from '../errors.js';
import type { OpusFrame } from '../media/frame.js';
import type { Clock } from '../pacer/clock.js';
import { LatenessHistogram } from '../pacer/histogram.js';
import { type RemoteReport } from '../pacer/rtcpSession.js';
import { Scheduler, getDefaultScheduler } from '../pacer/scheduler.js';
import type {
  BitrateAdviceEvent,
  PlayResult,
  ProgressEvent,
  SendErrorEvent,
  SenderState,
  SenderStats,
  StallEvent,
  UnderrunEvent,
} from '../pacer/stats.js';
import { type PacerEvent, type StreamConfig, type StreamGuardOptions, type StreamRtcpOptions, nonNegativeInt, validateStreamConfig } from '../pacer/stream.js';
import { openUdpTransport } from '../transport/udp.js';
import type { PacketKind, PacketTransport, TransportInfo } from '../transport/transport.js';
import type { RtpSequencer } from '../wire/rtp/sequencer.js';
import { emitGuarded } from '../util/emit.js';
import { LocalLink, type PacerLink, ThreadLink } from './pacerLink.js';
import { threadsByDefault } from './threads.js';

/** Where to send. */
export interface RtpTarget {
  /** IPv4/IPv6 literal or host name. */
  host: string;
  /** RTP port. */
  port: number;
  /** RTCP port when not muxed. Default `port + 1`. */
  rtcpPort?: number;
  /** RTP and RTCP on one port (RFC 5761). Default true (KOOK's default). */
  rtcpMux?: boolean;
}

/** Bitrate guard options; see {@link BitrateGuard}. */
export type SenderGuardOptions = StreamGuardOptions;
/** RTCP options. */
export type SenderRtcpOptions = StreamRtcpOptions;

/** Options of {@link createRtpSender}. */
export interface RtpSenderOptions {
  /** Where to send; required unless `transport` is given. */
  target?: RtpTarget;
  /** A ready transport (tests, custom sockets); the sender closes it on close(). Runs the stream in this thread. */
  transport?: PacketTransport;
  /** SSRC. Default 1111 (KOOK's default `audio_ssrc`). */
  ssrc?: number;
  /** Payload type. Default 111 (KOOK's default `audio_pt`). */
  payloadType?: number;
  /** The room's bitrate in bits/s, from `/voice/join`. */
  roomBitrate: number;
  /** Bitrate guard options. */
  guard?: SenderGuardOptions;
  /** RTCP options. */
  rtcp?: SenderRtcpOptions;
  /** Opus silence frames sent on pause and at the end of a play that asks for them. Default 5 (as @discordjs/voice). */
  silenceFrames?: number;
  /**
   * Pace in the process-wide pacer thread. Default true (unless `KOOK_RTP_THREADS=0`), and false when a scheduler,
   * clock, transport or sequencer is given (those live in this thread).
   */
  threads?: boolean;
  /** The pacing loop, in this thread. Default: the process-wide one, or a private one on `clock`. */
  scheduler?: Scheduler;
  /** Time source when no scheduler is given (this thread). */
  clock?: Clock;
  /** Sequence/timestamp source (tests; this thread). Default: random start. */
  sequencer?: RtpSequencer;
  /** Local RTP port. Default: ephemeral. */
  localPort?: number;
  /**
   * How much audio is buffered ahead of the wire, ms. Default 400 with threads (a host stall up to that long is not
   * heard), 160 in this thread. `lookahead` (frames) wins when both are given.
   */
  bufferMs?: number;
  /** The buffer in 20 ms frames; see `bufferMs`. */
  lookahead?: number;
  /** Frames pulled and handed over per batch once the buffer has that much room. Default 4, 5 with threads. */
  pullBatch?: number;
  /** Lateness past which the schedule is re-anchored instead of catching up, ms. Default 20 (one frame). */
  stallThresholdMs?: number;
  /** Interval of 'progress' events, ms. Default 1000. */
  progressIntervalMs?: number;
  /** Called with every datagram sent (for pcap/Ogg recorders). Unset costs nothing. */
  onPacket?: (bytes: Uint8Array, kind: PacketKind, timeMs: number) => void;
}

/** Options of {@link RtpSender.play}. */
export interface PlayOptions {
  /** Stops the play: resolves with `reason: 'aborted'`; its buffered frames are dropped (off the wire within a frame). */
  signal?: AbortSignal;
  /**
   * Send the Opus silence frames when this play ends or is aborted. Default true. A function is asked when the source
   * ends: a player returns false when another track follows, so the tracks of a queue are not separated by silence.
   */
  endSilence?: boolean | (() => boolean);
  /** Called once the source has ended and every frame is buffered: the next play may start now, gaplessly. */
  onSourceDone?: () => void;
  /** Called when the play's first frame goes out on the wire. */
  onStart?: () => void;
  /**
   * Makes the play truncatable ({@link RtpSender.truncate}): called with the index of the first frame that was
   * dropped (0 = the play's first frame); the source must hand every frame from there again (re-made) before new ones.
   */
  onTruncate?: (fromFrame: number) => void;
}

/** Typed event map of {@link RtpSender}. */
export interface RtpSenderEvents {
  stateChange: [oldState: SenderState, newState: SenderState];
  progress: [event: ProgressEvent];
  sendError: [event: SendErrorEvent];
  stall: [event: StallEvent];
  underrun: [event: UnderrunEvent];
  remoteReport: [event: RemoteReport];
  bitrateAdvice: [event: BitrateAdviceEvent];
  /** The pacer thread died; the sender is closed. */
  error: [error: KookRtpError];
  closed: [];
}

/** Frame source accepted by {@link RtpSender.play}: async (Node Readable in object mode too) or sync iterables. */
export type FrameSource = AsyncIterable<OpusFrame> | Iterable<OpusFrame>;

interface PlayContext {
  readonly seg: number;
  readonly iterator: AsyncIterator<OpusFrame> | Iterator<OpusFrame>;
  readonly sync: boolean;
  /** The iterable has ended (or thrown). */
  sourceDone: boolean;
  error: unknown;
  hasError: boolean;
  settled: boolean;
  pumping: boolean;
  /** Frames handed to the stream (the index of the next one). */
  pushed: number;
  /** Frames pulled, not yet handed over. */
  batch: OpusFrame[];
  /** Bumped by every truncate; pushes carry it. */
  epoch: number;
  /** A truncate is on its way to the stream: hold the frames. */
  truncating: boolean;
  /** An `it.next()` is pending; `discardNext`: what it brings was made before a truncate. */
  pulling: boolean;
  discardNext: boolean;
  readonly resolve: (r: PlayResult) => void;
  /** Wakes an async pump waiting for room. */
  space: (() => void) | undefined;
  readonly cleanup: () => void;
  readonly options: PlayOptions;
}

const EMPTY_STATS: Omit<SenderStats, 'status'> = {
  ssrc: 0,
  packetsSent: 0,
  silenceFramesSent: 0,
  bytes: { payload: 0, rtp: 0, ip: 0 },
  bitrate: { currentBps: 0, maxBps: 0 },
  lateness: { count: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 },
  stalls: 0,
  underruns: 0,
  guard: undefined,
  rtcp: { srSent: 0, rrSent: 0, byeSent: 0, bytesSent: 0, received: 0, malformed: 0, reportsReceived: 0, byeReceived: 0 },
  remote: undefined,
  sendErrors: 0,
  sendSkipped: 0,
  sequenceNumber: 0,
  rollovers: 0,
  timestamp: 0,
  queued: 0,
};

/** The sender; create with {@link createRtpSender}. See the module comment. */
export class RtpSender extends EventEmitter<RtpSenderEvents> {
  readonly #opts: RtpSenderOptions;
  readonly #config: StreamConfig;
  readonly #threads: boolean;
  readonly #scheduler: Scheduler | undefined;
  readonly #lookahead: number;
  readonly #pullBatch: number;
  readonly #silenceFrames: number;
  #link: PacerLink | undefined;
  #info: TransportInfo | undefined;
  #state: SenderState = { status: 'new' };
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Plays not yet settled, in order; at most one of them still pumping its source. */
  readonly #plays = new Map<number, PlayContext>();
  #nextSeg = 1;
  /** Frames handed to the stream so far (with the stream's `consumed`, the fill level). */
  #posted = 0;
  #wasPaused = false;

  /**
   * @param options - see {@link RtpSenderOptions}.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for invalid options.
   */
  constructor(options: RtpSenderOptions) {
    super();
    if (options.target === undefined && options.transport === undefined) {
      throw new KookRtpError('INVALID_ARGUMENT', 'createRtpSender needs a target { host, port } or a transport');
    }
    const local = options.scheduler !== undefined || options.clock !== undefined || options.transport !== undefined || options.sequencer !== undefined;
    if (options.threads === true && local) {
      throw new KookRtpError('INVALID_ARGUMENT', 'threads: true cannot be combined with a scheduler, clock, transport or sequencer of this thread');
    }
    this.#threads = options.threads ?? (!local && threadsByDefault());
    this.#opts = options;
    this.#config = {
      roomBitrate: options.roomBitrate,
      ...(options.ssrc === undefined ? {} : { ssrc: options.ssrc }),
      ...(options.payloadType === undefined ? {} : { payloadType: options.payloadType }),
      ...(options.guard === undefined ? {} : { guard: { ...options.guard } }),
      ...(options.rtcp === undefined ? {} : { rtcp: { ...options.rtcp } }),
      ...(options.silenceFrames === undefined ? {} : { silenceFrames: options.silenceFrames }),
      ...(options.stallThresholdMs === undefined ? {} : { stallThresholdMs: options.stallThresholdMs }),
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    };
    validateStreamConfig(this.#config);
    this.#silenceFrames = options.silenceFrames ?? 5;
    this.#scheduler = this.#threads
      ? undefined
      : (options.scheduler ?? (options.clock !== undefined ? new Scheduler({ clock: options.clock }) : getDefaultScheduler()));
    const bufferMs = options.bufferMs ?? (this.#threads ? 400 : 160);
    if (!(Number.isFinite(bufferMs) && bufferMs > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `bufferMs must be a positive number of ms, found ${bufferMs}`);
    }
    this.#lookahead = Math.max(1, nonNegativeInt(options.lookahead ?? Math.ceil(bufferMs / 20), 'lookahead'));
    this.#pullBatch = Math.min(this.#lookahead, Math.max(1, nonNegativeInt(options.pullBatch ?? (this.#threads ? 5 : 4), 'pullBatch')));
  }

  /** Current lifecycle state. */
  get state(): SenderState {
    return this.#state;
  }

  /** Frames handed to the pacer and not yet sent, in ms: about how long until a frame handed over now is heard. */
  get bufferedMs(): number {
    let pulled = 0;
    for (const ctx of this.#plays.values()) pulled += ctx.batch.length;
    return (Math.max(0, this.#posted - (this.#link?.consumed ?? 0)) + pulled) * 20;
  }

  /** Whether this sender paces in the pacer thread. */
  get threaded(): boolean {
    return this.#threads;
  }

  /** The socket's addresses, once started. */
  get transport(): { readonly info: TransportInfo } | undefined {
    return this.#info === undefined ? undefined : { info: this.#info };
  }

  /**
   * Binds and connects the socket(s). Idempotent.
   *
   * @throws {@link KookRtpError} `SOCKET_ERROR` when the socket cannot be opened; `STREAM_CLOSED` after close().
   */
  start(): Promise<void> {
    if (this.#state.status === 'closing' || this.#state.status === 'closed') {
      return Promise.reject(new KookRtpError('STREAM_CLOSED', 'the sender is closed: create a new one'));
    }
    this.#starting ??= this.#doStart().catch((err: unknown) => {
      this.#starting = undefined;
      this.#link = undefined;
      if (this.#state.status === 'starting') this.#setState({ status: 'new' });
      throw err;
    });
    return this.#starting;
  }

  async #doStart(): Promise<void> {
    this.#setState({ status: 'starting' });
    const link = this.#makeLink();
    this.#link = link;
    const info = await link.open();
    if (this.#state.status !== 'starting') {
      // close() raced with start(): don't leak the socket.
      await link.close();
      throw new KookRtpError('STREAM_CLOSED', 'the sender was closed while starting');
    }
    this.#info = info;
    this.#setState({ status: this.#wasPaused ? 'paused' : this.#plays.size > 0 ? 'playing' : 'idle' });
    if (this.#wasPaused) link.pause();
    for (const ctx of this.#plays.values()) if (!ctx.pumping && !ctx.sourceDone) this.#startPump(ctx);
  }

  #makeLink(): PacerLink {
    const o = this.#opts;
    const self = this;
    const listener = {
      event: (e: PacerEvent) => self.#onEvent(e),
      space: () => self.#onSpace(),
      crashed: (err: KookRtpError) => self.#onCrash(err),
      ...(o.onPacket === undefined ? {} : { packet: o.onPacket }),
    };
    const refillAt = this.#lookahead - this.#pullBatch;
    if (this.#threads) {
      const t = o.target as RtpTarget;
      return new ThreadLink({
        config: this.#config,
        target: {
          host: t.host,
          port: t.port,
          rtcpMux: t.rtcpMux ?? true,
          ...(t.rtcpPort === undefined ? {} : { rtcpPort: t.rtcpPort }),
          ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
        },
        listener,
        refillAt,
        packets: o.onPacket !== undefined,
      });
    }
    const scheduler = this.#scheduler as Scheduler;
    return new LocalLink({
      config: this.#config,
      scheduler,
      listener,
      refillAt,
      packets: o.onPacket !== undefined,
      ...(o.sequencer === undefined ? {} : { sequencer: o.sequencer }),
      openTransport: async () => {
        if (o.transport !== undefined) return o.transport;
        const t = o.target as RtpTarget;
        return openUdpTransport({
          host: t.host,
          port: t.port,
          ...(t.rtcpPort === undefined ? {} : { rtcpPort: t.rtcpPort }),
          rtcpMux: t.rtcpMux ?? true,
          ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
          now: () => scheduler.clock.now(),
        });
      },
    });
  }

  /**
   * Plays `frames` to their end, continuing the stream's sequence numbers and timestamps. Starts the sender if
   * needed. A play may start as soon as the previous one's source has ended (see `onSourceDone`): its frames follow
   * gaplessly. After a pause in the stream the timestamp jumps by the real time elapsed, with the marker bit set.
   *
   * @param frames - Opus frames; async or sync iterable.
   * @param options - an abort signal, end silence, hooks.
   * @returns how the play ended, once its last frame has gone out; never rejects for iterable or network errors.
   * @throws {@link KookRtpError} `SENDER_BUSY` (as a rejection) when another play is still reading its source.
   */
  async play(frames: FrameSource, options: PlayOptions = {}): Promise<PlayResult> {
    for (const p of this.#plays.values()) {
      if (!p.sourceDone) {
        throw new KookRtpError('SENDER_BUSY', 'play() called while another play() is still reading its source: await it, or abort it first');
      }
    }
    if (this.#state.status === 'closing' || this.#state.status === 'closed') return { reason: 'closed' };
    const { signal } = options;
    if (signal?.aborted) return { reason: 'aborted' };
    const sync = !(Symbol.asyncIterator in frames);
    const iterator = sync
      ? (frames as Iterable<OpusFrame>)[Symbol.iterator]()
      : (frames as AsyncIterable<OpusFrame>)[Symbol.asyncIterator]();
    let resolve!: (r: PlayResult) => void;
    const done = new Promise<PlayResult>((r) => (resolve = r));
    const onAbort = (): void => this.#abort(ctx);
    const ctx: PlayContext = {
      seg: this.#nextSeg++,
      iterator,
      sync,
      sourceDone: false,
      error: undefined,
      hasError: false,
      settled: false,
      pumping: false,
      pushed: 0,
      batch: [],
      epoch: 0,
      truncating: false,
      pulling: false,
      discardNext: false,
      resolve,
      space: undefined,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
      options,
    };
    this.#plays.set(ctx.seg, ctx);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#refreshPlayState();
    if (this.#info === undefined) {
      try {
        await this.start();
      } catch (err) {
        this.#plays.delete(ctx.seg);
        this.#settle(ctx, { reason: 'error', error: err });
        this.#refreshPlayState();
        return done;
      }
    } else if (!ctx.settled) {
      this.#startPump(ctx);
    }
    return done;
  }

  /** Pauses: the silence frames, then nothing. Buffered frames stay. Within one frame on the wire. */
  pause(): void {
    if (this.#state.status === 'paused' || this.#wasPaused) return;
    this.#wasPaused = true;
    this.#link?.pause();
    this.#refreshPlayState();
  }

  /** Resumes after {@link RtpSender.pause}; the timestamp advances by the time paused and the marker bit is set. */
  resume(): void {
    if (!this.#wasPaused) return;
    this.#wasPaused = false;
    this.#link?.resume();
    this.#refreshPlayState();
  }

  /**
   * Drops what is buffered of the play now reading its source, beyond the next `keepMs`, and has its source hand those
   * frames again (re-made, e.g. at a new volume: see `PlayOptions.onTruncate`). Takes effect on the wire after
   * `keepMs`. A no-op (false) without such a play.
   */
  truncate(keepMs = 80): boolean {
    const link = this.#link;
    if (link === undefined) return false;
    for (const ctx of this.#plays.values()) {
      // A play with nothing handed to the stream yet has nothing to truncate (and its stream may not exist yet).
      if (ctx.sourceDone || ctx.settled || ctx.truncating || ctx.options.onTruncate === undefined || ctx.pushed === 0) continue;
      ctx.truncating = true;
      ctx.epoch++;
      link.truncate(ctx.seg, Math.max(1, Math.ceil(keepMs / 20)), ctx.epoch);
      return true;
    }
    return false;
  }

  /** Forgets the lateness samples so far, so that `stats().lateness` describes a window starting now. */
  resetLateness(): void {
    this.#link?.resetLateness();
  }

  /** A snapshot of every counter (from a pacer thread: as of its last report, at most a second old). */
  stats(): SenderStats {
    const s = this.#link?.stats() ?? EMPTY_STATS;
    return { ...s, status: this.#state.status, ssrc: this.#opts.ssrc ?? s.ssrc };
  }

  /** The lateness histogram itself (for merging across streams; empty for a threaded sender: use `stats()`). */
  get latenessHistogram(): LatenessHistogram {
    return this.#link?.latenessHistogram ?? new LatenessHistogram();
  }

  /**
   * Ends any play (reason `closed`), sends an RTCP BYE, closes the socket(s). Idempotent; never rejects.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    const wasStarting = this.#state.status === 'starting';
    this.#setState({ status: 'closing' });
    for (const ctx of [...this.#plays.values()]) this.#stopPlay(ctx, { reason: 'closed' });
    if (wasStarting) await this.#starting?.catch(() => {});
    await this.#link?.close();
    this.#setState({ status: 'closed' });
    this.#emitSafe('closed');
  }

  // ---------------------------------------------------------------- input

  #room(): number {
    return this.#lookahead - (this.#posted - (this.#link?.consumed ?? 0));
  }

  #startPump(ctx: PlayContext): void {
    ctx.pumping = true;
    if (ctx.sync) this.#pumpSync(ctx);
    else this.#pumpAsync(ctx).catch((err: unknown) => this.#warn(err));
  }

  #pumpSync(ctx: PlayContext): void {
    const link = this.#link;
    if (ctx.sourceDone || ctx.settled || link === undefined) return;
    let room = this.#room();
    if (room < this.#pullBatch && room < this.#lookahead) return;
    const batch: OpusFrame[] = [];
    try {
      while (room > 0) {
        const r = (ctx.iterator as Iterator<OpusFrame>).next();
        if (r.done === true) {
          ctx.sourceDone = true;
          break;
        }
        if (!this.#accept(ctx, r.value, batch)) break;
        room--;
      }
    } catch (err) {
      ctx.sourceDone = true;
      ctx.hasError = true;
      ctx.error = err;
    }
    ctx.batch.push(...batch);
    this.#hand(ctx);
  }

  async #pumpAsync(ctx: PlayContext): Promise<void> {
    const it = ctx.iterator as AsyncIterator<OpusFrame>;
    try {
      while (!ctx.settled && !ctx.sourceDone) {
        if (ctx.truncating) {
          // Nothing is pulled while a truncate is out: what the source hands next is re-made.
          await new Promise<void>((r) => (ctx.space = r));
          continue;
        }
        const room = this.#room() - ctx.batch.length;
        // Batches keep decoding hot in the caches, but a starving stream gets each frame at once.
        const starving = this.#lookahead - this.#room() < this.#pullBatch;
        if (ctx.batch.length > 0 && (room <= 0 || ctx.batch.length >= this.#pullBatch || starving)) {
          this.#hand(ctx);
          continue;
        }
        if (room <= 0) {
          await new Promise<void>((r) => (ctx.space = r));
          continue;
        }
        ctx.pulling = true;
        const r = await it.next();
        ctx.pulling = false;
        if (ctx.settled) return;
        if (r.done === true) ctx.sourceDone = true;
        else if (ctx.discardNext) ctx.discardNext = false;
        else this.#accept(ctx, r.value, ctx.batch);
      }
    } catch (err) {
      if (ctx.settled) return;
      ctx.sourceDone = true;
      ctx.hasError = true;
      ctx.error = err;
    }
    if (!ctx.settled) this.#hand(ctx);
  }

  /** Hands the pulled frames to the stream; at the source's end, ends the segment. False while a truncate is out. */
  #hand(ctx: PlayContext): boolean {
    const link = this.#link;
    if (link === undefined || ctx.settled || ctx.truncating) return false;
    const batch = ctx.batch;
    if (batch.length > 0) {
      ctx.batch = [];
      this.#posted += batch.length;
      ctx.pushed += batch.length;
      link.push(ctx.seg, batch, ctx.epoch);
    }
    if (ctx.sourceDone) {
      ctx.pumping = false;
      link.end(ctx.seg, this.#wantsEndSilence(ctx));
      const cb = ctx.options.onSourceDone;
      if (cb !== undefined) {
        try {
          cb();
        } catch (err) {
          this.#warn(err);
        }
      }
    }
    return true;
  }

  #accept(ctx: PlayContext, frame: OpusFrame, batch: OpusFrame[]): boolean {
    if (
      frame === null ||
      typeof frame !== 'object' ||
      !(frame.data instanceof Uint8Array) ||
      frame.data.length === 0 ||
      !Number.isInteger(frame.samples) ||
      frame.samples <= 0
    ) {
      ctx.sourceDone = true;
      ctx.hasError = true;
      ctx.error = new KookRtpError(
        'INVALID_ARGUMENT',
        'play() got an invalid frame: expected { data: non-empty Uint8Array, samples: positive integer }',
      );
      this.#closeIterator(ctx);
      return false;
    }
    batch.push(frame);
    return true;
  }

  #wantsEndSilence(ctx: PlayContext): boolean {
    const e = ctx.options.endSilence ?? true;
    if (typeof e === 'boolean') return e;
    try {
      return e() !== false;
    } catch {
      return true;
    }
  }

  /** The stream has room again (its `consumed` count, read through the link, says how much). */
  #onSpace(): void {
    for (const ctx of this.#plays.values()) {
      if (ctx.sourceDone || ctx.settled || !ctx.pumping) continue;
      if (ctx.sync) this.#pumpSync(ctx);
      else {
        const space = ctx.space;
        ctx.space = undefined;
        space?.();
      }
    }
  }

  #onEvent(e: PacerEvent): void {
    switch (e.type) {
      case 'segmentStart': {
        const cb = this.#plays.get(e.seg)?.options.onStart;
        if (cb !== undefined) {
          try {
            cb();
          } catch (err) {
            this.#warn(err);
          }
        }
        return;
      }
      case 'segmentEnd': {
        const ctx = this.#plays.get(e.seg);
        if (ctx === undefined) return;
        if (e.reason === 'finished') {
          this.#plays.delete(ctx.seg);
          this.#settle(ctx, ctx.hasError ? { reason: 'error', error: ctx.error } : { reason: 'finished' });
          this.#refreshPlayState();
        } else {
          this.#stopPlay(ctx, { reason: e.reason === 'closed' ? 'closed' : 'aborted' });
        }
        return;
      }
      case 'truncated': {
        const ctx = this.#plays.get(e.seg);
        if (ctx === undefined || !ctx.truncating) return;
        // What the stream let go beyond keptUpTo, what was pulled meanwhile and what a pending pull brings: all made
        // before the change, all dropped; the source hands frames from keptUpTo on again.
        ctx.pushed = e.keptUpTo;
        ctx.batch = [];
        ctx.truncating = false;
        if (ctx.pulling) ctx.discardNext = true;
        try {
          ctx.options.onTruncate?.(e.keptUpTo);
        } catch (err) {
          this.#warn(err);
        }
        if (ctx.sourceDone) {
          // The source ended meanwhile and cannot hand the frames again: end the segment where it was cut.
          this.#hand(ctx);
        } else if (ctx.sync) this.#pumpSync(ctx);
        else {
          const space = ctx.space;
          ctx.space = undefined;
          space?.();
        }
        return;
      }
      case 'progress':
        if (this.listenerCount('progress') > 0) this.#emitSafe('progress', { type: 'progress', stats: this.stats() });
        return;
      case 'remoteReport':
        this.#emitSafe('remoteReport', e.report);
        return;
      case 'state':
        return;
      default:
        this.#emitSafe(e.type as 'stall', e as StallEvent);
    }
  }

  #onCrash(err: KookRtpError): void {
    this.#emitSafe('error', err);
    for (const ctx of [...this.#plays.values()]) this.#stopPlay(ctx, { reason: 'error', error: err });
    void this.close();
  }

  #abort(ctx: PlayContext): void {
    if (ctx.settled) return;
    // Drop what is buffered of it; close the talkspurt with silence when nothing else follows.
    this.#link?.flush(ctx.seg, this.#wantsEndSilence(ctx));
    this.#stopPlay(ctx, { reason: 'aborted' });
  }

  #stopPlay(ctx: PlayContext, result: PlayResult): void {
    this.#plays.delete(ctx.seg);
    this.#settle(ctx, result);
    this.#closeIterator(ctx);
    const space = ctx.space;
    ctx.space = undefined;
    space?.();
    this.#refreshPlayState();
  }

  #settle(ctx: PlayContext, result: PlayResult): void {
    if (ctx.settled) return;
    ctx.settled = true;
    ctx.cleanup();
    ctx.resolve(result);
  }

  #closeIterator(ctx: PlayContext): void {
    if (ctx.sourceDone && !ctx.hasError) return;
    try {
      const r = ctx.iterator.return?.();
      if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, () => {});
      }
    } catch {
      // A throwing return() must not break close/abort.
    }
  }

  // ---------------------------------------------------------------- helpers

  #refreshPlayState(): void {
    const s = this.#state.status;
    if (s !== 'idle' && s !== 'playing' && s !== 'paused') return;
    const next = this.#wasPaused ? 'paused' : this.#plays.size === 0 ? 'idle' : 'playing';
    if (next !== s) this.#setState({ status: next });
  }

  #setState(next: SenderState): void {
    const old = this.#state;
    if (old.status === next.status) return;
    this.#state = next;
    this.#emitSafe('stateChange', old, next);
  }

  #emitSafe<K extends keyof RtpSenderEvents>(event: K, ...args: RtpSenderEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    emitGuarded(this, event, args, 'KOOK_RTP_SENDER');
  }

  #warn(err: unknown): void {
    process.emitWarning(`kook-rtp sender: ${err instanceof Error ? err.message : String(err)}`, { code: 'KOOK_RTP_SENDER' });
  }
}

/**
 * Creates an RTP sender. Call `start()` (or just `play()`) to open the socket.
 *
 * @param options - see {@link RtpSenderOptions}.
 * @returns the sender.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for invalid options.
 */
export function createRtpSender(options: RtpSenderOptions): RtpSender {
  return new RtpSender(options);
}

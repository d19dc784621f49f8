/**
 * The real-time RTP/Opus sender: one SSRC, one socket, many plays in a row as one continuous stream.
 *
 * Pacing: absolute deadlines on the shared {@link Scheduler} (`next += frame duration`), re-anchored after a stall
 * instead of bursting. A small lookahead queue is filled from the input ahead of time. The {@link BitrateGuard} may
 * hold a frame back (never drop it); the RTP timestamp stays media-correct meanwhile. Between plays and across a
 * pause nothing is sent, and the timestamp jumps by the real time elapsed, with the marker bit on the next packet.
 * RTCP: SR + SDES(CNAME) with the first packet, then every interval; BYE on close.
 */

import { EventEmitter } from 'node:events';
import { KookRtpError } from '../errors.js';
import type { OpusFrame } from '../media/frame.js';
import { openUdpTransport } from '../transport/udp.js';
import type { PacketKind, PacketTransport, TransportSendError } from '../transport/transport.js';
import { OPUS_SILENCE_FRAME } from '../wire/opus/toc.js';
import { RTP_HEADER_SIZE } from '../wire/rtp/packet.js';
import type { RtpSequencer } from '../wire/rtp/sequencer.js';
import { BitrateGuard, type GuardCount, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD } from './bitrateGuard.js';
import type { Clock } from './clock.js';
import { LatenessHistogram } from './histogram.js';
import { RtpPacketizer } from './packetizer.js';
import { type RemoteReport, RtcpSession, type SenderSnapshot } from './rtcpSession.js';
import { Scheduler, type SchedulerTask, getDefaultScheduler } from './scheduler.js';
import type {
  BitrateAdviceEvent,
  PlayResult,
  ProgressEvent,
  SendErrorEvent,
  SenderState,
  SenderStats,
  StallEvent,
  UnderrunEvent,
} from './stats.js';
import { SlidingWindowMeter } from './tokenBucket.js';

/** RTP clock rate of Opus (RFC 7587): always 48 kHz. */
const CLOCK_RATE = 48000;
const SAMPLES_PER_MS = CLOCK_RATE / 1000;
/** 20 ms: the duration given to Opus silence frames. */
const SILENCE_SAMPLES = 960;
const SILENCE: OpusFrame = { data: OPUS_SILENCE_FRAME, samples: SILENCE_SAMPLES };

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
export interface SenderGuardOptions {
  /** What to count: RTP header + payload (default), payload only, or IP + UDP + RTP. */
  count?: GuardCount;
  /** Fraction of the room bitrate allowed in every 1 s window. Default 1.0, at most 1.2. */
  ceiling?: number;
  /** Default true. */
  enabled?: boolean;
  /** Token bucket depth as ms of the ceiling rate. Default 200. */
  bucketDepthMs?: number;
  /** Backlog (ms behind the media schedule) past which a lower encoder bitrate is advised. Default 100. */
  adviceBacklogMs?: number;
}

/** RTCP options. */
export interface SenderRtcpOptions {
  /** Report interval, ms. Default 5000. */
  intervalMs?: number;
  /** RFC 3550 §6.3.1 randomization of the interval. Default false. */
  randomize?: boolean;
  /** SDES CNAME. Default: random. */
  cname?: string;
  /** Send RTCP at all. Default true. */
  enabled?: boolean;
}

/** Options of {@link createRtpSender}. */
export interface RtpSenderOptions {
  /** Where to send; required unless `transport` is given. */
  target?: RtpTarget;
  /** A ready transport (tests, custom sockets); the sender closes it on close(). */
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
  /** Opus silence frames sent on pause and at the end of each play. Default 5 (as @discordjs/voice does). */
  silenceFrames?: number;
  /** The pacing loop. Default: the process-wide one, or a private one on `clock` when a clock is given. */
  scheduler?: Scheduler;
  /** Time source when no scheduler is given. */
  clock?: Clock;
  /** Sequence/timestamp source (tests). Default: random start. */
  sequencer?: RtpSequencer;
  /** Local RTP port. Default: ephemeral. */
  localPort?: number;
  /** Frames pulled ahead of their deadline. Default 8. */
  lookahead?: number;
  /**
   * An async source is pulled again only once this many frames have been sent from a full lookahead queue, then
   * refilled in one go. Default 4 (at most `lookahead`). Decoding and encoding a few frames per wake-up keeps that
   * code hot in the CPU's caches; one frame per wake-up pays the cold-cache cost every 20 ms.
   */
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
  /** Stops the play: resolves with `reason: 'aborted'`. */
  signal?: AbortSignal;
  /**
   * Send the Opus silence frames when this play ends or is aborted. Default true. A function is asked at that moment:
   * a player returns false when another track follows, so tracks of a queue are not separated by 100 ms of silence.
   */
  endSilence?: boolean | (() => boolean);
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
  closed: [];
}

/** Frame source accepted by {@link RtpSender.play}: async (Node Readable in object mode too) or sync iterables. */
export type FrameSource = AsyncIterable<OpusFrame> | Iterable<OpusFrame>;

interface PlayContext {
  readonly iterator: AsyncIterator<OpusFrame> | Iterator<OpusFrame>;
  readonly sync: boolean;
  /** The iterable has ended (or thrown). */
  sourceDone: boolean;
  error: unknown;
  hasError: boolean;
  /** End-of-play silence has started. */
  ending: boolean;
  settled: boolean;
  resolve: (r: PlayResult) => void;
  space: (() => void) | undefined;
  cleanup: () => void;
  readonly endSilence: boolean | (() => boolean);
}

function wantsEndSilence(ctx: PlayContext): boolean {
  const e = ctx.endSilence;
  if (typeof e === 'boolean') return e;
  try {
    return e() !== false;
  } catch {
    return true;
  }
}

/** The sender; create with {@link createRtpSender}. See the module comment. */
export class RtpSender extends EventEmitter<RtpSenderEvents> {
  readonly #opts: RtpSenderOptions;
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  readonly #packetizer: RtpPacketizer;
  readonly #rtcp: RtcpSession;
  readonly #rtcpEnabled: boolean;
  readonly #silenceFrames: number;
  readonly #lookahead: number;
  /** Queue length at or below which a waiting async pump is woken. */
  readonly #refillAt: number;
  readonly #stallMs: number;
  readonly #adviceBacklogMs: number;
  readonly #onPacket: RtpSenderOptions['onPacket'];
  #transport: PacketTransport | undefined;
  #guard: BitrateGuard | undefined;
  #ipOverhead = IPV4_UDP_OVERHEAD;
  #state: SenderState = { status: 'new' };
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  // pacing
  readonly #queue: OpusFrame[] = [];
  #play: PlayContext | undefined;
  #paused = false;
  #scheduled = false;
  #silenceLeft = 0;
  #mediaDeadline = 0;
  /** Set while nothing is sent: when the next frame would have been due, and why it was not. */
  #gapFrom: number | undefined;
  #gapKind: 'idle' | 'underrun' = 'idle';
  #marker = true;
  #held = false;
  #adviceActive = false;
  #backlogMs = 0;
  #maxBacklogMs = 0;

  // last packet, for SR extrapolation
  #sentAny = false;
  #lastMediaTime = 0;
  #lastSendTime = Number.NEGATIVE_INFINITY;

  // counters
  readonly #lateness = new LatenessHistogram();
  readonly #rate = new SlidingWindowMeter(1000);
  #packets = 0;
  #silenceSent = 0;
  #payloadBytes = 0;
  #rtpBytes = 0;
  #ipBytes = 0;
  #stalls = 0;
  #underruns = 0;

  readonly #task: SchedulerTask = {
    run: (deadline) => this.#tick(deadline),
    onError: (err) => this.#taskFailed(err),
  };
  readonly #rtcpTask: SchedulerTask = {
    run: (deadline) => this.#rtcpTick(deadline),
    onError: (err) => this.#warn(err),
  };
  readonly #progressTask: SchedulerTask = {
    run: (deadline) => this.#progressTick(deadline),
    onError: (err) => this.#warn(err),
  };

  /**
   * @param options - see {@link RtpSenderOptions}.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for invalid options.
   */
  constructor(options: RtpSenderOptions) {
    super();
    if (options.target === undefined && options.transport === undefined) {
      throw new KookRtpError('INVALID_ARGUMENT', 'createRtpSender needs a target { host, port } or a transport');
    }
    if (!(options.roomBitrate > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `roomBitrate must be a positive number of bits/s, found ${options.roomBitrate}`);
    }
    this.#opts = options;
    this.#scheduler = options.scheduler ?? (options.clock !== undefined ? new Scheduler({ clock: options.clock }) : getDefaultScheduler());
    this.#clock = this.#scheduler.clock;
    const packetizerOptions = { ssrc: options.ssrc ?? 1111, payloadType: options.payloadType ?? 111 };
    this.#packetizer = new RtpPacketizer(options.sequencer === undefined ? packetizerOptions : { ...packetizerOptions, sequencer: options.sequencer });
    const r = options.rtcp ?? {};
    this.#rtcpEnabled = r.enabled ?? true;
    this.#rtcp = new RtcpSession({
      ssrc: this.#packetizer.ssrc,
      ...(r.cname === undefined ? {} : { cname: r.cname }),
      ...(r.intervalMs === undefined ? {} : { intervalMs: r.intervalMs }),
      ...(r.randomize === undefined ? {} : { randomize: r.randomize }),
    });
    this.#silenceFrames = nonNegativeInt(options.silenceFrames ?? 5, 'silenceFrames');
    this.#lookahead = Math.max(1, nonNegativeInt(options.lookahead ?? 8, 'lookahead'));
    const pullBatch = Math.min(this.#lookahead, Math.max(1, nonNegativeInt(options.pullBatch ?? 4, 'pullBatch')));
    this.#refillAt = this.#lookahead - pullBatch;
    this.#stallMs = options.stallThresholdMs ?? 20;
    this.#adviceBacklogMs = options.guard?.adviceBacklogMs ?? 100;
    this.#onPacket = options.onPacket;
    if (options.guard?.ceiling !== undefined || options.guard?.count !== undefined) {
      // Validate early so a bad ceiling fails at construction, not at start().
      new BitrateGuard(this.#guardOptions(IPV4_UDP_OVERHEAD), 0);
    }
  }

  /** Current lifecycle state. */
  get state(): SenderState {
    return this.#state;
  }

  /** The transport, once started. */
  get transport(): PacketTransport | undefined {
    return this.#transport;
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
      if (this.#state.status === 'starting') this.#setState({ status: 'new' });
      throw err;
    });
    return this.#starting;
  }

  async #doStart(): Promise<void> {
    this.#setState({ status: 'starting' });
    const t = this.#opts.target;
    const transport =
      this.#opts.transport ??
      (await openUdpTransport({
        host: (t as RtpTarget).host,
        port: (t as RtpTarget).port,
        ...((t as RtpTarget).rtcpPort === undefined ? {} : { rtcpPort: (t as RtpTarget).rtcpPort as number }),
        rtcpMux: (t as RtpTarget).rtcpMux ?? true,
        ...(this.#opts.localPort === undefined ? {} : { localPort: this.#opts.localPort }),
        now: () => this.#clock.now(),
      }));
    if (this.#state.status !== 'starting') {
      // close() raced with start(): don't leak the socket.
      if (this.#opts.transport === undefined) await transport.close();
      throw new KookRtpError('STREAM_CLOSED', 'the sender was closed while starting');
    }
    this.#transport = transport;
    this.#ipOverhead = transport.info.family === 'udp6' ? IPV6_UDP_OVERHEAD : IPV4_UDP_OVERHEAD;
    if (this.#opts.guard?.enabled ?? true) this.#guard = new BitrateGuard(this.#guardOptions(this.#ipOverhead), this.#clock.now());
    transport.setHandlers({
      onRtcp: (bytes) => this.#onRtcp(bytes),
      onSendError: (e) => this.#onSendError(e),
    });
    const every = this.#opts.progressIntervalMs ?? 1000;
    if (every > 0) this.#scheduler.schedule(this.#progressTask, this.#clock.now() + every);
    this.#setState({ status: this.#play === undefined ? 'idle' : this.#paused ? 'paused' : 'playing' });
    if (this.#play !== undefined && this.#queue.length > 0) this.#wake();
  }

  /**
   * Plays `frames` to their end, continuing the stream's sequence numbers and timestamps. Starts the sender if
   * needed. One play at a time: a player chains tracks inside one iterable, or calls play() again after this one
   * resolves (the timestamp then jumps by the real time elapsed, with the marker bit set).
   *
   * @param frames - Opus frames; async or sync iterable.
   * @param options - an abort signal.
   * @returns how the play ended; never rejects for iterable or network errors.
   * @throws {@link KookRtpError} `SENDER_BUSY` (as a rejection) when another play is running; `SOCKET_ERROR` when the
   *   implicit start fails.
   */
  async play(frames: FrameSource, options: PlayOptions = {}): Promise<PlayResult> {
    if (this.#play !== undefined) {
      throw new KookRtpError('SENDER_BUSY', 'play() called while another play() is running: await it, or abort it first');
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
      iterator,
      sync,
      sourceDone: false,
      error: undefined,
      hasError: false,
      ending: false,
      settled: false,
      resolve,
      space: undefined,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
      endSilence: options.endSilence ?? true,
    };
    this.#play = ctx;
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#refreshPlayState();
    try {
      // Only await when needed: a started sender takes a sync source on this very turn.
      if (this.#transport === undefined) await this.start();
    } catch (err) {
      this.#settle(ctx, { reason: 'error', error: err });
      this.#play = undefined;
      return done;
    }
    if (sync) {
      this.#fillSync(ctx);
      this.#wake();
    } else {
      this.#pump(ctx).catch((err: unknown) => this.#warn(err));
    }
    return done;
  }

  /**
   * Pauses: sends the silence frames, then nothing. Frames already pulled stay queued. A no-op when paused.
   */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // Silence only if audio is flowing now; after an underrun the far end already has a gap.
    if (this.#scheduled && this.#silenceLeft === 0) this.#silenceLeft = this.#silenceFrames;
    this.#refreshPlayState();
  }

  /** Resumes after {@link RtpSender.pause}; the timestamp advances by the time paused and the marker bit is set. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#refreshPlayState();
    if (this.#play !== undefined && !this.#scheduled) this.#wake();
  }

  /** A snapshot of every counter. */
  stats(): SenderStats {
    const now = this.#clock.now();
    const g = this.#guard;
    const ts = this.#transport?.stats();
    const seq = this.#packetizer.sequencer;
    return {
      status: this.#state.status,
      ssrc: this.#packetizer.ssrc,
      packetsSent: this.#packets,
      silenceFramesSent: this.#silenceSent,
      bytes: { payload: this.#payloadBytes, rtp: this.#rtpBytes, ip: this.#ipBytes },
      bitrate: { currentBps: this.#rate.sum(now) * 8, maxBps: this.#rate.max * 8 },
      lateness: this.#lateness.summary(),
      stalls: this.#stalls,
      underruns: this.#underruns,
      guard:
        g === undefined
          ? undefined
          : {
              limitBytes: g.limitBytes,
              windowBytes: g.windowBytes(now),
              maxWindowBytes: g.maxWindowBytes,
              delayedPackets: g.delayedPackets,
              backlogMs: this.#backlogMs,
              maxBacklogMs: this.#maxBacklogMs,
              adviceActive: this.#adviceActive,
            },
      rtcp: this.#rtcp.counters(),
      remote: this.#rtcp.lastRemoteReport,
      sendErrors: ts?.sendErrors ?? 0,
      sendSkipped: ts?.skipped ?? 0,
      sequenceNumber: seq.sequenceNumber,
      rollovers: seq.rollovers,
      timestamp: seq.timestamp,
      queued: this.#queue.length,
    };
  }

  /** The lateness histogram itself (for merging across streams). */
  get latenessHistogram(): LatenessHistogram {
    return this.#lateness;
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
    const ctx = this.#play;
    if (ctx !== undefined) this.#stopPlay(ctx, { reason: 'closed' });
    this.#scheduler.cancel(this.#task);
    this.#scheduler.cancel(this.#rtcpTask);
    this.#scheduler.cancel(this.#progressTask);
    this.#scheduled = false;
    if (wasStarting) await this.#starting?.catch(() => {});
    const transport = this.#transport;
    if (transport !== undefined) {
      if (this.#rtcpEnabled && this.#sentAny) {
        try {
          this.#sendRtcp(this.#rtcp.buildBye(this.#snapshot(this.#clock.now())), this.#clock.now());
        } catch (err) {
          this.#warn(err);
        }
      }
      await transport.close();
    }
    this.#setState({ status: 'closed' });
    this.#emitSafe('closed');
  }

  // ---------------------------------------------------------------- pacing

  #tick(deadline: number): number | undefined {
    const t = this.#clock.now();
    let frame: OpusFrame | undefined;
    let silence = false;
    const ctx = this.#play;
    if (this.#silenceLeft > 0) {
      frame = SILENCE;
      silence = true;
    } else if (!this.#paused) {
      if (ctx?.sync === true && this.#queue.length === 0) this.#fillSync(ctx);
      frame = this.#queue[0];
      if (frame === undefined && ctx !== undefined && ctx.sourceDone && !ctx.ending) {
        ctx.ending = true;
        if (this.#silenceFrames > 0 && wantsEndSilence(ctx)) {
          this.#silenceLeft = this.#silenceFrames;
          frame = SILENCE;
          silence = true;
        } else {
          this.#finishPlay(ctx);
        }
      }
    }
    if (frame === undefined) {
      this.#scheduled = false;
      this.#gapFrom = this.#mediaDeadline;
      if (this.#paused || this.#play === undefined) {
        this.#gapKind = 'idle';
      } else {
        this.#gapKind = 'underrun';
        this.#underruns++;
        this.#emitSafe('underrun', { type: 'underrun', count: this.#underruns });
      }
      return undefined;
    }

    // A stall: don't catch up with a burst, move the whole schedule (latency grows, timestamps stay contiguous).
    const late = t - deadline;
    if (late > this.#stallMs) {
      this.#stalls++;
      this.#mediaDeadline = t;
      this.#emitSafe('stall', { type: 'stall', lateMs: late });
    }

    const g = this.#guard;
    if (g !== undefined) {
      const earliest = g.earliest(t, frame.data.length);
      if (earliest > t) {
        if (!this.#held) {
          this.#held = true;
          g.noteDelayed();
        }
        this.#noteBacklog(earliest - this.#mediaDeadline, g);
        return earliest;
      }
    }
    this.#held = false;

    const bytes = this.#packetizer.packetize(frame.data, frame.samples, this.#marker);
    this.#marker = false;
    this.#transport?.sendRtp(bytes);
    this.#onPacket?.(bytes, 'rtp', t);
    const payload = frame.data.length;
    g?.record(t, payload);
    this.#rate.record(t, bytes.length);
    this.#lateness.record(late);
    this.#packets++;
    this.#payloadBytes += payload;
    this.#rtpBytes += bytes.length;
    this.#ipBytes += bytes.length + this.#ipOverhead;
    this.#lastMediaTime = this.#mediaDeadline;
    this.#lastSendTime = t;
    if (g !== undefined) this.#noteBacklog(t - this.#mediaDeadline, g);
    if (!this.#sentAny) {
      this.#sentAny = true;
      if (this.#rtcpEnabled) {
        // RTCP starts with the first RTP packet, so the far end can map timestamps to wall clock at once.
        this.#sendRtcp(this.#rtcp.buildReport(this.#snapshot(t)), t);
        this.#scheduler.schedule(this.#rtcpTask, t + this.#rtcp.nextIntervalMs());
      }
    }
    this.#mediaDeadline += frame.samples / SAMPLES_PER_MS;

    if (silence) {
      this.#silenceSent++;
      this.#silenceLeft--;
      if (this.#silenceLeft === 0 && ctx !== undefined && ctx.ending) this.#finishPlay(ctx);
    } else {
      this.#queue.shift();
      if (ctx !== undefined && this.#queue.length <= this.#refillAt) {
        const space = ctx.space;
        ctx.space = undefined;
        space?.();
      }
    }
    // Behind the media schedule only because the guard held frames back: run again now, the guard decides.
    return this.#mediaDeadline > t ? this.#mediaDeadline : t;
  }

  #noteBacklog(backlogMs: number, g: BitrateGuard): void {
    const b = backlogMs > 0 ? backlogMs : 0;
    this.#backlogMs = b;
    if (b > this.#maxBacklogMs) this.#maxBacklogMs = b;
    if (!this.#adviceActive && b > this.#adviceBacklogMs) {
      this.#adviceActive = true;
      const bps = Math.max(6000, Math.floor(g.fittingBitrate() * 0.75));
      this.#emitSafe('bitrateAdvice', { type: 'bitrateAdvice', reason: 'backlog', bps, backlogMs: b });
    } else if (this.#adviceActive && b === 0) {
      this.#adviceActive = false;
      this.#emitSafe('bitrateAdvice', { type: 'bitrateAdvice', reason: 'drained', bps: g.fittingBitrate(), backlogMs: 0 });
    }
  }

  /** (Re)enters the scheduler when there is something to send and it is not already scheduled. */
  #wake(): void {
    if (this.#scheduled || this.#transport === undefined) return;
    if (this.#state.status !== 'idle' && this.#state.status !== 'playing' && this.#state.status !== 'paused') return;
    if (this.#paused && this.#silenceLeft === 0) return;
    const now = this.#clock.now();
    const gapFrom = this.#gapFrom;
    if (gapFrom !== undefined) {
      this.#gapFrom = undefined;
      const gap = now - gapFrom;
      if (this.#gapKind === 'underrun' && gap <= this.#stallMs) {
        // A frame a little late: keep the schedule and contiguous timestamps; lateness records the delay.
      } else if (gap > 0) {
        // A real gap: the timestamp follows real time, the marker flags the new talkspurt (RFC 3551 §4.1).
        this.#packetizer.skip(gap * SAMPLES_PER_MS);
        this.#marker = true;
        this.#mediaDeadline = now;
      }
    } else if (!this.#sentAny) {
      this.#mediaDeadline = now;
    }
    this.#scheduled = true;
    this.#scheduler.schedule(this.#task, this.#mediaDeadline > now ? this.#mediaDeadline : now);
  }

  // ---------------------------------------------------------------- input

  #fillSync(ctx: PlayContext): void {
    if (ctx.sourceDone) return;
    try {
      while (this.#queue.length < this.#lookahead) {
        const r = (ctx.iterator as Iterator<OpusFrame>).next();
        if (r.done === true) {
          ctx.sourceDone = true;
          return;
        }
        this.#accept(ctx, r.value);
        if (ctx.sourceDone) return;
      }
    } catch (err) {
      ctx.sourceDone = true;
      ctx.hasError = true;
      ctx.error = err;
    }
  }

  async #pump(ctx: PlayContext): Promise<void> {
    const it = ctx.iterator as AsyncIterator<OpusFrame>;
    try {
      while (!ctx.settled && !ctx.sourceDone) {
        if (this.#queue.length >= this.#lookahead) {
          await new Promise<void>((r) => (ctx.space = r));
          continue;
        }
        const r = await it.next();
        if (ctx.settled) return;
        if (r.done === true) ctx.sourceDone = true;
        else this.#accept(ctx, r.value);
        this.#wake();
      }
    } catch (err) {
      if (ctx.settled) return;
      ctx.sourceDone = true;
      ctx.hasError = true;
      ctx.error = err;
      this.#wake();
    }
  }

  #accept(ctx: PlayContext, frame: OpusFrame): void {
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
      return;
    }
    this.#queue.push(frame);
  }

  #finishPlay(ctx: PlayContext): void {
    this.#settle(ctx, ctx.hasError ? { reason: 'error', error: ctx.error } : { reason: 'finished' });
    if (this.#play === ctx) this.#play = undefined;
    this.#refreshPlayState();
  }

  #abort(ctx: PlayContext): void {
    if (ctx.settled) return;
    // Close the stream gracefully if audio is flowing; the play resolves at once.
    if (this.#scheduled && this.#silenceLeft === 0 && !ctx.ending && wantsEndSilence(ctx)) this.#silenceLeft = this.#silenceFrames;
    this.#stopPlay(ctx, { reason: 'aborted' });
  }

  #stopPlay(ctx: PlayContext, result: PlayResult): void {
    this.#queue.length = 0;
    this.#settle(ctx, result);
    this.#closeIterator(ctx);
    const space = ctx.space;
    ctx.space = undefined;
    space?.();
    if (this.#play === ctx) this.#play = undefined;
    this.#refreshPlayState();
  }

  #settle(ctx: PlayContext, result: PlayResult): void {
    if (ctx.settled) return;
    ctx.settled = true;
    ctx.cleanup();
    ctx.resolve(result);
  }

  #closeIterator(ctx: PlayContext): void {
    try {
      const r = ctx.iterator.return?.();
      if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, () => {});
      }
    } catch {
      // A throwing return() must not break close/abort.
    }
  }

  // ---------------------------------------------------------------- RTCP, progress, transport events

  #snapshot(now: number): SenderSnapshot | undefined {
    const lastTs = this.#packetizer.lastTimestamp;
    // RFC 3550 §6.4: after two intervals without sending RTP we are no longer a sender: RR instead of SR.
    if (lastTs === undefined || now - this.#lastSendTime > 2 * this.#rtcp.intervalMs) return undefined;
    // Extrapolate from the last packet's timestamp so the NTP and RTP fields describe the same instant.
    const rtpTimestamp = (lastTs + Math.round((now - this.#lastMediaTime) * SAMPLES_PER_MS)) >>> 0;
    return {
      wallMs: now + (this.#clock.wallNow() - this.#clock.now()),
      rtpTimestamp,
      packetCount: this.#packetizer.packetCount,
      octetCount: this.#packetizer.octetCount,
    };
  }

  #rtcpTick(deadline: number): number | undefined {
    if (this.#transport === undefined || this.#state.status === 'closing' || this.#state.status === 'closed') return undefined;
    const now = this.#clock.now();
    this.#sendRtcp(this.#rtcp.buildReport(this.#snapshot(now)), now);
    return deadline + this.#rtcp.nextIntervalMs();
  }

  #sendRtcp(bytes: Uint8Array, now: number): void {
    this.#transport?.sendRtcp(bytes);
    this.#onPacket?.(bytes, 'rtcp', now);
  }

  #progressTick(deadline: number): number | undefined {
    if (this.#state.status === 'closing' || this.#state.status === 'closed') return undefined;
    if (this.listenerCount('progress') > 0) this.#emitSafe('progress', { type: 'progress', stats: this.stats() });
    return deadline + (this.#opts.progressIntervalMs ?? 1000);
  }

  #onRtcp(bytes: Uint8Array): void {
    const reports = this.#rtcp.receive(bytes, this.#clock.wallNow());
    for (const r of reports) this.#emitSafe('remoteReport', r);
  }

  #onSendError(e: TransportSendError): void {
    this.#emitSafe('sendError', {
      type: 'sendError',
      kind: e.kind,
      code: e.code,
      error: e.error,
      consecutive: e.consecutive,
      backoffMs: e.backoffMs,
    });
  }

  #taskFailed(err: unknown): void {
    this.#scheduled = false;
    this.#warn(err);
    const ctx = this.#play;
    if (ctx !== undefined) this.#stopPlay(ctx, { reason: 'error', error: err });
  }

  // ---------------------------------------------------------------- helpers

  #guardOptions(ipOverhead: number): ConstructorParameters<typeof BitrateGuard>[0] {
    const g = this.#opts.guard ?? {};
    return {
      roomBitrate: this.#opts.roomBitrate,
      ipOverhead,
      rtpHeaderSize: RTP_HEADER_SIZE,
      ...(g.count === undefined ? {} : { count: g.count }),
      ...(g.ceiling === undefined ? {} : { ceiling: g.ceiling }),
      ...(g.bucketDepthMs === undefined ? {} : { bucketDepthMs: g.bucketDepthMs }),
    };
  }

  #refreshPlayState(): void {
    const s = this.#state.status;
    if (s !== 'idle' && s !== 'playing' && s !== 'paused') return;
    const next = this.#play === undefined ? 'idle' : this.#paused ? 'paused' : 'playing';
    if (next !== s) this.#setState({ status: next });
  }

  #setState(next: SenderState): void {
    const old = this.#state;
    if (old.status === next.status) return;
    this.#state = next;
    this.#emitSafe('stateChange', old, next);
  }

  #emitSafe<K extends keyof RtpSenderEvents>(event: K, ...args: RtpSenderEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RtpSenderEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      // A throwing listener must not stop the pacer (it runs inside the shared scheduler).
      this.#warn(err);
    }
  }

  #warn(err: unknown): void {
    process.emitWarning(`kook-rtp sender: ${err instanceof Error ? err.message : String(err)}`, { code: 'KOOK_RTP_SENDER' });
  }
}

function nonNegativeInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new KookRtpError('INVALID_ARGUMENT', `${name} must be a non-negative integer, found ${v}`);
  return v;
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

/**
 * The pacing core of one RTP stream: a queue of ready Opus frames sent at absolute deadlines on an injected
 * {@link Scheduler}, under the {@link BitrateGuard}, with RTCP. Pure apart from the injected transport: the same class
 * runs inside the pacer thread (`pacer/worker.ts`) and in-process under a fake clock (`threads: false`).
 *
 * Frames arrive as data in segments (one segment per `play()` of the sender, one per track of a player). Segments
 * follow each other on the wire with contiguous sequence numbers and timestamps and no marker bit: a queue changes
 * track without a gap as long as the next segment's frames are there in time. The marker bit flags real gaps only:
 * the first packet, a resume after a pause, and a frame that came more than `stallThresholdMs` late.
 *
 * Pacing: `next += frame duration`; a stall re-anchors the schedule instead of bursting (counted). The guard may hold a
 * frame back (never drop it); the RTP timestamp stays media-correct meanwhile. RTCP: SR + SDES(CNAME) with the first
 * packet, then every interval; BYE on close.
 */

import { KookRtpError } from '../errors.js';
import type { PacketKind, PacketTransport, TransportSendError } from '../transport/transport.js';
import type { PackedFrames, PlainFrame } from '../util/packedFrames.js';
import { OPUS_SILENCE_FRAME } from '../wire/opus/toc.js';
import { RTP_HEADER_SIZE } from '../wire/rtp/packet.js';
import type { RtpSequencer } from '../wire/rtp/sequencer.js';
import { BitrateGuard, type GuardCount, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD } from './bitrateGuard.js';
import { FrameQueue } from './frameQueue.js';
import { LatenessHistogram } from './histogram.js';
import { RtpPacketizer } from './packetizer.js';
import { type RemoteReport, RtcpSession, type SenderSnapshot } from './rtcpSession.js';
import type { Scheduler, SchedulerTask } from './scheduler.js';
import type { BitrateAdviceEvent, SenderStats, StallEvent, UnderrunEvent, SendErrorEvent } from './stats.js';
import { SlidingWindowMeter } from './tokenBucket.js';

/** RTP clock rate of Opus (RFC 7587): always 48 kHz. */
const CLOCK_RATE = 48000;
const SAMPLES_PER_MS = CLOCK_RATE / 1000;
/** 20 ms: the duration given to Opus silence frames. */
const SILENCE_SAMPLES = 960;

/** One Opus frame as the pacer takes it: the bytes and its 48 kHz samples (960 for 20 ms). */
export type PacerFrame = PlainFrame;

/** Bitrate guard options; see {@link BitrateGuard}. */
export interface StreamGuardOptions {
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
export interface StreamRtcpOptions {
  /** Report interval, ms. Default 5000. */
  intervalMs?: number;
  /** RFC 3550 §6.3.1 randomization of the interval. Default false. */
  randomize?: boolean;
  /** SDES CNAME. Default: random. */
  cname?: string;
  /** Send RTCP at all. Default true. */
  enabled?: boolean;
}

/** The plain-data part of a stream's options: what crosses into the pacer thread. */
export interface StreamConfig {
  ssrc?: number;
  payloadType?: number;
  roomBitrate: number;
  guard?: StreamGuardOptions;
  rtcp?: StreamRtcpOptions;
  /** Opus silence frames sent on pause and at the end of a segment that asks for them. Default 5. */
  silenceFrames?: number;
  /** Lateness past which the schedule is re-anchored instead of catching up, ms. Default 20 (one frame). */
  stallThresholdMs?: number;
  /** Interval of 'progress' events, ms. Default 1000; 0 turns them off. */
  progressIntervalMs?: number;
  /** Fixed first sequence number and timestamp (tests). Default: random. */
  initialSequence?: { readonly seq: number; readonly ts: number };
}

/** Status of a paced stream, keyed by `status`, each carrying what it needs. */
export type PacedStreamState =
  /** Nothing queued and nothing expected; the next frame starts a talkspurt (marker bit). */
  | { readonly status: 'idle' }
  | { readonly status: 'playing' }
  /** Queued frames wait; `silenceLeft` silence frames still go out first. */
  | { readonly status: 'paused'; readonly silenceLeft: number }
  | { readonly status: 'closed' };

/** What a stream tells its owner. Plain data: in thread mode these cross to the host in batches. */
export type PacerEvent =
  | { readonly type: 'segmentStart'; readonly seg: number }
  | {
      readonly type: 'segmentEnd';
      readonly seg: number;
      /** `finished`: every frame was sent. `flushed`: dropped by a flush. `closed`: the stream closed. */
      readonly reason: 'finished' | 'flushed' | 'closed';
      /** Frames of this segment sent, and their 48 kHz samples. */
      readonly sent: number;
      readonly samples: number;
    }
  | { readonly type: 'progress' }
  /** The answer to {@link PacedStream.truncate}: frames `0 .. keptUpTo - 1` of the segment stay (sent or queued). */
  | { readonly type: 'truncated'; readonly seg: number; readonly keptUpTo: number }
  | StallEvent
  | UnderrunEvent
  | BitrateAdviceEvent
  | SendErrorEvent
  | { readonly type: 'remoteReport'; readonly report: RemoteReport }
  | { readonly type: 'state'; readonly status: PacedStreamState['status'] };

/** Receives a stream's events and learns when its queue has room. */
export interface PacedStreamListener {
  event(event: PacerEvent): void;
  /** The queue dropped to `refillAt` frames or below (called once per crossing; frames consumed counted in `consumed`). */
  space(consumed: number): void;
}

interface Segment {
  readonly id: number;
  /** No more frames will be pushed. */
  ended: boolean;
  /** Send the silence frames after its last frame when nothing follows. */
  endSilence: boolean;
  started: boolean;
  sent: number;
  samples: number;
  /** Frames of it still queued. */
  queued: number;
  /** Pushes of an older epoch (sent before a truncate) are dropped. */
  epoch: number;
}


const SILENCE: PacerFrame = { data: OPUS_SILENCE_FRAME, samples: SILENCE_SAMPLES };

/** See the module comment. */
export class PacedStream {
  readonly #cfg: StreamConfig;
  readonly #scheduler: Scheduler;
  readonly #transport: PacketTransport;
  readonly #listener: PacedStreamListener;
  readonly #onPacket: ((bytes: Uint8Array, kind: PacketKind, timeMs: number) => void) | undefined;
  readonly #packetizer: RtpPacketizer;
  readonly #rtcp: RtcpSession;
  readonly #rtcpEnabled: boolean;
  readonly #silenceFrames: number;
  readonly #stallMs: number;
  readonly #adviceBacklogMs: number;
  readonly #progressMs: number;
  readonly #ipOverhead: number;
  readonly #guard: BitrateGuard | undefined;
  #refillAt = 0;
  readonly #grid: number;
  #state: PacedStreamState = { status: 'idle' };

  // queue: a ring would save the shift, but queues are a few dozen frames long
  readonly #queue = new FrameQueue<Segment>();
  readonly #segments = new Map<number, Segment>();
  /** The segment whose frames went out last (for handover and end silence). */
  #lastSeg: Segment | undefined;
  #consumed = 0;
  #spaceSignalled = false;

  #scheduled = false;
  /** Silence frames still to send (end of a segment, pause, flush). */
  #silenceLeft = 0;
  /** The segment whose end silence is going out (it finishes after it). */
  #silenceSeg: Segment | undefined;
  #mediaDeadline = 0;
  /** Set while nothing is sent: when the next frame would have been due, and whether a gap there is real. */
  #gapFrom: number | undefined;
  #gapKind: 'idle' | 'underrun' = 'idle';
  #marker = true;
  #held = false;
  #adviceActive = false;
  #backlogMs = 0;
  #maxBacklogMs = 0;

  #sentAny = false;
  #lastMediaTime = 0;
  #lastSendTime = Number.NEGATIVE_INFINITY;

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
    onError: () => {},
  };
  readonly #progressTask: SchedulerTask = {
    run: (deadline) => this.#progressTick(deadline),
    onError: () => {},
  };

  /**
   * @param config - plain options, see {@link StreamConfig}.
   * @param deps - the scheduler (and its clock), an open transport (closed by {@link PacedStream.close}), the
   *   listener, an optional per-datagram hook, and an optional sequencer (tests).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for invalid options.
   */
  constructor(
    config: StreamConfig,
    deps: {
      scheduler: Scheduler;
      transport: PacketTransport;
      listener: PacedStreamListener;
      onPacket?: (bytes: Uint8Array, kind: PacketKind, timeMs: number) => void;
      sequencer?: RtpSequencer;
      /** Queue length at or below which {@link PacedStreamListener.space} is called. Default 0. */
      refillAt?: number;
      /**
       * Start every talkspurt (and re-anchor after a stall) on a multiple of this many ms of the clock, so that the
       * deadlines of many streams fall together and go out in one wake-up. Default 0 (off).
       */
      phaseGridMs?: number;
    },
  ) {
    validateStreamConfig(config);
    this.#cfg = config;
    this.#scheduler = deps.scheduler;
    this.#transport = deps.transport;
    this.#listener = deps.listener;
    this.#onPacket = deps.onPacket;
    this.#refillAt = deps.refillAt ?? 0;
    this.#grid = deps.phaseGridMs ?? 0;
    const pk = { ssrc: config.ssrc ?? 1111, payloadType: config.payloadType ?? 111 };
    this.#packetizer = new RtpPacketizer(deps.sequencer === undefined ? pk : { ...pk, sequencer: deps.sequencer });
    const r = config.rtcp ?? {};
    this.#rtcpEnabled = r.enabled ?? true;
    this.#rtcp = new RtcpSession({
      ssrc: this.#packetizer.ssrc,
      ...(r.cname === undefined ? {} : { cname: r.cname }),
      ...(r.intervalMs === undefined ? {} : { intervalMs: r.intervalMs }),
      ...(r.randomize === undefined ? {} : { randomize: r.randomize }),
    });
    this.#silenceFrames = config.silenceFrames ?? 5;
    this.#stallMs = config.stallThresholdMs ?? 20;
    this.#adviceBacklogMs = config.guard?.adviceBacklogMs ?? 100;
    this.#progressMs = config.progressIntervalMs ?? 1000;
    this.#ipOverhead = this.#transport.info.family === 'udp6' ? IPV6_UDP_OVERHEAD : IPV4_UDP_OVERHEAD;
    const clock = this.#scheduler.clock;
    if (config.guard?.enabled ?? true) this.#guard = new BitrateGuard(guardOptions(config, this.#ipOverhead), clock.now());
    this.#transport.setHandlers({
      onRtcp: (bytes) => this.#onRtcp(bytes),
      onSendError: (e) => this.#onSendError(e),
    });
    if (this.#progressMs > 0) this.#scheduler.schedule(this.#progressTask, clock.now() + this.#progressMs);
  }

  /** The current state. */
  get state(): PacedStreamState {
    return this.#state;
  }

  /** The SSRC. */
  get ssrc(): number {
    return this.#packetizer.ssrc;
  }

  /** Frames queued, not yet sent. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Frames sent or dropped so far (the owner's backpressure counter). */
  get consumed(): number {
    return this.#consumed;
  }

  /** The lateness histogram (for merging across streams). */
  get latenessHistogram(): LatenessHistogram {
    return this.#lateness;
  }

  /** Sets the queue length at or below which {@link PacedStreamListener.space} fires. */
  setRefillAt(frames: number): void {
    this.#refillAt = frames;
  }

  /**
   * Appends frames to segment `seg` (created on first use). Frames of a segment that was flushed are dropped (and
   * counted as consumed).
   */
  push(seg: number, frames: readonly PacerFrame[], epoch = 0): void {
    const s = this.#segmentFor(seg, frames.length, epoch);
    if (s === undefined) return;
    for (const f of frames) this.#queue.push(f.data, 0, f.data.length, f.samples, s);
    this.#pushed(s, frames.length);
  }

  /**
   * {@link PacedStream.push} for frames `from .. from + count - 1` of a packed batch, kept as ranges of its buffer
   * (no object per frame).
   */
  pushPacked(seg: number, packed: PackedFrames, from: number, count: number, epoch = 0): void {
    const s = this.#segmentFor(seg, count, epoch);
    if (s === undefined) return;
    const { bytes, ends, samples } = packed;
    for (let i = from; i < from + count; i++) {
      this.#queue.push(bytes, i === 0 ? 0 : (ends[i - 1] as number), ends[i] as number, samples[i] as number, s);
    }
    this.#pushed(s, count);
  }

  /** The segment `count` frames go to, or undefined when they are to be dropped (counted as consumed). */
  #segmentFor(seg: number, count: number, epoch: number): Segment | undefined {
    if (this.#state.status === 'closed') {
      this.#consumed += count;
      return undefined;
    }
    let s = this.#segments.get(seg);
    if (s === undefined) {
      s = { id: seg, ended: false, endSilence: true, started: false, sent: 0, samples: 0, queued: 0, epoch };
      this.#segments.set(seg, s);
    }
    if (s.ended || epoch < s.epoch) {
      this.#consumed += count;
      return undefined;
    }
    return s;
  }

  #pushed(s: Segment, count: number): void {
    s.queued += count;
    // Every push re-arms the signal: the owner learns again once these frames have left.
    this.#spaceSignalled = false;
    if (count > 0) this.#wake();
  }

  /**
   * No more frames for `seg`. It ends on the wire after its last frame; the silence frames follow when `endSilence`
   * and no other segment's frames are queued then.
   */
  end(seg: number, endSilence: boolean): void {
    let s = this.#segments.get(seg);
    if (s === undefined) {
      if (this.#state.status === 'closed') return;
      s = { id: seg, ended: false, endSilence, started: false, sent: 0, samples: 0, queued: 0, epoch: 0 };
      this.#segments.set(seg, s);
    }
    s.ended = true;
    s.endSilence = endSilence;
    if (s.queued === 0) {
      // Nothing left of it: it ends now (it may never have had a frame).
      this.#finishSegment(s, 'finished');
      if (endSilence && this.#lastSeg === s && this.queued === 0 && this.#scheduled) this.#silenceLeft = this.#silenceFrames;
    }
  }

  /**
   * Drops the queued frames of `seg` (every segment when undefined) and ends it with `flushed`. Takes effect on the
   * wire at the next deadline. `silence`: close the talkspurt with the silence frames when audio was flowing and
   * nothing else is queued.
   */
  flush(seg: number | undefined, silence: boolean): void {
    this.#consumed += this.#queue.retain((s) => !(seg === undefined || s.id === seg));
    const flushed: Segment[] = [];
    if (seg === undefined) flushed.push(...this.#segments.values());
    else {
      const s = this.#segments.get(seg);
      if (s !== undefined) flushed.push(s);
    }
    for (const s of flushed) {
      s.queued = 0;
      s.ended = true;
      this.#finishSegment(s, 'flushed');
    }
    if (silence && this.#scheduled && this.#silenceLeft === 0 && this.queued === 0) this.#silenceLeft = this.#silenceFrames;
    this.#signalSpace();
  }

  /** Forgets the lateness samples so far (a measurement window starts now). */
  resetLateness(): void {
    this.#lateness.reset();
  }

  /**
   * Keeps the next `keep` queued frames of `seg` and drops the rest, and every later push of an epoch below `epoch`;
   * answers with a `truncated` event saying how many of the segment's frames stay. The owner then pushes again from
   * there (a volume change reaching audio already buffered).
   */
  truncate(seg: number, keep: number, epoch: number): void {
    // A segment that has no frame here yet (truncated before its first push) is made, so that the owner hears back.
    const s = this.#segmentFor(seg, 0, epoch);
    if (s === undefined) {
      this.#listener.event({ type: 'truncated', seg, keptUpTo: 0 });
      return;
    }
    let kept = 0;
    const dropped = this.#queue.retain((t) => t !== s || kept++ < keep);
    this.#consumed += dropped;
    s.queued -= dropped;
    s.epoch = epoch;
    this.#listener.event({ type: 'truncated', seg, keptUpTo: s.sent + s.queued });
    this.#signalSpace();
  }

  /** Pauses: the silence frames, then nothing; queued frames wait. */
  pause(): void {
    if (this.#state.status !== 'idle' && this.#state.status !== 'playing') return;
    // Silence only if audio is flowing now; after an underrun the far end already has a gap.
    const silenceLeft = this.#scheduled && this.#silenceLeft === 0 ? this.#silenceFrames : this.#silenceLeft;
    this.#silenceLeft = silenceLeft;
    this.#setState({ status: 'paused', silenceLeft });
  }

  /** Resumes: the timestamp advances by the time paused and the next packet carries the marker bit. */
  resume(): void {
    if (this.#state.status !== 'paused') return;
    this.#setState({ status: this.queued > 0 || this.#openSegments() ? 'playing' : 'idle' });
    this.#wake();
  }

  /** A snapshot of every counter. `status` is the stream's; the host maps it onto the sender's. */
  stats(): Omit<SenderStats, 'status'> {
    const now = this.#scheduler.clock.now();
    const g = this.#guard;
    const ts = this.#transport.stats();
    const seq = this.#packetizer.sequencer;
    return {
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
      sendErrors: ts.sendErrors,
      sendSkipped: ts.skipped,
      sequenceNumber: seq.sequenceNumber,
      rollovers: seq.rollovers,
      timestamp: seq.timestamp,
      queued: this.queued,
    };
  }

  /**
   * Ends every segment (`closed`), sends an RTCP BYE when anything was sent, closes the transport. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state.status === 'closed') return;
    this.#flushQuiet();
    this.#scheduler.cancel(this.#task);
    this.#scheduler.cancel(this.#rtcpTask);
    this.#scheduler.cancel(this.#progressTask);
    this.#scheduled = false;
    for (const s of [...this.#segments.values()]) this.#finishSegment(s, 'closed');
    this.#setState({ status: 'closed' });
    if (this.#rtcpEnabled && this.#sentAny) {
      const now = this.#scheduler.clock.now();
      try {
        this.#sendRtcp(this.#rtcp.buildBye(this.#snapshot(now)), now);
      } catch {
        // A BYE that cannot be built or sent must not keep the socket open.
      }
    }
    await this.#transport.close();
  }

  /** Drops every queued frame without ending segments (close() ends them as `closed`). */
  #flushQuiet(): void {
    this.#consumed += this.queued;
    this.#queue.clear();
  }

  // ---------------------------------------------------------------- pacing

  #openSegments(): boolean {
    for (const s of this.#segments.values()) if (!s.ended || s.queued > 0) return true;
    return false;
  }

  #tick(deadline: number): number | undefined {
    const t = this.#scheduler.clock.now();
    // The frame to send: silence, or the queue's head (`seg` set), or nothing.
    let seg: Segment | undefined;
    let bytes = 0;
    let frameSamples = 0;
    let have = false;
    const paused = this.#state.status === 'paused';
    if (this.#silenceLeft > 0) {
      have = true;
      bytes = SILENCE.data.length;
      frameSamples = SILENCE.samples;
    } else if (!paused && this.#queue.length > 0) {
      have = true;
      seg = this.#queue.headTag;
      bytes = this.#queue.headBytes;
      frameSamples = this.#queue.headSamples;
    }
    if (!have) {
      this.#scheduled = false;
      this.#gapFrom = this.#mediaDeadline;
      const expecting = !paused && this.#openSegments();
      if (expecting) {
        this.#gapKind = 'underrun';
        this.#underruns++;
        this.#listener.event({ type: 'underrun', count: this.#underruns });
      } else {
        // A segment that ended without silence hands over to the next: a frame within one stall threshold keeps
        // the timestamps contiguous.
        this.#gapKind = this.#lastSeg !== undefined && !this.#lastSeg.endSilence && !paused ? 'underrun' : 'idle';
        if (!paused && this.#state.status === 'playing') this.#setState({ status: 'idle' });
      }
      return undefined;
    }

    // A stall: don't catch up with a burst, move the whole schedule (latency grows, timestamps stay contiguous).
    const late = t - deadline;
    if (late > this.#stallMs) {
      this.#stalls++;
      this.#mediaDeadline = this.#snap(t);
      this.#listener.event({ type: 'stall', lateMs: late });
    }

    const g = this.#guard;
    if (g !== undefined) {
      const earliest = g.earliest(t, bytes);
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

    if (seg !== undefined && !seg.started) {
      seg.started = true;
      this.#listener.event({ type: 'segmentStart', seg: seg.id });
    }
    const packet = this.#packetizer.packetize(seg === undefined ? SILENCE.data : this.#queue.headPayload(), frameSamples, this.#marker);
    this.#marker = false;
    this.#transport.sendRtp(packet);
    this.#onPacket?.(packet, 'rtp', t);
    const payload = bytes;
    g?.record(t, payload);
    this.#rate.record(t, packet.length);
    this.#lateness.record(late);
    this.#packets++;
    this.#payloadBytes += payload;
    this.#rtpBytes += packet.length;
    this.#ipBytes += packet.length + this.#ipOverhead;
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
    this.#mediaDeadline += frameSamples / SAMPLES_PER_MS;

    if (seg === undefined) {
      this.#silenceSent++;
      this.#silenceLeft--;
      const ending = this.#silenceSeg;
      if (this.#silenceLeft === 0 && ending !== undefined) {
        this.#silenceSeg = undefined;
        this.#finishSegment(ending, 'finished');
      }
      if (this.#silenceLeft === 0 && this.#state.status === 'paused') this.#setState({ status: 'paused', silenceLeft: 0 });
    } else {
      this.#queue.shift();
      this.#consumed++;
      const s = seg;
      s.sent++;
      s.samples += frameSamples;
      s.queued--;
      this.#lastSeg = s;
      if (this.#state.status === 'idle') this.#setState({ status: 'playing' });
      if (s.queued === 0 && s.ended) {
        if (s.endSilence && this.queued === 0 && this.#silenceFrames > 0) {
          // The segment ends after its silence frames (a play resolves once the far end has heard the end).
          this.#silenceLeft = this.#silenceFrames;
          this.#silenceSeg = s;
        } else {
          this.#finishSegment(s, 'finished');
        }
      }
      this.#signalSpace();
    }
    // Behind the media schedule only because the guard held frames back: run again now, the guard decides.
    return this.#mediaDeadline > t ? this.#mediaDeadline : t;
  }

  /** `t` moved up to the phase grid (see `phaseGridMs`). */
  #snap(t: number): number {
    const g = this.#grid;
    return g > 0 ? Math.ceil(t / g) * g : t;
  }

  #signalSpace(): void {
    if (this.#spaceSignalled || this.queued > this.#refillAt) return;
    this.#spaceSignalled = true;
    this.#listener.space(this.#consumed);
  }

  #finishSegment(s: Segment, reason: 'finished' | 'flushed' | 'closed'): void {
    if (!this.#segments.delete(s.id)) return;
    this.#listener.event({ type: 'segmentEnd', seg: s.id, reason, sent: s.sent, samples: s.samples });
  }

  #noteBacklog(backlogMs: number, g: BitrateGuard): void {
    const b = backlogMs > 0 ? backlogMs : 0;
    this.#backlogMs = b;
    if (b > this.#maxBacklogMs) this.#maxBacklogMs = b;
    if (!this.#adviceActive && b > this.#adviceBacklogMs) {
      this.#adviceActive = true;
      const bps = Math.max(6000, Math.floor(g.fittingBitrate() * 0.75));
      this.#listener.event({ type: 'bitrateAdvice', reason: 'backlog', bps, backlogMs: b });
    } else if (this.#adviceActive && b === 0) {
      this.#adviceActive = false;
      this.#listener.event({ type: 'bitrateAdvice', reason: 'drained', bps: g.fittingBitrate(), backlogMs: 0 });
    }
  }

  /** (Re)enters the scheduler when there is something to send and it is not already scheduled. */
  #wake(): void {
    if (this.#scheduled || this.#state.status === 'closed') return;
    if (this.#state.status === 'paused' && this.#silenceLeft === 0) return;
    const clock = this.#scheduler.clock;
    const now = clock.now();
    const gapFrom = this.#gapFrom;
    if (gapFrom !== undefined) {
      this.#gapFrom = undefined;
      const gap = now - gapFrom;
      if (this.#gapKind === 'underrun' && gap <= this.#stallMs) {
        // A frame a little late: keep the schedule and contiguous timestamps; lateness records the delay.
      } else if (gap > 0) {
        // A real gap: the timestamp follows real time, the marker flags the new talkspurt (RFC 3551 §4.1).
        const start = this.#snap(now);
        this.#packetizer.skip((start - gapFrom) * SAMPLES_PER_MS);
        this.#marker = true;
        this.#mediaDeadline = start;
      }
    } else if (!this.#sentAny) {
      this.#mediaDeadline = this.#snap(now);
    }
    this.#scheduled = true;
    this.#scheduler.schedule(this.#task, this.#mediaDeadline > now ? this.#mediaDeadline : now);
  }

  // ---------------------------------------------------------------- RTCP, progress, transport events

  #snapshot(now: number): SenderSnapshot | undefined {
    const lastTs = this.#packetizer.lastTimestamp;
    // RFC 3550 §6.4: after two intervals without sending RTP we are no longer a sender: RR instead of SR.
    if (lastTs === undefined || now - this.#lastSendTime > 2 * this.#rtcp.intervalMs) return undefined;
    // Extrapolate from the last packet's timestamp so the NTP and RTP fields describe the same instant.
    const rtpTimestamp = (lastTs + Math.round((now - this.#lastMediaTime) * SAMPLES_PER_MS)) >>> 0;
    const clock = this.#scheduler.clock;
    return {
      wallMs: now + (clock.wallNow() - clock.now()),
      rtpTimestamp,
      packetCount: this.#packetizer.packetCount,
      octetCount: this.#packetizer.octetCount,
    };
  }

  #rtcpTick(deadline: number): number | undefined {
    if (this.#state.status === 'closed') return undefined;
    const now = this.#scheduler.clock.now();
    this.#sendRtcp(this.#rtcp.buildReport(this.#snapshot(now)), now);
    return deadline + this.#rtcp.nextIntervalMs();
  }

  #sendRtcp(bytes: Uint8Array, now: number): void {
    this.#transport.sendRtcp(bytes);
    this.#onPacket?.(bytes, 'rtcp', now);
  }

  #progressTick(deadline: number): number | undefined {
    if (this.#state.status === 'closed') return undefined;
    this.#listener.event({ type: 'progress' });
    return deadline + this.#progressMs;
  }

  #onRtcp(bytes: Uint8Array): void {
    const reports = this.#rtcp.receive(bytes, this.#scheduler.clock.wallNow());
    for (const report of reports) this.#listener.event({ type: 'remoteReport', report });
  }

  #onSendError(e: TransportSendError): void {
    this.#listener.event({
      type: 'sendError',
      kind: e.kind,
      code: e.code,
      error: e.error,
      consecutive: e.consecutive,
      backoffMs: e.backoffMs,
    });
  }

  #taskFailed(_err: unknown): void {
    // The tick threw (a transport bug): drop what is queued rather than spin on it.
    this.#scheduled = false;
    this.flush(undefined, false);
  }

  #setState(next: PacedStreamState): void {
    const old = this.#state;
    this.#state = next;
    if (old.status !== next.status) this.#listener.event({ type: 'state', status: next.status });
  }
}

function guardOptions(config: StreamConfig, ipOverhead: number): ConstructorParameters<typeof BitrateGuard>[0] {
  const g = config.guard ?? {};
  return {
    roomBitrate: config.roomBitrate,
    ipOverhead,
    rtpHeaderSize: RTP_HEADER_SIZE,
    ...(g.count === undefined ? {} : { count: g.count }),
    ...(g.ceiling === undefined ? {} : { ceiling: g.ceiling }),
    ...(g.bucketDepthMs === undefined ? {} : { bucketDepthMs: g.bucketDepthMs }),
  };
}

/**
 * Checks a stream's plain options (at construction on the host, so a bad value fails at once, not in the pacer).
 *
 * @throws {@link KookRtpError} `INVALID_ARGUMENT`.
 */
export function validateStreamConfig(config: StreamConfig): void {
  if (!(config.roomBitrate > 0)) {
    throw new KookRtpError('INVALID_ARGUMENT', `roomBitrate must be a positive number of bits/s, found ${config.roomBitrate}`);
  }
  nonNegativeInt(config.silenceFrames ?? 5, 'silenceFrames');
  if (config.guard?.ceiling !== undefined || config.guard?.count !== undefined) {
    new BitrateGuard(guardOptions(config, IPV4_UDP_OVERHEAD), 0);
  }
}

/** @throws {@link KookRtpError} `INVALID_ARGUMENT` unless `v` is a non-negative integer. */
export function nonNegativeInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new KookRtpError('INVALID_ARGUMENT', `${name} must be a non-negative integer, found ${v}`);
  return v;
}

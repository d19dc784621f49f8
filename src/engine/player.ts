/**
 * The player: a queue of tracks played as ONE continuous RTP stream through one {@link RtpSender} (one socket, one
 * SSRC, sequence numbers and timestamps continuing across tracks), which is what KOOK's address binding requires.
 *
 * Each track is opened with {@link openTrack} just before it plays, so a queue of two-hour files costs no memory until
 * its turn. A track that fails to open or turns corrupt half way is reported (`trackEnd` with reason `error`, an
 * `error` event when someone listens) and the queue goes on. Every queued item has a `done` promise that settles
 * (never rejects) when the item has finished, been skipped, removed or stopped.
 *
 * State machine (discriminated on `status`, as in discordjs/voice): `idle` → `loading` → `playing` ⇄ `paused` →
 * `idle` ..., and `stopped` (final) after {@link Player.stop} or the abort signal.
 */
import { EventEmitter } from 'node:events';
import { KookRtpError, isKookRtpError } from '../errors.js';
import type { OpusFrame } from '../media/frame.js';
import type { TrackInput } from '../media/input.js';
import { createOpusDecoder, type OpusFrameDecoder } from '../media/opus/decoder.js';
import type { TrackInfo } from '../media/probe.js';
import { openTrack, type Track, type TrackOptions } from '../media/track.js';
import { openTrackInWorker } from './mediaPool.js';
import type { RtpSender } from './sender.js';
import { emitGuarded } from '../util/emit.js';
import { checkVolume } from '../util/volume.js';
import type { BitrateAdviceEvent, ProgressEvent, SenderStats } from '../pacer/stats.js';

/** Why a track stopped playing. */
export type TrackEndReason = 'finished' | 'skipped' | 'removed' | 'stopped' | 'error';

/** What {@link QueueItem.done} settles with. */
export interface TrackEnd {
  readonly reason: TrackEndReason;
  /** For `error`: what went wrong (frames before it were sent). */
  readonly error?: KookRtpError;
  /** Seconds of this track that were handed to the sender. */
  readonly playedSec: number;
}

/** Per-track options given to {@link Player.enqueue}. */
export interface EnqueueOptions {
  /** Start this many seconds in. */
  readonly seek?: number;
  /** Passed to {@link openTrack} (raw PCM format, passthrough policy, encoder settings...). */
  readonly track?: Omit<TrackOptions, 'seek' | 'volume' | 'signal' | 'roomBitrate'>;
  /** A label for events and logs; default the input when it is a string. */
  readonly title?: string;
}

/** One entry of the queue. */
export interface QueueItem {
  /** Unique within the player. */
  readonly id: number;
  readonly input: TrackInput;
  readonly title: string;
  readonly options: EnqueueOptions;
  /** Settles when this item stops playing for good (never rejects). */
  readonly done: Promise<TrackEnd>;
}

/** The player's state, keyed by `status`. */
export type PlayerState =
  | { readonly status: 'idle' }
  | { readonly status: 'loading'; readonly item: QueueItem }
  | { readonly status: 'playing'; readonly item: QueueItem; readonly info: TrackInfo }
  | { readonly status: 'paused'; readonly item: QueueItem; readonly info: TrackInfo }
  | { readonly status: 'stopped' };

/** Loop mode: none, the current track again and again, or the whole queue. */
export type LoopMode = 'off' | 'track' | 'queue';

/** A 'progress' event: once a second while a track plays. */
export interface PlayerProgress {
  readonly item: QueueItem;
  /** Position in the track, seconds (what has been handed to the sender). */
  readonly positionSec: number;
  readonly durationSec?: number;
  /** RTP bitrate over the last second and the room's limit, bits/s. */
  readonly bitrateBps: number;
  readonly limitBps: number;
  readonly stats: SenderStats;
}

/** Typed event map of {@link Player}. */
export interface PlayerEvents {
  stateChange: [oldState: PlayerState, newState: PlayerState];
  trackStart: [event: { readonly item: QueueItem; readonly info: TrackInfo }];
  trackEnd: [event: { readonly item: QueueItem } & TrackEnd];
  /** Emitted only when someone listens (an unheard 'error' would otherwise crash the process). */
  error: [event: { readonly item?: QueueItem; readonly error: KookRtpError }];
  progress: [event: PlayerProgress];
  /** The queue ran dry. */
  idle: [];
}

/** A sink for what the player sends, as PCM (the moderation tap). */
export interface PcmTap {
  /** One 20 ms frame: interleaved Int16 stereo at 48 kHz (960 samples per channel). The buffer is reused after. */
  writePcm(frame: Int16Array): void;
}

/** Options of {@link createPlayer}. */
export interface PlayerOptions {
  /** The sender every track plays through (started by the player if needed; closed by {@link Player.destroy}). */
  readonly sender: RtpSender;
  /** The room's bitrate, bits/s: sizes the Opus budget of every track. */
  readonly roomBitrate: number;
  /** Linear gain for every track, default 1 (other values force transcoding). */
  readonly volume?: number;
  /** Default 'off'. */
  readonly loop?: LoopMode;
  /** Stops the player when aborted. */
  readonly signal?: AbortSignal;
  /** Receives the PCM of every frame sent (decoded back from the Opus), for a moderation tap. */
  readonly tap?: PcmTap;
  /**
   * Decode and encode in the media worker pool (paths, URLs and bytes; streams are always read here). Default: as the
   * sender (threaded senders use the pool).
   */
  readonly threads?: boolean;
  /** Opens tracks; default {@link openTrackInWorker} or {@link openTrack} (tests inject failures here). */
  readonly open?: (input: TrackInput, options: TrackOptions) => Promise<Track>;
}

interface Entry extends QueueItem {
  settle(end: TrackEnd): void;
  settled: boolean;
}

type Outcome =
  | { kind: 'finished' | 'skipped' | 'stopped' | 'removed'; playedSec: number }
  | { kind: 'seek'; seekSec: number; playedSec: number }
  | { kind: 'error'; error: KookRtpError; playedSec: number };

/** One play of an item on the sender: the current one, or the next one queued behind it (gapless). */
interface Running {
  readonly entry: Entry;
  readonly current: Current;
  /** Settles when the track's frames have all been handed to the sender (or the play ended). */
  readonly sourceDone: Promise<void>;
  outcome: Promise<Outcome>;
  /** Its first frame went out. */
  started: boolean;
  /** It is the player's current item (events are emitted for it). */
  promoted: boolean;
  /** Emit trackStart for it (not after a seek). */
  readonly announce: boolean;
  /** Taken from the queue (put back there if cancelled before it played). */
  readonly fromQueue: boolean;
  /** Seconds played by earlier passes of the same item (before a seek). */
  readonly playedBefore: number;
  /** Its loop-'queue' copy has already been queued (by the prefetch). */
  requeued: boolean;
}

interface Current {
  readonly entry: Entry;
  readonly abort: AbortController;
  /** Why the current play is being cut short, set before aborting. */
  cut: { readonly kind: 'skip' | 'seek' | 'stop' | 'remove' | 'requeue'; readonly seekSec?: number } | undefined;
  track: Track | undefined;
  /** Seconds before the first frame of this play (seek offset). */
  baseSec: number;
  /** 48 kHz samples handed to the sender in this play. */
  samples: number;
}

/**
 * Creates a player on a sender. Tracks start as soon as they are queued.
 *
 * @example
 * const player = createPlayer({ sender, roomBitrate: 48000 });
 * player.enqueue('a.mp3'); player.enqueue('b.flac');
 * player.on('trackEnd', (e) => console.log(e.item.title, e.reason));
 */
export function createPlayer(options: PlayerOptions): Player {
  return new Player(options);
}

/** See the module comment; create with {@link createPlayer}. */
export class Player extends EventEmitter<PlayerEvents> {
  #sender: RtpSender;
  readonly #roomBitrate: number;
  readonly #open: (input: TrackInput, options: TrackOptions) => Promise<Track>;
  #tap: PcmTap | undefined;
  #tapDecoder: OpusFrameDecoder | undefined;
  #queue: Entry[] = [];
  #history: Entry[] = [];
  #current: Current | undefined;
  /** The item queued behind the current one on the sender (opened before the current one ends). */
  #next: Running | undefined;
  /** Items settled by stop() whose trackEnd waits for the current track's. */
  #stoppedWaiting: Entry[] = [];
  #state: PlayerState = { status: 'idle' };
  #volume: number;
  #loop: LoopMode;
  #nextId = 1;
  /** The play loop in progress, if any: one at a time, so one sender.play() at a time. */
  #runLoop: Promise<void> | undefined;
  #paused = false;
  readonly #onProgress: (e: ProgressEvent) => void;
  readonly #onAdvice: (e: BitrateAdviceEvent) => void;

  constructor(options: PlayerOptions) {
    super();
    if (!(Number.isFinite(options.roomBitrate) && options.roomBitrate > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `roomBitrate must be bits/s > 0, got ${String(options.roomBitrate)}`);
    }
    this.#sender = options.sender;
    this.#roomBitrate = options.roomBitrate;
    this.#volume = checkVolume(options.volume ?? 1);
    this.#loop = options.loop ?? 'off';
    this.#open = options.open ?? ((options.threads ?? options.sender.threaded) ? openTrackInWorker : openTrack);
    this.#tap = options.tap;
    this.#onProgress = (e) => this.#progress(e.stats);
    this.#onAdvice = (e) => this.#current?.track?.setBitrate(e.bps);
    this.#sender.on('progress', this.#onProgress);
    this.#sender.on('bitrateAdvice', this.#onAdvice);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.stop());
      else signal.addEventListener('abort', () => this.stop(), { once: true });
    }
  }

  /** The current state. */
  get state(): PlayerState {
    return this.#state;
  }

  /** The items waiting to play (not the current one). */
  get queue(): readonly QueueItem[] {
    const n = this.#next;
    return n === undefined ? [...this.#queue] : [n.entry, ...this.#queue];
  }

  /** The item playing (or loading, or paused), if any. */
  get current(): QueueItem | undefined {
    return this.#current?.entry;
  }

  /** Seconds into the current track (what has been handed to the sender). */
  get positionSec(): number {
    const c = this.#current;
    return c === undefined ? 0 : c.baseSec + c.samples / 48000;
  }

  /** Linear gain of every track; a change is ramped over one frame on the track playing now. */
  get volume(): number {
    return this.#volume;
  }

  set volume(v: number) {
    this.#volume = checkVolume(v);
    let rewind = false;
    for (const t of [this.#current?.track, this.#next?.current.track]) {
      if (t === undefined) continue;
      rewind ||= t.info.mode === 'transcode';
      t.volume = this.#volume;
    }
    // What is buffered was encoded at the old volume: the sender drops it beyond the next 60 ms and the track makes
    // it again at the new one, so the change is heard within about 100 ms.
    if (rewind) this.#sender.truncate(60);
  }

  /** Sets (or removes) the PCM tap that receives every frame sent, decoded back from the Opus. */
  setTap(tap: PcmTap | undefined): void {
    this.#tap = tap;
  }

  /** Loop mode; takes effect when the current track ends. */
  get loop(): LoopMode {
    return this.#loop;
  }

  set loop(mode: LoopMode) {
    if (mode !== 'off' && mode !== 'track' && mode !== 'queue') {
      throw new KookRtpError('INVALID_ARGUMENT', `loop must be 'off', 'track' or 'queue', got ${String(mode)}`);
    }
    this.#loop = mode;
  }

  /** The sender the player plays through. */
  get sender(): RtpSender {
    return this.#sender;
  }

  /**
   * Moves playback to another sender (after a rejoin gave a new address): the current track is re-opened on the new
   * sender at the position reached, the queue goes on there. The old sender is not closed (its owner closes it).
   * A track given as a one-shot stream cannot be re-opened and is skipped instead.
   */
  switchSender(sender: RtpSender): void {
    if (sender === this.#sender) return;
    this.#sender.off('progress', this.#onProgress);
    this.#sender.off('bitrateAdvice', this.#onAdvice);
    const c = this.#current;
    if (c !== undefined && c.cut === undefined) {
      c.cut = isReopenable(c.entry.input) ? { kind: 'seek', seekSec: c.baseSec + c.samples / 48000 } : { kind: 'skip' };
      c.abort.abort();
    }
    this.#cancelNext(true);
    this.#sender = sender;
    sender.on('progress', this.#onProgress);
    sender.on('bitrateAdvice', this.#onAdvice);
    if (this.#paused) sender.pause();
  }

  /**
   * Adds a track to the end of the queue; it starts at once when nothing is playing.
   * @returns the queue item; `item.done` settles when it has finished (or was skipped, removed, stopped, failed).
   * @throws {@link KookRtpError} `PLAYER_STOPPED` after {@link Player.stop}.
   */
  enqueue(input: TrackInput, options: EnqueueOptions = {}): QueueItem {
    if (this.#state.status === 'stopped') {
      throw new KookRtpError('PLAYER_STOPPED', 'the player was stopped: create a new one to play more');
    }
    const entry = this.#makeEntry(input, options);
    this.#queue.push(entry);
    this.#kick();
    return entry;
  }

  /** Alias of {@link Player.enqueue}, for the common "play this" call. */
  play(input: TrackInput, options: EnqueueOptions = {}): QueueItem {
    return this.enqueue(input, options);
  }

  /** Removes a waiting item (settling it with `removed`); the current one is skipped instead. */
  remove(id: number): boolean {
    if (this.#current?.entry.id === id) return this.skip();
    if (this.#next?.entry.id === id) {
      const entry = this.#cancelNext(false);
      if (entry !== undefined) this.#finish(entry, { reason: 'removed', playedSec: 0 }, false);
      return true;
    }
    const i = this.#queue.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const [entry] = this.#queue.splice(i, 1);
    if (entry !== undefined) this.#finish(entry, { reason: 'removed', playedSec: 0 }, false);
    return true;
  }

  /** Ends the current track now (reason `skipped`) and goes on with the queue. False when nothing plays. */
  skip(): boolean {
    const c = this.#current;
    if (c === undefined) return false;
    c.cut = { kind: 'skip' };
    c.abort.abort();
    return true;
  }

  /**
   * Jumps within the current track by re-opening it at `seconds` (the RTP stream continues without a gap marker
   * beyond the re-open time). Inputs that can be read only once (a Node Readable, an AsyncIterable) cannot seek.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a negative time or an input that cannot be re-opened.
   */
  seek(seconds: number): boolean {
    if (!(Number.isFinite(seconds) && seconds >= 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `seek needs seconds >= 0, got ${String(seconds)}`);
    }
    const c = this.#current;
    if (c === undefined) return false;
    if (!isReopenable(c.entry.input)) {
      throw new KookRtpError('INVALID_ARGUMENT', 'this track was given as a stream, which can be read only once: seek needs a path, URL or bytes');
    }
    c.cut = { kind: 'seek', seekSec: seconds };
    c.abort.abort();
    return true;
  }

  /** Pauses the stream (Opus silence frames, then nothing); the queue waits. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#sender.pause();
    const s = this.#state;
    if (s.status === 'playing') this.#setState({ status: 'paused', item: s.item, info: s.info });
  }

  /** Resumes after {@link Player.pause}: the next packet carries the marker bit and a timestamp advanced by the pause. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#sender.resume();
    const s = this.#state;
    if (s.status === 'paused') this.#setState({ status: 'playing', item: s.item, info: s.info });
  }

  /** Empties the queue (settling the items with `removed`) without touching the current track. */
  clear(): void {
    const next = this.#cancelNext(false);
    const waiting = next === undefined ? this.#queue : [next, ...this.#queue];
    this.#queue = [];
    for (const e of waiting) this.#finish(e, { reason: 'removed', playedSec: 0 }, false);
  }

  /**
   * Stops for good: the current track ends with `stopped`, the queue is settled with `stopped`. The sender stays
   * open (call {@link Player.destroy} or close the sender to send the RTCP BYE and free the socket).
   */
  stop(): void {
    if (this.#state.status === 'stopped') return;
    const next = this.#cancelNext(false);
    const waiting = next === undefined ? this.#queue : [next, ...this.#queue];
    this.#queue = [];
    const c = this.#current;
    for (const e of waiting) e.settle({ reason: 'stopped', playedSec: 0 });
    if (c !== undefined && this.#runLoop !== undefined) {
      // The current track reports its end first; the waiting ones follow when the loop has ended it.
      this.#stoppedWaiting.push(...waiting);
      c.cut = { kind: 'stop' };
      c.abort.abort();
    } else {
      for (const e of waiting) this.#finish(e, { reason: 'stopped', playedSec: 0 }, false);
    }
    if (this.#paused) {
      this.#paused = false;
      this.#sender.resume();
    }
    this.#setState({ status: 'stopped' });
  }

  /** {@link Player.stop}, then closes the sender (RTCP BYE, socket closed). Never rejects. */
  async destroy(): Promise<void> {
    this.stop();
    while (this.#runLoop !== undefined) await this.#runLoop;
    this.#sender.off('progress', this.#onProgress);
    this.#sender.off('bitrateAdvice', this.#onAdvice);
    this.#tapDecoder?.close();
    this.#tapDecoder = undefined;
    await this.#sender.close();
  }

  /** Resolves when the queue is empty and nothing plays (or the player stopped). */
  async drained(): Promise<void> {
    while ((this.#runLoop !== undefined || this.#queue.length > 0) && !this.#isStopped()) {
      await new Promise<void>((r) => {
        const done = (): void => {
          this.off('idle', done);
          this.off('stateChange', onState);
          r();
        };
        const onState = (_o: PlayerState, n: PlayerState): void => {
          if (n.status === 'stopped') done();
        };
        this.on('idle', done);
        this.on('stateChange', onState);
      });
    }
  }

  #isStopped(): boolean {
    return this.#state.status === 'stopped';
  }

  #makeEntry(input: TrackInput, options: EnqueueOptions): Entry {
    let settle!: (end: TrackEnd) => void;
    const done = new Promise<TrackEnd>((r) => (settle = r));
    const entry: Entry = {
      id: this.#nextId++,
      input,
      title: options.title ?? (typeof input === 'string' ? input : `track ${this.#nextId - 1}`),
      options,
      done,
      settled: false,
      settle: (end) => {
        if (entry.settled) return;
        entry.settled = true;
        settle(end);
      },
    };
    return entry;
  }

  #kick(): void {
    if (this.#runLoop !== undefined) return;
    // Started on the next microtask so that `#runLoop` is set before the loop can clear it.
    const loop: Promise<void> = Promise.resolve()
      .then(() => this.#run())
      .catch((err: unknown) => this.#emitError(undefined, toKookError(err)))
      .finally(() => {
        // A loop that ran dry has already handed over (see #run); only a loop that ended otherwise clears itself.
        if (this.#runLoop !== loop) return;
        this.#runLoop = undefined;
        if (!this.#isStopped() && this.#queue.length > 0) this.#kick();
      });
    this.#runLoop = loop;
  }

  async #run(): Promise<void> {
    let running: Running | undefined;
    try {
      for (;;) {
        if (this.#isStopped()) return;
        if (running === undefined) {
          const entry = this.#queue.shift();
          if (entry === undefined) {
            // Not running from here on, so that an 'idle' listener (and drained()) sees the final state, and a track
            // it queues starts a new loop; this one only returns.
            this.#runLoop = undefined;
            this.#setState({ status: 'idle' });
            this.#emit('idle');
            return;
          }
          running = this.#start(entry, entry.options.seek ?? 0, { promoted: true, fromQueue: true, playedBefore: 0 });
        }
        // Gapless: once this track's source is handed over, the next one opens and queues behind it on the wire.
        await Promise.race([running.sourceDone, running.outcome]);
        if (this.#next === undefined && running.current.cut === undefined && !this.#isStopped()) this.#prefetch(running);
        const outcome = await running.outcome;
        const entry = running.entry;
        const playedSec = running.playedBefore + outcome.playedSec;
        if (outcome.kind === 'seek') {
          this.#cancelNext(true);
          running = this.#start(entry, outcome.seekSec, { promoted: true, fromQueue: running.fromQueue, playedBefore: playedSec });
          continue;
        }
        const end: TrackEnd =
          outcome.kind === 'error' ? { reason: 'error', error: outcome.error, playedSec } : { reason: outcome.kind, playedSec };
        const again = !this.#isStopped() && (end.reason === 'finished' || end.reason === 'error');
        if (again && this.#loop === 'track' && end.reason === 'finished') {
          this.#emit('trackEnd', { item: entry, ...end });
          if (this.#isStopped()) {
            // Stopped from a trackEnd listener: this pass has been reported, the item ends here.
            entry.settle({ reason: 'stopped', playedSec });
            return;
          }
          const n = this.#next;
          if (n !== undefined && n.entry === entry) {
            this.#next = undefined;
            running = this.#promote(n);
          } else {
            this.#cancelNext(true);
            running = this.#start(entry, 0, { promoted: true, fromQueue: true, playedBefore: 0 });
          }
          continue;
        }
        this.#finish(entry, end, true);
        if (again && this.#loop === 'queue' && !running.requeued) {
          // The item goes round again as a new entry; its promise has settled for this pass.
          this.#queue.push(this.#makeEntry(entry.input, entry.options));
        }
        const n = this.#next;
        this.#next = undefined;
        running = n === undefined ? undefined : this.#promote(n);
      }
    } finally {
      if (running !== undefined && this.#current === running.current) this.#current = undefined;
      const waiting = this.#stoppedWaiting;
      this.#stoppedWaiting = [];
      for (const e of waiting) this.#finish(e, { reason: 'stopped', playedSec: 0 }, false);
    }
  }

  /** Opens and queues the item after `running` (same entry again for loop 'track'). */
  #prefetch(running: Running): void {
    if (this.#loop === 'track') {
      this.#next = this.#start(running.entry, 0, { promoted: false, fromQueue: false, playedBefore: 0 });
      return;
    }
    let entry = this.#queue.shift();
    let fromQueue = true;
    if (entry === undefined && this.#loop === 'queue') {
      entry = this.#makeEntry(running.entry.input, running.entry.options);
      running.requeued = true;
      fromQueue = false;
    }
    if (entry === undefined) return;
    this.#next = this.#start(entry, entry.options.seek ?? 0, { promoted: false, fromQueue, playedBefore: 0 });
  }

  /** Drops the prefetched item (its buffered frames leave the wire); back to the head of the queue when `putBack`. */
  #cancelNext(putBack: boolean): Entry | undefined {
    const n = this.#next;
    if (n === undefined) return undefined;
    this.#next = undefined;
    n.current.cut = { kind: 'requeue' };
    n.current.abort.abort();
    if (putBack && n.fromQueue) this.#queue.unshift(n.entry);
    return n.entry;
  }

  /** Makes a prefetched item the current one. */
  #promote(n: Running): Running {
    n.promoted = true;
    this.#current = n.current;
    const info = n.current.track?.info;
    if (info === undefined) this.#setState({ status: 'loading', item: n.entry });
    else this.#setState(this.#paused ? { status: 'paused', item: n.entry, info } : { status: 'playing', item: n.entry, info });
    if (n.started && n.announce && info !== undefined) this.#emit('trackStart', { item: n.entry, info });
    return n;
  }

  /** Opens `entry` at `seekSec` and plays it behind whatever the sender is playing. */
  #start(entry: Entry, seekSec: number, how: { promoted: boolean; fromQueue: boolean; playedBefore: number }): Running {
    const current: Current = { entry, abort: new AbortController(), cut: undefined, track: undefined, baseSec: seekSec, samples: 0 };
    let sourceDone!: () => void;
    const r: Running = {
      entry,
      current,
      sourceDone: new Promise<void>((res) => (sourceDone = res)),
      outcome: undefined as unknown as Promise<Outcome>,
      started: false,
      promoted: how.promoted,
      announce: seekSec === (entry.options.seek ?? 0),
      fromQueue: how.fromQueue,
      playedBefore: how.playedBefore,
      requeued: false,
    };
    if (how.promoted) {
      this.#current = current;
      this.#setState({ status: 'loading', item: entry });
    }
    r.outcome = this.#playOnce(r, seekSec, sourceDone).finally(sourceDone);
    return r;
  }

  async #playOnce(r: Running, seekSec: number, sourceDone: () => void): Promise<Outcome> {
    const { entry, current } = r;
    let track: Track;
    try {
      track = await this.#open(entry.input, {
        ...entry.options.track,
        roomBitrate: this.#roomBitrate,
        volume: this.#volume,
        seek: seekSec,
        signal: current.abort.signal,
      });
    } catch (err) {
      if (current.cut !== undefined) return this.#cutOutcome(current);
      const error = toKookError(err);
      this.#emitError(entry, error);
      return { kind: 'error', error, playedSec: 0 };
    }
    current.track = track;
    if (current.cut !== undefined) {
      await track.close();
      return this.#cutOutcome(current);
    }
    // The volume may have changed while opening.
    if (track.volume !== this.#volume) track.volume = this.#volume;
    if (r.promoted) {
      this.#setState(this.#paused ? { status: 'paused', item: entry, info: track.info } : { status: 'playing', item: entry, info: track.info });
    }
    let result: Awaited<ReturnType<RtpSender['play']>>;
    try {
      result = await this.#sender.play(this.#frames(track, current), {
      signal: current.abort.signal,
      // Silence closes the stream only when nothing follows: between queued tracks it would be a 100 ms gap.
      endSilence: () => {
        const cut = current.cut?.kind;
        if (cut === 'stop') return true;
        if (cut === 'seek' || cut === 'requeue') return false;
        return this.#queue.length === 0 && this.#loop === 'off' && this.#next === undefined;
      },
      onSourceDone: sourceDone,
      onTruncate: (fromFrame) => {
        current.samples = fromFrame * 960;
        if (track.rewind?.(fromFrame) === false) {
          // Not held any more: the frames from there are lost (a short skip); rare, see Track.rewind.
        }
      },
      onStart: () => {
        r.started = true;
        if (r.promoted && r.announce) this.#emit('trackStart', { item: entry, info: track.info });
      },
      });
    } catch (err) {
      result = { reason: 'error', error: err };
    }
    await track.close();
    if (current.cut !== undefined) return this.#cutOutcome(current);
    const playedSec = current.samples / 48000;
    switch (result.reason) {
      case 'finished':
        return { kind: 'finished', playedSec };
      case 'aborted':
      case 'closed':
        return { kind: 'stopped', playedSec };
      case 'error': {
        const error = toKookError(result.error);
        this.#emitError(entry, error);
        return { kind: 'error', error, playedSec };
      }
    }
  }

  #cutOutcome(
    c: Current,
  ):
    | { kind: 'skipped' | 'stopped' | 'removed'; playedSec: number }
    | { kind: 'seek'; seekSec: number; playedSec: number } {
    const playedSec = c.samples / 48000;
    const cut = c.cut;
    if (cut?.kind === 'seek') return { kind: 'seek', seekSec: cut.seekSec ?? 0, playedSec };
    if (cut?.kind === 'skip') return { kind: 'skipped', playedSec };
    if (cut?.kind === 'remove') return { kind: 'removed', playedSec };
    return { kind: 'stopped', playedSec };
  }

  /** The track's frames, counted for the position and copied to the tap. */
  async *#frames(track: Track, current: Current): AsyncGenerator<OpusFrame> {
    for await (const frame of track) {
      current.samples += frame.samples;
      const tap = this.#tap;
      if (tap !== undefined) {
        try {
          this.#tapDecoder ??= createOpusDecoder();
          tap.writePcm(this.#tapDecoder.decode(frame.data));
        } catch {
          // A tap must never break playback; the tap reports its own errors.
        }
      }
      yield frame;
    }
  }

  #finish(entry: Entry, end: TrackEnd, played: boolean): void {
    // Settle first, emit second: a throwing listener cannot leave the promise unsettled.
    entry.settle(end);
    if (played || end.reason !== 'removed') {
      this.#emit('trackEnd', { item: entry, ...end });
    }
    this.#history.push(entry);
    if (this.#history.length > 100) this.#history.shift();
  }

  #progress(stats: SenderStats): void {
    const c = this.#current;
    if (c === undefined || c.track === undefined) return;
    this.#emit('progress', {
      item: c.entry,
      positionSec: c.baseSec + c.samples / 48000,
      ...(c.track.info.durationSec === undefined ? {} : { durationSec: c.track.info.durationSec }),
      bitrateBps: stats.bitrate.currentBps,
      limitBps: this.#roomBitrate,
      stats,
    });
  }

  #emitError(item: QueueItem | undefined, error: KookRtpError): void {
    if (this.listenerCount('error') > 0) this.#emit('error', item === undefined ? { error } : { item, error });
  }

  /** Every event goes through here: each listener guarded, so a throw never breaks the queue or a promise. */
  #emit<K extends keyof PlayerEvents>(event: K, ...args: PlayerEvents[K]): void {
    emitGuarded(this, event, args, 'KOOK_RTP_PLAYER');
  }

  #setState(next: PlayerState): void {
    const old = this.#state;
    if (old.status === 'stopped') return;
    this.#state = next;
    if (old.status !== next.status || ('item' in old && 'item' in next && old.item !== next.item)) {
      this.#emit('stateChange', old, next);
    }
  }
}


function isReopenable(input: TrackInput): boolean {
  return typeof input === 'string' || input instanceof URL || input instanceof Uint8Array;
}

function toKookError(err: unknown): KookRtpError {
  if (isKookRtpError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KookRtpError('DECODE_FAILED', `track failed: ${message}`, { cause: err });
}

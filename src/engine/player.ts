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
import { checkCrossfadeMs, openOverlayBed, openTrack, type OverlayOptions, type Track, type TrackEvent, type TrackOptions } from '../media/track.js';
import { validateFilters, type Filters } from '../media/dsp/filters.js';
import { checkOverlayMix } from '../media/dsp/bus.js';
import { openOverlayBedInWorker, openTrackInWorker } from './mediaPool.js';
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

/** Options of {@link Player.overlay}. */
export interface OverlayItemOptions {
  /** Music gain while the clip plays, dB in −96..0. Default −12. */
  readonly duckDb?: number;
  /** Duck and restore ramp, ms in 0..5000. Default 150. */
  readonly fadeMs?: number;
  /** The clip's linear gain, 0..16. Default 1. */
  readonly volume?: number;
  /** A label for events; default the input when it is a string. */
  readonly title?: string;
}

/** Why an overlay stopped. */
export type OverlayEndReason = 'finished' | 'removed' | 'stopped' | 'error';

/** What {@link OverlayItem.done} settles with. */
export interface OverlayEnd {
  readonly reason: OverlayEndReason;
  readonly error?: KookRtpError;
  /** Seconds of the clip that were mixed. */
  readonly playedSec: number;
}

/** A clip mixed over the music (see {@link Player.overlay}). */
export interface OverlayItem {
  readonly id: number;
  readonly input: TrackInput;
  readonly title: string;
  readonly options: OverlayItemOptions;
  /** Settles when the clip has been heard to its end, removed, stopped or failed (never rejects). */
  readonly done: Promise<OverlayEnd>;
}

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
  /** An overlay's first frame went out. */
  overlayStart: [event: { readonly overlay: OverlayItem }];
  /** An overlay's last frame went out (or it was removed, stopped, or failed). */
  overlayEnd: [event: { readonly overlay: OverlayItem } & OverlayEnd];
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
  /**
   * Overlap the end of each track with the start of the next by this many ms, with an equal-power fade (0..30000;
   * 0, the default, is gapless). Needs the outgoing track's duration; both tracks are transcoded around the fade.
   */
  readonly crossfadeMs?: number;
  /** Loudness normalisation per track (see {@link TrackOptions.normalize}). Default 'off'. */
  readonly normalize?: 'off' | 'track';
  /** Target for `normalize: 'track'`, LUFS. Default −16. */
  readonly normalizeTargetLufs?: number;
  /** Lavalink-style filters for every track (see {@link Player.filters}). */
  readonly filters?: Filters;
}

/** Played items kept for {@link Player.previous}. */
const HISTORY_ITEMS = 100;

interface OverlayRec {
  readonly item: OverlayItem;
  readonly settle: (end: OverlayEnd) => void;
  settled: boolean;
  started: boolean;
  /** Seconds of the clip mixed on tracks that have handed it over. */
  carriedSec: number;
  /** The track it plays on now (undefined while waiting for one). */
  track: Track | undefined;
  /** The play (Running) it is on, for wire timing. */
  on: Running | undefined;
  /** The frame of that play where it started. */
  trackStart: number | undefined;
  /** What is opened: the input, or its bytes when it was a stream (read once, opened again on the next track). */
  source: TrackInput;
  /** A track that refused it (it had ended): it waits for the one after. */
  refusedBy: Track | undefined;
}

interface Entry extends QueueItem {
  settle(end: TrackEnd): void;
  settled: boolean;
  /** Interrupted by playNow(): play from here when it comes round again. */
  resumeSec?: number | undefined;
  /** Seconds played by earlier plays (before an interruption). */
  playedEarlier?: number;
  /** A bed for overlays with nothing playing: no track events, not in the history. */
  readonly bed?: boolean;
}

type Outcome =
  | { kind: 'finished' | 'skipped' | 'stopped' | 'removed' | 'interrupted'; playedSec: number }
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
  /** Its source has been handed over (the next one may be opened; it takes no more overlays). */
  sourceEnded: boolean;
  /** Where this play started, seconds. */
  readonly seekSec: number;
  /** It resumes an item interrupted by playNow() (not announced again; put back with its position). */
  readonly resumed: boolean;
  /** Track events waiting for their frame to reach the sender, and those scheduled for the wire. */
  readonly waiting: TrackEvent[];
  readonly scheduled: { readonly frame: number; readonly timer: NodeJS.Timeout; readonly event: TrackEvent }[];
  /** Every frame of it has been handed to the sender. */
  handedAll: boolean;
  /** Its end kept for the next track's crossfade, once taken from the track. */
  tail: Float32Array | undefined;
  /** A bed asked to hand its overlays over to the music queued. */
  handingOver?: boolean;
}

interface Current {
  readonly entry: Entry;
  readonly abort: AbortController;
  /** Why the current play is being cut short, set before aborting. */
  cut: { readonly kind: 'skip' | 'seek' | 'stop' | 'remove' | 'requeue' | 'interrupt'; readonly seekSec?: number } | undefined;
  track: Track | undefined;
  /** Seconds before the first frame of this play (seek offset). */
  baseSec: number;
  /** 48 kHz samples handed to the sender in this play. */
  samples: number;
  /** Frames of this play heard when it was cut (what was handed over minus what waited in the pacer). */
  heardFrames?: number;
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
  /** The play the loop is on (the current item's). */
  #running: Running | undefined;
  #crossfadeMs: number;
  #normalize: 'off' | 'track';
  readonly #normalizeTarget: number;
  #filters: Filters;
  readonly #openBed: (options: TrackOptions) => Promise<Track>;
  readonly #overlays = new Map<number, OverlayRec>();
  /** Overlays waiting for a track to play on (handed over, or asked for while none was open). */
  #carry: OverlayRec[] = [];
  #nextOverlayId = 1;
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
    const threaded = options.threads ?? options.sender.threaded;
    this.#open = options.open ?? (threaded ? openTrackInWorker : openTrack);
    this.#openBed = threaded ? openOverlayBedInWorker : openOverlayBed;
    this.#crossfadeMs = checkCrossfadeMs(options.crossfadeMs ?? 0);
    this.#normalize = checkNormalize(options.normalize ?? 'off');
    const target = options.normalizeTargetLufs ?? -16;
    if (!(Number.isFinite(target) && target <= 0 && target >= -70)) throw new KookRtpError('INVALID_ARGUMENT', `normalizeTargetLufs must be LUFS in -70..0, got ${String(target)}`);
    this.#normalizeTarget = target;
    this.#filters = validateFilters(options.filters ?? {});
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
    // A repeat of the current item (loop 'track') is not a queued item.
    return n === undefined || n.entry.bed || n.entry === this.#current?.entry ? [...this.#queue] : [n.entry, ...this.#queue];
  }

  /** The item playing (or loading, or paused), if any. */
  get current(): QueueItem | undefined {
    const e = this.#current?.entry;
    return e?.bed ? undefined : e;
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

  /**
   * Crossfade between tracks, ms (0 = gapless). A change applies from the next track change that has not begun.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` outside 0..30000.
   */
  get crossfadeMs(): number {
    return this.#crossfadeMs;
  }

  set crossfadeMs(ms: number) {
    this.#crossfadeMs = checkCrossfadeMs(ms);
    this.#updateCrossfade();
  }

  /** Loudness normalisation; a change applies from the next track opened. */
  get normalize(): 'off' | 'track' {
    return this.#normalize;
  }

  set normalize(mode: 'off' | 'track') {
    this.#normalize = checkNormalize(mode);
  }

  /**
   * Lavalink-style filters (`equalizer`, `lowPass`, `tremolo`, `vibrato`, `rotation`, `channelMix`, `karaoke`,
   * `timescale`, `distortion`, `volume`) on every track. Setting replaces them all; the change is heard within about
   * 100 ms, crossfaded over 20 ms (with timescale on, after the buffer: about 0.5 s).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` on a bad filter (the ones in force stay).
   */
  get filters(): Filters {
    return this.#filters;
  }

  set filters(f: Filters) {
    this.#filters = validateFilters(f);
    let rewind = false;
    for (const r of [this.#running, this.#next]) {
      const t = r?.current.track;
      if (t === undefined || r?.sourceEnded === true) continue;
      t.filters = this.#filters;
      rewind ||= r === this.#running;
    }
    if (rewind) this.#sender.truncate(60);
  }

  /** The overlays playing or waiting to play. */
  get overlays(): readonly OverlayItem[] {
    return [...this.#overlays.values()].map((r) => r.item);
  }

  /**
   * Mixes a clip (TTS, jingle, soundboard) over whatever plays, on the same stream: the music is ducked by `duckDb`
   * with a `fadeMs` ramp while it plays and comes back after it. Several may play at once; with nothing playing the
   * clip plays alone. It starts within about 100 ms (after its first frames are decoded). A clip still playing when a
   * track ends carries on over the next one.
   *
   * @returns the overlay; `done` settles when it has been heard to its end (or was removed, stopped, failed).
   * @throws {@link KookRtpError} `PLAYER_STOPPED` after {@link Player.stop}; `INVALID_ARGUMENT` on a bad option.
   */
  overlay(input: TrackInput, options: OverlayItemOptions = {}): OverlayItem {
    if (this.#isStopped()) throw new KookRtpError('PLAYER_STOPPED', 'the player was stopped: create a new one to play more');
    checkOverlayMix(options);
    let settle!: (end: OverlayEnd) => void;
    const done = new Promise<OverlayEnd>((r) => (settle = r));
    const id = this.#nextOverlayId++;
    const item: OverlayItem = { id, input, title: options.title ?? (typeof input === 'string' ? input : `overlay ${id}`), options, done };
    const rec: OverlayRec = {
      item,
      settled: false,
      settle: (end) => {
        if (rec.settled) return;
        rec.settled = true;
        settle(end);
      },
      started: false,
      carriedSec: 0,
      track: undefined,
      on: undefined,
      trackStart: undefined,
      source: input,
      refusedBy: undefined,
    };
    this.#overlays.set(id, rec);
    if (isReopenable(input)) {
      this.#placeOverlay(rec);
      return item;
    }
    // A stream can be read once: read it whole, so that it can cross to a worker and go on over the next track.
    readWhole(input).then(
      (bytes) => {
        if (rec.settled) return;
        rec.source = bytes;
        this.#placeOverlay(rec);
      },
      (err: unknown) => this.#endOverlay(rec, { reason: 'error', error: toKookError(err), playedSec: 0 }),
    );
    return item;
  }

  /** Stops an overlay (reason `removed`). False when it is not playing or waiting. */
  removeOverlay(id: number): boolean {
    const rec = this.#overlays.get(id);
    if (rec === undefined) return false;
    rec.track?.removeOverlay?.(id);
    this.#carry = this.#carry.filter((r) => r !== rec);
    this.#endOverlay(rec, { reason: 'removed', playedSec: this.#overlayHeardSec(rec) });
    return true;
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
    // A repeat of the current track opened ahead, not yet on the wire, is dropped when the loop no longer wants it.
    const n = this.#next;
    if (mode !== 'track' && n !== undefined && !n.started && n.entry === this.#running?.entry) {
      this.#cancelNext(false);
      this.#reprefetch();
    }
    this.#updateCrossfade();
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
      this.#cut(c, isReopenable(c.entry.input) ? { kind: 'seek', seekSec: c.baseSec + c.samples / 48000 } : { kind: 'skip' });
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
    this.#queueChanged();
    return entry;
  }

  /**
   * Puts a track at `index` of {@link Player.queue} (0 = next; the queue's length or more = last).
   * @throws {@link KookRtpError} `PLAYER_STOPPED` after stop; `INVALID_ARGUMENT` for a negative or fractional index.
   */
  insert(input: TrackInput, index: number, options: EnqueueOptions = {}): QueueItem {
    this.#checkPlayable();
    checkIndex(index, 'index');
    const entry = this.#makeEntry(input, options);
    this.#editQueue((q, fixed) => q.splice(Math.max(0, index - fixed), 0, entry));
    return entry;
  }

  /**
   * Plays a track now. The current one stops where it is and resumes from there once the new one has ended (one
   * given as a stream cannot be re-opened and is skipped instead); its `done` settles only when it really ends.
   */
  playNow(input: TrackInput, options: EnqueueOptions = {}): QueueItem {
    this.#checkPlayable();
    const entry = this.#makeEntry(input, options);
    const c = this.#current;
    const r = this.#running;
    if (c === undefined || c.cut !== undefined || r === undefined || r.entry.bed) {
      this.#editQueue((q) => q.unshift(entry), true);
      if (r?.entry.bed) r.current.track?.handOver?.();
      return entry;
    }
    this.#cancelNext(true);
    if (isReopenable(c.entry.input)) {
      // Where the listener is: what was handed over minus what waits in the pacer.
      const at = c.baseSec + Math.max(0, c.samples / 48000 - this.#sender.bufferedMs / 1000);
      c.entry.resumeSec = at;
      this.#queue.unshift(entry, c.entry);
      this.#cut(c, { kind: 'interrupt' });
    } else {
      this.#queue.unshift(entry);
      this.#cut(c, { kind: 'skip' });
    }
    c.abort.abort();
    return entry;
  }

  /**
   * Moves the item at `from` of {@link Player.queue} to `to`.
   * @returns false when `from` is out of range.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a negative or fractional index.
   */
  move(from: number, to: number): boolean {
    checkIndex(from, 'from');
    checkIndex(to, 'to');
    if (from >= this.queue.length) return false;
    this.#editQueue((q) => {
      const [e] = q.splice(from, 1);
      if (e !== undefined) q.splice(Math.min(to, q.length), 0, e);
    }, true);
    return true;
  }

  /** Shuffles {@link Player.queue} (Fisher-Yates). */
  shuffle(): void {
    this.#editQueue((q) => {
      for (let i = q.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [q[i], q[j]] = [q[j] as Entry, q[i] as Entry];
      }
    }, true);
  }

  /**
   * Plays the item before the current one again (from a history of the last 100 played); the current one goes back
   * to the head of the queue, from its start. Calling it again walks further back.
   * @returns the new queue item, or undefined when nothing has been played before.
   */
  previous(): QueueItem | undefined {
    this.#checkPlayable();
    const last = this.#history.pop();
    if (last === undefined) return undefined;
    const entry = this.#makeEntry(last.input, last.options);
    const c = this.#current;
    if (c !== undefined && c.cut === undefined && this.#running?.entry.bed !== true) {
      const again = this.#makeEntry(c.entry.input, c.entry.options);
      this.#cancelNext(true);
      this.#queue.unshift(entry, again);
      noHistory.add(c.entry);
      this.#cut(c, { kind: 'skip' });
      c.abort.abort();
    } else {
      this.#editQueue((q) => q.unshift(entry), true);
    }
    return entry;
  }

  #checkPlayable(): void {
    if (this.#state.status === 'stopped') {
      throw new KookRtpError('PLAYER_STOPPED', 'the player was stopped: create a new one to play more');
    }
  }

  /**
   * Changes the queue. The item opened ahead behind the current one goes back into the queue first (`whole`, or
   * always when it has not started on the wire), so the change takes it in; `fixed` is 1 when it stays.
   */
  #editQueue(f: (q: Entry[], fixed: number) => void, whole = false): void {
    const n = this.#next;
    let fixed = 0;
    if (n !== undefined && (n.entry.bed || ((whole || !n.started) && n.fromQueue))) this.#cancelNext(!n.entry.bed);
    else if (n !== undefined && n.entry !== this.#current?.entry) fixed = 1;
    f(this.#queue, fixed);
    this.#queueChanged();
  }

  /** After the queue grew or changed: start, end a bed of overlays, open ahead again, keep the crossfade right. */
  #queueChanged(): void {
    const r = this.#running;
    if (r?.entry.bed && this.#queue.length > 0 && !r.handingOver) {
      // The music starts at once: the bed's buffered frames are dropped and its clips go on over the music from there.
      r.handingOver = true;
      if (r.current.track === undefined || !this.#sender.truncate(60)) r.current.track?.handOver?.();
    }
    this.#updateCrossfade();
    this.#reprefetch();
    this.#kick();
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
      if (entry !== undefined) this.#finishWaiting(entry, 'removed');
      return true;
    }
    const i = this.#queue.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const [entry] = this.#queue.splice(i, 1);
    if (entry !== undefined) this.#finishWaiting(entry, 'removed');
    return true;
  }

  /** Ends the current track now (reason `skipped`) and goes on with the queue. False when nothing plays. */
  skip(): boolean {
    const c = this.#current;
    if (c === undefined) return false;
    this.#cut(c, { kind: 'skip' });
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
    this.#cut(c, { kind: 'seek', seekSec: seconds });
    c.abort.abort();
    return true;
  }

  /** Pauses the stream (Opus silence frames, then nothing); the queue waits. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#sender.pause();
    // Overlay events wait for the wire: back to waiting until resume.
    for (const r of [this.#running, this.#next]) {
      if (r === undefined) continue;
      for (const x of r.scheduled.splice(0)) {
        clearTimeout(x.timer);
        r.waiting.push(x.event);
      }
      r.waiting.sort((a, b) => a.frame - b.frame);
    }
    const s = this.#state;
    if (s.status === 'playing') this.#setState({ status: 'paused', item: s.item, info: s.info });
  }

  /** Resumes after {@link Player.pause}: the next packet carries the marker bit and a timestamp advanced by the pause. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#sender.resume();
    for (const r of [this.#running, this.#next]) if (r !== undefined) this.#releaseEvents(r);
    const s = this.#state;
    if (s.status === 'paused') this.#setState({ status: 'playing', item: s.item, info: s.info });
  }

  /** Empties the queue (settling the items with `removed`) without touching the current track. */
  clear(): void {
    const next = this.#cancelNext(false);
    // A repeat of the current item opened ahead is the current item: it is not removed (it is opened again).
    const waiting = next === undefined || next === this.#current?.entry ? this.#queue : [next, ...this.#queue];
    this.#queue = [];
    for (const e of waiting) this.#finishWaiting(e, 'removed');
    this.#reprefetch();
  }

  /**
   * Stops for good: the current track ends with `stopped`, the queue is settled with `stopped`. The sender stays
   * open (call {@link Player.destroy} or close the sender to send the RTCP BYE and free the socket).
   */
  stop(): void {
    if (this.#state.status === 'stopped') return;
    const next = this.#cancelNext(false);
    const waiting = next === undefined || next === this.#current?.entry ? this.#queue : [next, ...this.#queue];
    this.#queue = [];
    const c = this.#current;
    for (const rec of [...this.#overlays.values()]) {
      rec.track?.removeOverlay?.(rec.item.id);
      this.#endOverlay(rec, { reason: 'stopped', playedSec: this.#overlayHeardSec(rec) });
    }
    this.#carry = [];
    for (const e of waiting) e.settle({ reason: 'stopped', playedSec: e.playedEarlier ?? 0 });
    if (c !== undefined && this.#runLoop !== undefined) {
      // The current track reports its end first; the waiting ones follow when the loop has ended it.
      this.#stoppedWaiting.push(...waiting);
      this.#cut(c, { kind: 'stop' });
      c.abort.abort();
    } else {
      for (const e of waiting) this.#finishWaiting(e, 'stopped');
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
          const entry = this.#queue.shift() ?? (this.#carry.length > 0 ? this.#makeBed() : undefined);
          if (entry === undefined) {
            // Not running from here on, so that an 'idle' listener (and drained()) sees the final state, and a track
            // it queues starts a new loop; this one only returns.
            this.#runLoop = undefined;
            this.#running = undefined;
            this.#setState({ status: 'idle' });
            this.#emit('idle');
            return;
          }
          const resumed = entry.resumeSec !== undefined;
          running = this.#start(entry, this.#seekOf(entry), { promoted: true, fromQueue: !entry.bed, playedBefore: entry.playedEarlier ?? 0, ...(resumed ? { announce: false, resumed } : {}) });
        }
        this.#running = running;
        // Gapless: once this track's source is handed over, the next one opens and queues behind it on the wire.
        await Promise.race([running.sourceDone, running.outcome]);
        running.sourceEnded = true;
        if (this.#next === undefined && running.current.cut === undefined && !this.#isStopped()) this.#prefetch(running);
        const outcome = await running.outcome;
        const entry = running.entry;
        const playedSec = running.playedBefore + outcome.playedSec;
        if (outcome.kind === 'seek') {
          this.#cancelNext(true);
          running = this.#start(entry, outcome.seekSec, { promoted: true, fromQueue: running.fromQueue, playedBefore: playedSec, announce: false });
          continue;
        }
        if (outcome.kind === 'interrupted') {
          // playNow(): the new item and this one (to resume) are at the head of the queue.
          // What was heard: up to where it resumes (the frames that waited in the pacer were dropped).
          entry.playedEarlier = running.playedBefore + Math.max(0, (entry.resumeSec ?? running.current.baseSec) - running.current.baseSec);
          running = undefined;
          continue;
        }
        const end: TrackEnd =
          outcome.kind === 'error' ? { reason: 'error', error: outcome.error, playedSec } : { reason: outcome.kind, playedSec };
        const again = !this.#isStopped() && (end.reason === 'finished' || end.reason === 'error') && !entry.bed;
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
        // A repeat of this item opened ahead (loop 'track') does not outlive its end (skipped, removed, failed).
        if (this.#next?.entry === entry) this.#cancelNext(false);
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
      this.#running = undefined;
      const waiting = this.#stoppedWaiting;
      this.#stoppedWaiting = [];
      for (const e of waiting) this.#finishWaiting(e, 'stopped');
    }
  }

  /** Where an item starts: where playNow() interrupted it, or its own seek. */
  #seekOf(entry: Entry): number {
    const s = entry.resumeSec ?? entry.options.seek ?? 0;
    entry.resumeSec = undefined;
    return s;
  }

  /** A hidden item playing the overlays waiting for a track, with nothing else to play. */
  #makeBed(): Entry {
    const entry = this.#makeEntry(new Uint8Array(0), { title: 'overlays' });
    return Object.assign(entry, { bed: true });
  }

  /** Opens and queues the item after `running` (same entry again for loop 'track'). */
  #prefetch(running: Running): void {
    running.tail ??= running.current.track?.takeTail?.();
    const tail = running.tail;
    if (this.#loop === 'track' && !running.entry.bed) {
      this.#next = this.#start(running.entry, 0, { promoted: false, fromQueue: false, playedBefore: 0, crossfadeIn: tail });
      return;
    }
    let entry = this.#queue.shift();
    let fromQueue = true;
    if (entry === undefined && this.#loop === 'queue' && !running.entry.bed) {
      entry = this.#makeEntry(running.entry.input, running.entry.options);
      running.requeued = true;
      fromQueue = false;
    }
    if (entry === undefined && this.#carry.length > 0) {
      entry = this.#makeBed();
      fromQueue = false;
    }
    if (entry === undefined) return;
    const resumed = entry.resumeSec !== undefined;
    this.#next = this.#start(entry, this.#seekOf(entry), { promoted: false, fromQueue, playedBefore: entry.playedEarlier ?? 0, crossfadeIn: tail, ...(resumed ? { announce: false, resumed } : {}) });
  }

  /** After a queue change: open the next item again if the current one's source is already done. */
  #reprefetch(): void {
    const r = this.#running;
    if (r !== undefined && r.sourceEnded && this.#next === undefined && r.current.cut === undefined && !this.#isStopped()) this.#prefetch(r);
  }

  /** Drops the prefetched item (its buffered frames leave the wire); back to the head of the queue when `putBack`. */
  #cancelNext(putBack: boolean): Entry | undefined {
    const n = this.#next;
    if (n === undefined) return undefined;
    this.#next = undefined;
    this.#cut(n.current, { kind: 'requeue' });
    n.current.abort.abort();
    if (putBack && n.fromQueue) {
      // An item resumed after playNow() goes back with the position it resumes from.
      if (n.resumed) n.entry.resumeSec = n.seekSec;
      this.#queue.unshift(n.entry);
    }
    // Overlays it carried wait for the next track again.
    for (const rec of this.#overlays.values()) {
      if (rec.on !== n) continue;
      rec.on = undefined;
      rec.track = undefined;
      if (!this.#carry.includes(rec)) this.#carry.push(rec);
    }
    return n.entry;
  }

  /** Makes a prefetched item the current one. */
  #promote(n: Running): Running {
    n.promoted = true;
    this.#current = n.current;
    this.#running = n;
    const info = n.current.track?.info;
    if (n.entry.bed) this.#setState({ status: 'idle' });
    else {
      if (info === undefined) this.#setState({ status: 'loading', item: n.entry });
      else this.#setState(this.#paused ? { status: 'paused', item: n.entry, info } : { status: 'playing', item: n.entry, info });
      if (n.started && n.announce && info !== undefined) this.#emit('trackStart', { item: n.entry, info });
    }
    this.#updateCrossfade();
    return n;
  }

  /** Opens `entry` at `seekSec` and plays it behind whatever the sender is playing. */
  #start(
    entry: Entry,
    seekSec: number,
    how: { promoted: boolean; fromQueue: boolean; playedBefore: number; crossfadeIn?: Float32Array | undefined; announce?: boolean; resumed?: boolean },
  ): Running {
    const current: Current = { entry, abort: new AbortController(), cut: undefined, track: undefined, baseSec: seekSec, samples: 0 };
    let resolveSource!: () => void;
    const sourceDone = (): void => {
      r.sourceEnded = true;
      resolveSource();
    };
    const r: Running = {
      entry,
      current,
      seekSec,
      resumed: how.resumed === true,
      sourceDone: new Promise<void>((res) => (resolveSource = res)),
      outcome: undefined as unknown as Promise<Outcome>,
      started: false,
      promoted: how.promoted,
      announce: how.announce ?? (seekSec === (entry.options.seek ?? 0) && !entry.bed),
      fromQueue: how.fromQueue,
      playedBefore: how.playedBefore,
      requeued: false,
      sourceEnded: false,
      waiting: [],
      scheduled: [],
      handedAll: false,
      tail: undefined,
    };
    if (how.promoted) {
      this.#current = current;
      this.#running = r;
      this.#setState(entry.bed ? { status: 'idle' } : { status: 'loading', item: entry });
    }
    r.outcome = this.#playOnce(r, seekSec, sourceDone, how.crossfadeIn).finally(sourceDone);
    return r;
  }

  /** Whether a track follows the current one (so its end is kept for a crossfade). */
  #followed(): boolean {
    return this.#queue.length > 0 || this.#next !== undefined || this.#loop !== 'off';
  }

  /** Tells the current track how much of its end to keep for the next one's crossfade. */
  #updateCrossfade(): void {
    const r = this.#running;
    const t = r?.current.track;
    if (r === undefined || t === undefined || r.entry.bed || r.sourceEnded || t.crossfadeOutMs === undefined) return;
    const want = this.#followed() ? this.#crossfadeMs : 0;
    if (t.crossfadeOutMs !== want) t.crossfadeOutMs = want;
  }

  async #playOnce(r: Running, seekSec: number, sourceDone: () => void, crossfadeIn: Float32Array | undefined): Promise<Outcome> {
    const { entry, current } = r;
    let track: Track;
    // Overlays waiting for a track play on this one from its first frame.
    const carried = this.#carry.splice(0);
    for (const rec of carried) {
      rec.on = r;
    }
    const openedWith = this.#filters;
    const filters = Object.keys(openedWith).length > 0 ? { filters: openedWith } : {};
    const options: TrackOptions = {
      ...entry.options.track,
      roomBitrate: this.#roomBitrate,
      volume: this.#volume,
      seek: seekSec,
      signal: current.abort.signal,
      ...filters,
      ...(this.#normalize === 'track' ? { normalize: 'track' as const, normalizeTargetLufs: this.#normalizeTarget } : {}),
      ...(crossfadeIn === undefined ? {} : { crossfadeIn }),
      ...(this.#crossfadeMs > 0 && !entry.bed && this.#followed() ? { crossfadeOutMs: this.#crossfadeMs } : {}),
      ...(carried.length === 0 ? {} : { overlays: carried.map((rec) => ({ id: rec.item.id, input: rec.source, options: this.#overlayOptions(rec) })) }),
    };
    try {
      track = await (entry.bed ? this.#openBed(options) : this.#open(entry.input, options));
    } catch (err) {
      for (const rec of carried) if (rec.on === r && !rec.settled) this.#recarry(rec);
      if (current.cut !== undefined) return this.#cutOutcome(current);
      const error = toKookError(err);
      this.#emitError(entry, error);
      return { kind: 'error', error, playedSec: 0 };
    }
    current.track = track;
    for (const rec of carried) if (rec.on === r) rec.track = track;
    track.onEvent = (e) => this.#trackEvent(r, e);
    if (current.cut !== undefined) {
      await track.close();
      return this.#cutOutcome(current);
    }
    // The volume may have changed while opening.
    if (track.volume !== this.#volume) track.volume = this.#volume;
    // The filters may have changed while opening.
    if (track.filters !== undefined && this.#filters !== openedWith && Object.keys(this.#filters).length + Object.keys(openedWith).length > 0) {
      track.filters = this.#filters;
    }
    // Overlays asked for while it was opening.
    for (const rec of this.#carry.splice(0)) this.#attach(rec, r, track);
    if (r.promoted && !entry.bed) {
      this.#setState(this.#paused ? { status: 'paused', item: entry, info: track.info } : { status: 'playing', item: entry, info: track.info });
    }
    if (r.promoted) this.#updateCrossfade();
    let result: Awaited<ReturnType<RtpSender['play']>>;
    try {
      result = await this.#sender.play(this.#frames(track, current, r), {
      signal: current.abort.signal,
      // Silence closes the stream only when nothing follows: between queued tracks it would be a 100 ms gap.
      endSilence: () => {
        const cut = current.cut?.kind;
        if (cut === 'stop') return true;
        if (cut === 'seek' || cut === 'requeue' || cut === 'interrupt') return false;
        return this.#queue.length === 0 && this.#loop === 'off' && this.#next === undefined && this.#carry.length === 0;
      },
      onSourceDone: sourceDone,
      onTruncate: (fromFrame) => {
        current.samples = fromFrame * 960;
        // The frames beyond the cut come again: the overlay events already scheduled are timed again from what the
        // pacer holds now (a timer set before would fire late, after events of later frames).
        this.#reschedule(r);
        // Overlay events stand: a rewind makes the same overlays start and end at the same frames (the bus restores
        // their positions), or hands the frames out again as they were; the events it makes again are ignored as
        // repeats (a start once, an end once).
        if (r.handingOver) {
          track.handOver?.(fromFrame);
          return;
        }
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
    // Overlays it still held (cut short): they go on over whatever plays next.
    for (const rec of this.#overlays.values()) {
      if (rec.on !== r || rec.settled) continue;
      if ((current.cut as Current['cut'])?.kind === 'stop') continue;
      // What was heard of it counts; what the pacer dropped comes again on the next track.
      rec.carriedSec = this.#overlayHeardSec(rec);
      rec.trackStart = undefined;
      this.#recarry(rec);
    }
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
    | { kind: 'skipped' | 'stopped' | 'removed' | 'interrupted'; playedSec: number }
    | { kind: 'seek'; seekSec: number; playedSec: number } {
    const playedSec = c.samples / 48000;
    const cut = c.cut;
    if (cut?.kind === 'seek') return { kind: 'seek', seekSec: cut.seekSec ?? 0, playedSec };
    if (cut?.kind === 'skip') return { kind: 'skipped', playedSec };
    if (cut?.kind === 'remove') return { kind: 'removed', playedSec };
    if (cut?.kind === 'interrupt') return { kind: 'interrupted', playedSec };
    return { kind: 'stopped', playedSec };
  }

  /** The track's frames, counted for the position and copied to the tap. */
  async *#frames(track: Track, current: Current, r: Running): AsyncGenerator<OpusFrame> {
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
      if (r.waiting.length > 0) this.#releaseEvents(r);
      yield frame;
    }
    r.handedAll = true;
    this.#releaseEvents(r);
  }

  // ---------------------------------------------------------------- overlays

  /** Cuts a play short, noting how much of it was heard (the pacer drops what it still holds). */
  #cut(c: Current, cut: NonNullable<Current['cut']>): void {
    c.cut = cut;
    const heard = this.#heardFrames(c);
    c.heardFrames = heard;
    // Its overlay events for frames the pacer now drops will not happen.
    const r = [this.#running, this.#next].find((x) => x?.current === c);
    if (r !== undefined) this.#dropEvents(r, Math.ceil(heard));
  }

  /** Frames of a play that have gone out on the wire (or will, before anything queued after now). */
  #heardFrames(c: Current): number {
    return Math.max(0, c.samples / 960 - this.#sender.bufferedMs / 20);
  }

  /** Seconds of an overlay heard so far. */
  #overlayHeardSec(rec: OverlayRec): number {
    const on = rec.on?.current;
    if (on === undefined || rec.trackStart === undefined) return rec.carriedSec;
    const heard = on.cut !== undefined ? (on.heardFrames ?? 0) : this.#heardFrames(on);
    return rec.carriedSec + Math.max(0, heard - rec.trackStart) / 50;
  }

  #overlayOptions(rec: OverlayRec): OverlayOptions {
    const o = rec.item.options;
    return {
      ...(o.duckDb === undefined ? {} : { duckDb: o.duckDb }),
      ...(o.fadeMs === undefined ? {} : { fadeMs: o.fadeMs }),
      ...(o.volume === undefined ? {} : { volume: o.volume }),
      ...(rec.carriedSec > 0 ? { seek: rec.carriedSec } : {}),
    };
  }

  /** Puts an overlay on the play that makes the next frames, or waits for one (a bed when nothing plays). */
  #placeOverlay(rec: OverlayRec): void {
    let r = this.#running;
    if (r !== undefined && (r.sourceEnded || r.current.cut !== undefined)) r = this.#next;
    const t = r?.current.track;
    if (r === undefined || t === undefined || t.addOverlay === undefined || r.sourceEnded) {
      // It waits for a track: the one opening takes it once open, the next one opened takes it, or, with nothing
      // playing, a bed is started for it.
      this.#carry.push(rec);
      if (this.#running === undefined) this.#kick();
      return;
    }
    this.#attach(rec, r, t);
  }

  #attach(rec: OverlayRec, r: Running, t: Track): void {
    rec.on = r;
    rec.track = t;
    const add = t.addOverlay;
    if (add === undefined) return;
    add.call(t, rec.item.id, rec.source, this.#overlayOptions(rec)).then(
      () => {
        // Heard at once: what is buffered beyond the next 60 ms is made again with the clip in it.
        if (r === this.#running && !r.sourceEnded && r.current.cut === undefined) this.#sender.truncate(60);
      },
      (err: unknown) => {
        // Settled, or moved on to another track meanwhile: this track's answer no longer matters.
        if (rec.settled || rec.on !== r) return;
        if (!this.#isStopped() && isKookRtpError(err) && err.code === 'ABORTED') {
          rec.refusedBy = t;
          // The track ended while the clip was opening: it goes on over the next one.
          this.#recarry(rec);
          return;
        }
        const error = toKookError(err);
        this.#endOverlay(rec, { reason: 'error', error, playedSec: rec.carriedSec });
      },
    );
  }

  /** An overlay whose track ended before it: it waits for the next one. */
  #recarry(rec: OverlayRec): void {
    rec.on = undefined;
    rec.track = undefined;
    if (this.#carry.includes(rec)) return;
    this.#carry.push(rec);
    const t = this.#next?.current.track;
    if (this.#next !== undefined && t !== undefined && !this.#next.sourceEnded && t !== rec.refusedBy) {
      this.#carry = this.#carry.filter((x) => x !== rec);
      this.#attach(rec, this.#next, t);
    } else if (this.#runLoop === undefined) this.#kick();
  }

  #trackEvent(r: Running, e: TrackEvent): void {
    const rec = this.#overlays.get(e.id);
    if (rec === undefined || rec.settled) return;
    // Only the play it is on speaks for it, and not once cut short: what it made after the cut was never heard (the
    // cut counts what was).
    if (rec.on !== r || r.current.cut !== undefined) return;
    if (e.kind === 'overlayHandover') {
      rec.carriedSec += e.consumedFrames / 50;
      rec.trackStart = undefined;
      this.#recarry(rec);
      this.#reprefetch();
      return;
    }
    if (e.kind === 'overlayStart') rec.trackStart = e.frame;
    r.waiting.push(e);
    this.#releaseEvents(r);
  }

  /** Schedules the events whose frame has reached the sender for when it goes out on the wire. */
  #releaseEvents(r: Running): void {
    // Paused: nothing goes out, so nothing is heard; they are scheduled again on resume.
    if (this.#paused) return;
    const all = r.handedAll;
    const handed = r.current.samples / 960;
    const keep: TrackEvent[] = [];
    for (const e of r.waiting) {
      if (e.frame > handed && !all) {
        keep.push(e);
        continue;
      }
      const delay = Math.max(0, this.#sender.bufferedMs - Math.max(0, handed - e.frame) * 20);
      const entry = { frame: e.frame, event: e, timer: setTimeout(() => {
        const i = r.scheduled.indexOf(entry);
        if (i >= 0) r.scheduled.splice(i, 1);
        this.#wireEvent(e);
      }, delay) };
      r.scheduled.push(entry);
    }
    r.waiting.length = 0;
    r.waiting.push(...keep);
  }

  /** Takes the scheduled events of a play back and schedules them again (the buffer ahead of them changed). */
  #reschedule(r: Running): void {
    if (r.scheduled.length === 0) return;
    for (const x of r.scheduled.splice(0)) {
      clearTimeout(x.timer);
      r.waiting.push(x.event);
    }
    r.waiting.sort((a, b) => a.frame - b.frame);
    this.#releaseEvents(r);
  }

  /** A truncate drops frames from `fromFrame` on: their events come again when they are made again. */
  #dropEvents(r: Running, fromFrame: number): void {
    for (let i = r.waiting.length - 1; i >= 0; i--) if ((r.waiting[i] as TrackEvent).frame >= fromFrame) r.waiting.splice(i, 1);
    for (let i = r.scheduled.length - 1; i >= 0; i--) {
      const s = r.scheduled[i] as { frame: number; timer: NodeJS.Timeout; event: TrackEvent };
      if (s.frame < fromFrame) continue;
      clearTimeout(s.timer);
      r.scheduled.splice(i, 1);
    }
  }

  #wireEvent(e: TrackEvent): void {
    const rec = this.#overlays.get(e.id);
    if (rec === undefined || rec.settled) return;
    if (e.kind === 'overlayStart') {
      if (rec.started) return;
      rec.started = true;
      this.#emit('overlayStart', { overlay: rec.item });
      return;
    }
    if (e.kind === 'overlayEnd') {
      // A clip heard to its end was heard starting: its start is said first, whatever the timers did.
      if (!rec.started && e.error === undefined) {
        rec.started = true;
        this.#emit('overlayStart', { overlay: rec.item });
      }
      const error = e.error === undefined ? undefined : toKookError(e.error);
      // Where the clip got to, when the track says (exact); else what was counted on the wire.
      const playedSec = e.clipSec ?? rec.carriedSec + Math.max(0, e.frame - (rec.trackStart ?? e.frame)) / 50;
      this.#endOverlay(rec, error === undefined ? { reason: 'finished', playedSec } : { reason: 'error', error, playedSec });
    }
  }

  #endOverlay(rec: OverlayRec, end: OverlayEnd): void {
    if (rec.settled) return;
    rec.settle(end);
    this.#overlays.delete(rec.item.id);
    this.#carry = this.#carry.filter((r) => r !== rec);
    if (end.reason === 'error' && end.error !== undefined && this.listenerCount('error') > 0) this.#emit('error', { error: end.error });
    this.#emit('overlayEnd', { overlay: rec.item, ...end });
  }

  /** Ends an item that waits in the queue; one interrupted by playNow() was heard, and says so. */
  #finishWaiting(entry: Entry, reason: 'removed' | 'stopped'): void {
    const heard = entry.playedEarlier;
    this.#finish(entry, { reason, playedSec: heard ?? 0 }, heard !== undefined);
  }

  #finish(entry: Entry, end: TrackEnd, played: boolean): void {
    // Settle first, emit second: a throwing listener cannot leave the promise unsettled.
    entry.settle(end);
    if (entry.bed) return;
    if (played || end.reason !== 'removed') {
      this.#emit('trackEnd', { item: entry, ...end });
    }
    if (!played || entry.bed || noHistory.has(entry) || end.reason === 'removed') return;
    this.#history.push(entry);
    if (this.#history.length > HISTORY_ITEMS) this.#history.shift();
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


/** Items skipped by previous(): they do not go into the history (previous() walks back past them). */
const noHistory = new WeakSet<QueueItem>();

function checkIndex(i: number, what: string): void {
  if (!(Number.isInteger(i) && i >= 0)) throw new KookRtpError('INVALID_ARGUMENT', `${what} must be an integer >= 0, got ${String(i)}`);
}

function checkNormalize(mode: string): 'off' | 'track' {
  if (mode !== 'off' && mode !== 'track') throw new KookRtpError('INVALID_ARGUMENT', `normalize must be 'off' or 'track', got ${String(mode)}`);
  return mode;
}

/** The most of an overlay given as a stream that is read (it is held whole). */
const MAX_STREAM_OVERLAY = 64 * 1024 * 1024;

async function readWhole(input: TrackInput): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of input as AsyncIterable<Uint8Array | string>) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    n += b.length;
    if (n > MAX_STREAM_OVERLAY) throw new KookRtpError('INVALID_INPUT', 'an overlay given as a stream is over 64 MB: give a path or URL');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function isReopenable(input: TrackInput): boolean {
  return typeof input === 'string' || input instanceof URL || input instanceof Uint8Array;
}

function toKookError(err: unknown): KookRtpError {
  if (isKookRtpError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new KookRtpError('DECODE_FAILED', `track failed: ${message}`, { cause: err });
}

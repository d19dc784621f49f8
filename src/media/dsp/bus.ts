/**
 * A track's mix bus: everything between the framer and the Opus encoder of a transcoded track. Music frames (48 kHz
 * interleaved stereo Int16, 960 samples) go in; they take the volume and the loudness-normalisation gain, the
 * filters, the incoming crossfade from the previous track, the overlays with ducking, and the limiter last, and come
 * out ready to encode.
 *
 * @remarks
 * The bus keeps the last {@link BUS_HISTORY} frames it made, with the small state each was made from (gain, duck and
 * limiter, crossfade position, every overlay's read position), so that a change (volume, filters, an overlay added)
 * can be heard within one buffer's time: {@link TrackBus.rewind} makes the last frames again with the new settings,
 * the first of them crossfaded from what it replaces, so the splice does not click. The filters' own state is not
 * rewound; the 20 ms crossfade covers the difference. Once timescale has been on, output frames no longer map onto
 * input frames and rewind answers null (changes are then heard after the buffer).
 *
 * Overlays are fed from outside ({@link OverlayFeed}): the track's pipeline decodes them ahead and makes sure the
 * frame the bus will need is there before calling {@link TrackBus.process}.
 */

import { KookRtpError } from '../../errors.js';
import { checkVolume } from '../../util/volume.js';
import { FilterChain, type Filters } from './filters.js';
import { DuckingMixer, type DuckingState, type OverlayFrame } from './mixer.js';

/** Samples per channel in a frame (20 ms at 48 kHz). */
const FRAME = 960;
const VALUES = FRAME * 2;

/** Frames the bus keeps to make again ({@link TrackBus.rewind}): 1.28 s. */
export const BUS_HISTORY = 64;

/** Options of one overlay. */
export interface OverlayMixOptions {
  /** The overlay's linear gain, 0..16, default 1. */
  readonly volume?: number;
  /** Music gain while it plays, dB in −96..0, default −12. */
  readonly duckDb?: number;
  /** Duck and restore ramp, ms in 0..5000, default 150. */
  readonly fadeMs?: number;
}

/**
 * An overlay's options with their defaults filled in.
 * @throws KookRtpError `INVALID_ARGUMENT` for a volume outside 0..16, a duckDb outside −96..0 or a fadeMs outside 0..5000.
 */
export function checkOverlayMix(options: OverlayMixOptions): Required<OverlayMixOptions> {
  const { volume = 1, duckDb = -12, fadeMs = 150 } = options;
  checkVolume(volume);
  if (typeof duckDb !== 'number' || !(duckDb >= -96 && duckDb <= 0)) throw new KookRtpError('INVALID_ARGUMENT', `duckDb must be dB in -96..0, got ${String(duckDb)}`);
  if (typeof fadeMs !== 'number' || !(fadeMs >= 0 && fadeMs <= 5000)) throw new KookRtpError('INVALID_ARGUMENT', `fadeMs must be ms in 0..5000, got ${String(fadeMs)}`);
  return { volume, duckDb, fadeMs };
}

/** An overlay's decoded frames (interleaved stereo Int16, 1920 values), filled ahead by its decoder. */
export class OverlayFeed {
  /** Frames from index {@link base} on. */
  readonly frames: Int16Array[] = [];
  /** Index of `frames[0]` (older ones were dropped). */
  base = 0;
  /** No frame will be added any more. */
  ended = false;
  /** Why it ended early, when it did. */
  error: unknown = undefined;

  /** Index of the next frame to be added. */
  get available(): number {
    return this.base + this.frames.length;
  }

  at(i: number): Int16Array | undefined {
    return this.frames[i - this.base];
  }

  /** Drops frames before index `i`. */
  trimBefore(i: number): void {
    const n = Math.min(this.frames.length, i - this.base);
    if (n <= 0) return;
    this.frames.splice(0, n);
    this.base += n;
  }
}

/** An overlay on the bus. */
export interface BusOverlay {
  readonly id: number;
  readonly feed: OverlayFeed;
  readonly volume: number;
  readonly duckDb: number;
  readonly fadeMs: number;
  /** Next frame of the feed to mix. */
  cursor: number;
  state: 'pending' | 'playing' | 'ended';
  /** Ended by {@link TrackBus.removeOverlay} (a rewind does not bring it back). */
  removed: boolean;
  /** The cursor it started with (a rewind to before it read anything starts it there again). */
  readonly startCursor: number;
  /** Output frame it ended at. */
  endedAt: number;
}

/** Something the bus did at an output frame (index among the frames it made). */
export type BusEvent =
  | { readonly kind: 'overlayStart'; readonly id: number; readonly frame: number }
  | { readonly kind: 'overlayEnd'; readonly id: number; readonly frame: number; readonly error?: unknown; /** Frames of its feed read. */ readonly read?: number };

interface Checkpoint {
  readonly gain: number;
  readonly duck: DuckingState;
  readonly tailPos: number;
  readonly overlays: ReadonlyArray<readonly [BusOverlay, number, BusOverlay['state']]>;
}

interface Made {
  /** The music frame that went in (before the gains), or null for none. */
  readonly input: Int16Array | null;
  readonly out: Int16Array;
  readonly cp: Checkpoint;
}

/** Options of {@link TrackBus}. */
export interface TrackBusOptions {
  readonly volume?: number;
  readonly filters?: Filters;
  /** Linear loudness-normalisation gain, default 1. */
  readonly normGain?: number;
}

/** See the module comment. */
export class TrackBus {
  readonly #chain: FilterChain;
  readonly #duck = new DuckingMixer();
  #volume: number;
  #normGain: number;
  /** The gain the last frame ended at (a change ramps from here over the next frame). */
  #gain: number;
  #overlays: BusOverlay[] = [];
  #events: BusEvent[] = [];
  #history: Made[] = [];
  /** Output frames made (the index of the next one). */
  #produced = 0;
  /** The previous track's end, faded out while this one fades in (interleaved float). */
  #tailIn: Float32Array | undefined;
  #tailPos = 0;
  /** Collecting this track's end for the next one: no more output frames. */
  #tailOut: Float32Array[] | undefined;
  readonly #music = new Float32Array(VALUES);
  readonly #in = new Float32Array(VALUES);
  #filtersOn: boolean;

  constructor(options: TrackBusOptions = {}) {
    this.#volume = options.volume ?? 1;
    this.#normGain = options.normGain ?? 1;
    this.#gain = this.#volume * this.#normGain;
    this.#chain = new FilterChain(options.filters ?? {});
    this.#filtersOn = options.filters !== undefined && Object.keys(options.filters).length > 0;
  }

  /** Output frames made so far (the index of the next one). */
  get produced(): number {
    return this.#produced;
  }

  get volume(): number {
    return this.#volume;
  }

  /** Ramped over the next frame made. */
  set volume(v: number) {
    this.#volume = v;
  }

  get normGain(): number {
    return this.#normGain;
  }

  set normGain(g: number) {
    this.#normGain = g;
  }

  get filters(): Filters {
    return this.#chain.filters;
  }

  /** Heard from the next frame made, crossfaded over it. @throws KookRtpError `INVALID_ARGUMENT` on a bad filter. */
  set filters(f: Filters) {
    this.#chain.set(f);
    this.#filtersOn ||= Object.keys(f).length > 0;
  }

  /** Overlays not yet finished. */
  get activeOverlays(): number {
    let n = 0;
    for (const o of this.#overlays) if (o.state !== 'ended') n++;
    return n;
  }

  /** Feeds the bus will read in its next frame that do not hold that frame yet (wait for them before processing). */
  starving(): OverlayFeed[] {
    const out: OverlayFeed[] = [];
    for (const o of this.#overlays) if (o.state !== 'ended' && o.cursor >= o.feed.available && !o.feed.ended) out.push(o.feed);
    return out;
  }

  /**
   * Adds an overlay: it starts at the next frame made (or at the first frame made again by a rewind after this).
   * @throws KookRtpError `INVALID_ARGUMENT` on an option out of range.
   */
  addOverlay(id: number, feed: OverlayFeed, options: OverlayMixOptions = {}, cursor = 0): BusOverlay {
    const { volume, duckDb, fadeMs } = checkOverlayMix(options);
    const o: BusOverlay = { id, feed, volume, duckDb, fadeMs, cursor, state: 'pending', removed: false, startCursor: cursor, endedAt: Infinity };
    this.#overlays.push(o);
    return o;
  }

  /** Ends an overlay now (at the next frame made). @returns false when it is not on the bus or has ended. */
  removeOverlay(id: number): boolean {
    const o = this.#overlays.find((x) => x.id === id);
    if (o === undefined || o.state === 'ended') return false;
    if (o.state === 'playing') this.#events.push({ kind: 'overlayEnd', id, frame: this.#produced, read: o.cursor });
    o.state = 'ended';
    o.removed = true;
    o.endedAt = this.#produced;
    return true;
  }

  /** The previous track's last samples (interleaved float, already processed): faded out as this one fades in. */
  setIncomingTail(tail: Float32Array): void {
    if (tail.length % 2 !== 0) throw new KookRtpError('INVALID_ARGUMENT', 'a crossfade tail is interleaved stereo');
    this.#tailIn = tail.length > 0 ? tail : undefined;
    this.#tailPos = 0;
  }

  /** Events since the last call, oldest first. */
  takeEvents(): BusEvent[] {
    const e = this.#events;
    this.#events = [];
    return e;
  }

  /**
   * Makes output frames from one music frame (`null`: no music, overlays alone). Usually one; none or several while
   * timescale changes the speed. The arrays returned are the caller's.
   */
  process(input: Int16Array | null): Int16Array[] {
    if (this.#tailOut !== undefined) throw new KookRtpError('INVALID_ARGUMENT', 'the bus is collecting its tail');
    const out: Int16Array[] = [];
    if (input === null) {
      out.push(this.#mix(null, null, true));
      return out;
    }
    this.#pushMusic(input);
    const record = !this.#chain.isStretching;
    while (this.#chain.pull(this.#music)) out.push(this.#mix(this.#music, input, record));
    if (!record) this.#history.length = 0;
    return out;
  }

  /**
   * From now on, music frames given to {@link processTail} are kept (gains and filters applied, nothing mixed) for the
   * next track's crossfade instead of being made into output frames. The overlays still playing leave the bus.
   * @returns those overlays, with their read positions, for the next track to carry on.
   */
  beginTail(): BusOverlay[] {
    this.#tailOut = [];
    this.#history.length = 0;
    const left = this.#overlays.filter((o) => o.state !== 'ended');
    this.#overlays = [];
    return left;
  }

  /** Whether {@link beginTail} has been called. */
  get collectingTail(): boolean {
    return this.#tailOut !== undefined;
  }

  /** Adds a music frame to the tail (see {@link beginTail}). */
  processTail(input: Int16Array): void {
    const t = this.#tailOut;
    if (t === undefined) throw new KookRtpError('INVALID_ARGUMENT', 'beginTail() first');
    this.#pushMusic(input);
    while (this.#chain.pull(this.#music)) t.push(this.#music.slice());
  }

  /** The tail collected, as one interleaved float array (what the input was cut short with padded as silence). */
  takeTail(): Float32Array {
    const t = this.#tailOut ?? [];
    this.#chain.flush();
    while (this.#chain.pull(this.#music)) t.push(this.#music.slice());
    const all = new Float32Array(t.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of t) {
      all.set(f, o);
      o += f.length;
    }
    this.#tailOut = [];
    return all;
  }

  /** The input has ended: makes the frames the filters still hold (timescale's latency), silence-padded. */
  flush(): Int16Array[] {
    if (!this.#chain.isStretching) return [];
    this.#chain.flush();
    const out: Int16Array[] = [];
    while (this.#chain.pull(this.#music)) out.push(this.#mix(this.#music, null, false));
    return out;
  }

  /**
   * Makes the last `n` output frames again with the settings in force now (see the module comment).
   * @returns the frames, or null when they are not held (too far back, timescale on, or collecting the tail).
   */
  rewind(n: number): Int16Array[] | null {
    if (n === 0) return [];
    const redo = this.#goBack(n);
    if (redo === null) return null;
    const first = redo[0] as Made;
    const out: Int16Array[] = [];
    for (const m of redo) {
      if (m.input === null) out.push(this.#mix(null, null, true));
      else {
        this.#pushMusic(m.input);
        while (this.#chain.pull(this.#music)) out.push(this.#mix(this.#music, m.input, true));
      }
    }
    // The splice: from the frame that was made before to the new one, over 20 ms.
    const a = first.out;
    const b = out[0];
    if (b !== undefined) {
      for (let i = 0; i < FRAME; i++) {
        const t = (i + 1) / FRAME;
        for (let c = 0; c < 2; c++) {
          const k = 2 * i + c;
          b[k] = Math.round((a[k] as number) * (1 - t) + (b[k] as number) * t);
        }
      }
    }
    return out;
  }

  /**
   * Forgets the last `n` output frames as if they had not been made (they were dropped before being sent): the
   * overlays go back to where they were. @returns false when they are not held.
   */
  cutBack(n: number): boolean {
    return n === 0 || this.#goBack(n) !== null;
  }

  /** Restores the state from before the last `n` frames; returns what they were made from. */
  #goBack(n: number): Made[] | null {
    if (!Number.isInteger(n) || n < 0 || n > this.#history.length || this.#chain.isStretching || this.#tailOut !== undefined) return null;
    const redo = this.#history.splice(this.#history.length - n, n);
    const first = redo[0] as Made;
    const cp = first.cp;
    this.#gain = cp.gain;
    this.#duck.restore(cp.duck);
    this.#tailPos = cp.tailPos;
    const known = new Set<BusOverlay>();
    for (const [o, cursor, state] of cp.overlays) {
      known.add(o);
      if (o.removed) continue;
      o.cursor = cursor;
      o.state = state;
      o.endedAt = state === 'ended' ? o.endedAt : Infinity;
    }
    // Added after that frame: they start again at the first frame made again (their frames are still in the feed).
    for (const o of this.#overlays) {
      if (known.has(o) || o.removed) continue;
      o.cursor = o.startCursor;
      o.state = 'pending';
      o.endedAt = Infinity;
    }
    this.#produced -= n;
    const from = this.#produced;
    this.#events = this.#events.filter((e) => e.frame < from);
    return redo;
  }

  #pushMusic(input: Int16Array): void {
    if (input.length !== VALUES) throw new KookRtpError('INVALID_ARGUMENT', `a music frame is ${VALUES} values, got ${input.length}`);
    const target = this.#volume * this.#normGain;
    const from = this.#gain;
    const x = this.#in;
    if (from === target) {
      const s = target / 32768;
      for (let i = 0; i < VALUES; i++) x[i] = (input[i] as number) * s;
    } else {
      for (let i = 0; i < FRAME; i++) {
        const g = (from + ((target - from) * (i + 1)) / FRAME) / 32768;
        x[2 * i] = (input[2 * i] as number) * g;
        x[2 * i + 1] = (input[2 * i + 1] as number) * g;
      }
    }
    this.#gain = target;
    this.#chain.push(x);
  }

  #checkpoint(): Checkpoint {
    return {
      gain: this.#gain,
      duck: this.#duck.snapshot(),
      tailPos: this.#tailPos,
      overlays: this.#overlays.map((o) => [o, o.cursor, o.state] as const),
    };
  }

  /** One output frame from a filtered music frame (or none); `record`: keep it for a rewind, with its input. */
  #mix(music: Float32Array | null, input: Int16Array | null, record: boolean): Int16Array {
    const cp = record ? this.#checkpoint() : undefined;
    let m = music;
    const tail = this.#tailIn;
    if (tail !== undefined && this.#tailPos * 2 < tail.length) {
      const L = tail.length / 2;
      const buf = this.#music;
      for (let i = 0; i < FRAME; i++) {
        const p = this.#tailPos + i;
        const t = p / L;
        const a = p < L ? Math.cos((t * Math.PI) / 2) : 0;
        const b = p < L ? Math.sin((t * Math.PI) / 2) : 1;
        for (let c = 0; c < 2; c++) {
          const k = 2 * i + c;
          const tv = p < L ? (tail[2 * p + c] as number) : 0;
          buf[k] = tv * a + (m === null ? 0 : (m[k] as number) * b);
        }
      }
      m = buf;
      this.#tailPos += FRAME;
    }
    const frames: OverlayFrame[] = [];
    let duckDb = 0;
    let fadeMs = 150;
    for (const o of this.#overlays) {
      if (o.state === 'ended') continue;
      const f = o.feed.at(o.cursor);
      if (f === undefined) {
        if (o.feed.ended) {
          // A feed that ends before its first frame still reports both ends (its done settles).
          if (o.state === 'pending') this.#events.push({ kind: 'overlayStart', id: o.id, frame: this.#produced });
          this.#events.push({ kind: 'overlayEnd', id: o.id, frame: this.#produced, read: o.cursor, ...(o.feed.error === undefined ? {} : { error: o.feed.error }) });
          o.state = 'ended';
          o.endedAt = this.#produced;
        }
        // Not decoded yet (the caller did not wait): silent for this frame, nothing skipped.
        continue;
      }
      if (o.state === 'pending') {
        o.state = 'playing';
        this.#events.push({ kind: 'overlayStart', id: o.id, frame: this.#produced });
      }
      o.cursor++;
      frames.push({ samples: f, volume: o.volume });
      if (o.duckDb < duckDb) duckDb = o.duckDb;
      fadeMs = o.fadeMs;
    }
    if (frames.length > 0) this.#duck.configure({ duckDb, fadeMs });
    const out = new Int16Array(VALUES);
    this.#duck.mixInt16(out, m, frames);
    // Keep what a rewind needs; overlays' frames are kept as long as a rewind may read them.
    if (cp !== undefined) {
      this.#history.push({ input: input === null ? null : input.slice(), out: out.slice(), cp });
      if (this.#history.length > BUS_HISTORY) this.#history.shift();
    } else {
      this.#history.length = 0;
    }
    this.#produced++;
    if (this.#overlays.length > 0 && (this.#produced & 15) === 0) this.#trim();
    return out;
  }

  /** Drops overlay frames and ended overlays no rewind can reach any more. */
  #trim(): void {
    const since = this.#produced - this.#history.length;
    const oldest = this.#history[0]?.cp;
    this.#overlays = this.#overlays.filter((o) => o.state !== 'ended' || o.endedAt >= since);
    for (const o of this.#overlays) {
      const back = oldest?.overlays.find((x) => x[0] === o)?.[1] ?? (this.#history.length > 0 ? o.startCursor : o.cursor);
      o.feed.trimBefore(Math.min(back, o.cursor));
    }
  }
}

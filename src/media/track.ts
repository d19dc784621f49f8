/**
 * The track pipeline: input → probe → decoder → framer (resample, downmix, volume) → Opus encoder, or Opus
 * packets straight through when the source already fits the room. Frames are pulled lazily, one at a time.
 */
import { KookRtpError, isKookRtpError } from '../errors.js';
import { opusPacketSamples } from '../wire/opus/toc.js';
import { OggDemuxer } from '../wire/ogg/demuxer.js';
import { createFfmpegSource } from './decoders/ffmpeg.js';
import { createMp3Source } from './decoders/mp3.js';
import { checkPcmBlock, type PcmSource } from './decoders/types.js';
import { createWasmSource } from './decoders/wasm.js';
import { createPcmSource } from './decoders/wav.js';
import { WebmDemuxer } from './decoders/webm.js';
import { FRAME_SAMPLES, PcmFramer } from './dsp/framer.js';
import { BUS_HISTORY, OverlayFeed, TrackBus, type BusEvent, type BusOverlay, type OverlayMixOptions } from './dsp/bus.js';
import { validateFilters, type Filters } from './dsp/filters.js';
import { LoudnessMeter, gainForTarget, gainFromTags } from './dsp/loudness.js';
import { checkVolume } from '../util/volume.js';
import type { OpusFrame } from './frame.js';
import { openInput, type ByteReader, type TrackInput } from './input.js';
import { createOpusDecoder, type OpusFrameDecoder } from './opus/decoder.js';
import { createOpusEncoder, opusBitrateForRoom, type OpusEncoderOptions, type OpusFrameEncoder } from './opus/encoder.js';
import { chooseMode, probeReader, type ProbeDetail, type ProbeResult, type RawPcmFormat, type TrackInfo } from './probe.js';

/** Options for {@link openTrack}. */
export interface TrackOptions {
  /** The room's bitrate limit in bits/s; the Opus budget is `opusBitrateForRoom(roomBitrate)`. Default 48000. */
  readonly roomBitrate?: number;
  /** Linear gain, default 1. Anything else forces transcoding. */
  readonly volume?: number;
  /** Start this many seconds into the track. Default 0. */
  readonly seek?: number;
  /** Cancels probing and iteration (`ABORTED`). */
  readonly signal?: AbortSignal;
  /** 'auto' (default): pass Opus through when it fits the room and volume is 1; 'never': always transcode;
   *  'always': pass Opus through whatever its bitrate (the bitrate guard then paces it). */
  readonly passthrough?: 'auto' | 'never' | 'always';
  /** Encoder settings; `bitrate` defaults to the room budget. */
  readonly encoder?: Partial<OpusEncoderOptions>;
  /** The format of headerless PCM input (required for raw PCM, which has nothing to probe). */
  readonly rawPcm?: RawPcmFormat;
  /** A URL download with no data for this long fails with `FETCH_STALLED`. Default 10000. */
  readonly stallTimeoutMs?: number;
  /** Lavalink-style filters (see {@link Filters}); any forces transcoding. Change them with {@link Track.filters}. */
  readonly filters?: Filters;
  /**
   * 'track': bring the track to {@link normalizeTargetLufs} with the gain from its R128 / ReplayGain tags, or else
   * with a BS.1770 measurement of the first 3 s decoded ahead, refined while decoding; the limiter keeps peaks in.
   * Forces transcoding unless the tags say the track is already there. Default 'off'.
   */
  readonly normalize?: 'off' | 'track';
  /** Target integrated loudness for `normalize: 'track'`, LUFS. Default −16. */
  readonly normalizeTargetLufs?: number;
  /** The previous track's end ({@link Track.takeTail}): faded out with equal power while this one fades in. */
  readonly crossfadeIn?: Float32Array;
  /**
   * Keep this track's last milliseconds for the next track's crossfade ({@link Track.takeTail}) instead of sending
   * them. Needs a known duration. Default 0.
   */
  readonly crossfadeOutMs?: number;
  /** Overlays to mix from the first frame (carried on from the previous track). */
  readonly overlays?: readonly { readonly id: number; readonly input: TrackInput; readonly options?: OverlayOptions }[];
  /** @internal Hand out PCM (1920 Int16 values per frame, in `data`) instead of Opus: how overlays are decoded. */
  readonly pcmOut?: boolean;
}

/** Options of {@link Track.addOverlay}. */
export interface OverlayOptions extends OverlayMixOptions {
  /** Start this many seconds into the clip. */
  readonly seek?: number;
  readonly stallTimeoutMs?: number;
  readonly rawPcm?: RawPcmFormat;
}

/**
 * What a track reports about its overlays, at the index of the frame it concerns (0 = the first frame of this open,
 * as for {@link Track.rewind}). `overlayHandover`: the track ended (or was asked to hand over) while the overlay
 * played: `consumedFrames` of it were mixed, the rest is for whatever plays next.
 */
export type TrackEvent =
  | Exclude<BusEvent, { kind: 'overlayEnd' }>
  /** `clipSec`: how far into the clip it got (its end when it finished). */
  | (Extract<BusEvent, { kind: 'overlayEnd' }> & { readonly clipSec?: number })
  | { readonly kind: 'overlayHandover'; readonly id: number; readonly frame: number; readonly consumedFrames: number };

/** A playable track: iterate it (once) for Opus frames. */
export interface Track extends AsyncIterable<OpusFrame> {
  /** What was probed and how it plays. `mode` changes to 'transcode' if passthrough has to stop. */
  readonly info: TrackInfo;
  /** Linear gain, ramped. Setting anything but 1 on a passthrough track switches it to transcoding. */
  volume: number;
  /** Changes the Opus bitrate; a passthrough stream that no longer fits switches to transcoding. */
  setBitrate(bps: number): void;
  /** Stops the track and frees decoders, encoder and input. Iteration ends. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Hands out every frame from index `frame` on again (0 is the first frame of this open), re-encoded at the current
   * volume (ramped in over the first of them), before any new one: a volume change then reaches audio that was
   * already encoded but not yet sent. Transcoded tracks keep the last {@link REPLAY_FRAMES} frames' PCM for this.
   *
   * @returns false when those frames are not held (passthrough, or too far back): nothing changes then.
   */
  rewind(frame: number): boolean;
  /** The filters in force; setting them is heard from the next frame made (rewind to hear it sooner). */
  filters?: Filters;
  /** See {@link TrackOptions.crossfadeOutMs}; the player sets it when a next track is known. */
  crossfadeOutMs?: number;
  /** Receives {@link TrackEvent}s (those before it was set are delivered when it is). */
  onEvent?: ((e: TrackEvent) => void) | undefined;
  /**
   * Mixes a clip over this track from the next frame made, ducking the music. Resolves once the clip's first frames
   * are decoded; a clip that cannot be opened rejects (with the input's error). The end comes as an `overlayEnd` event.
   */
  addOverlay?(id: number, input: TrackInput, options?: OverlayOptions): Promise<void>;
  /** Ends an overlay at the next frame made. */
  removeOverlay?(id: number): boolean;
  /**
   * Ends the track at the next frame; the overlays still playing are reported as `overlayHandover`. With `frame`
   * (as for {@link rewind}), the frames from there on were dropped unsent: the overlays hand over from that point.
   */
  handOver?(frame?: number): void;
  /** After iteration: the end kept for the next track's crossfade ({@link TrackOptions.crossfadeOutMs}), once. */
  takeTail?(): Float32Array | undefined;
}

/** Frames a transcoded track keeps for {@link Track.rewind}: 1.28 s. */
export const REPLAY_FRAMES = BUS_HISTORY;

/**
 * A crossfade length, checked (the one rule for the player's `crossfadeMs` and a track's `crossfadeOutMs`).
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` outside 0..30000 ms.
 */
export function checkCrossfadeMs(ms: unknown): number {
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= 30_000)) throw new KookRtpError('INVALID_ARGUMENT', `crossfadeMs must be ms in 0..30000, got ${String(ms)}`);
  return ms;
}

/** The "encoder" of a PCM-out track: the frame's bytes. */
function pcmEncoder(): OpusFrameEncoder {
  return {
    backend: 'native',
    encode: (f: Int16Array) => new Uint8Array(f.slice().buffer),
    setBitrate: () => {},
    close: () => {},
  } as unknown as OpusFrameEncoder;
}

/** Decoder warm-up kept before a seek target when transcoding Opus: skipping straight in would click. */
const OPUS_PREROLL = 3840;

function asKookError(err: unknown): KookRtpError {
  if (isKookRtpError(err)) {
    if (err.code === 'INVALID_OPUS_PACKET' || err.code === 'INVALID_PACKET') {
      return new KookRtpError('DECODE_FAILED', `corrupt Opus stream: ${err.message}`, { cause: err });
    }
    return err;
  }
  return new KookRtpError('DECODE_FAILED', `decoding failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

async function* oggOpusPackets(reader: ByteReader): AsyncGenerator<Uint8Array> {
  const demux = new OggDemuxer();
  let index = 0;
  for (;;) {
    const c = await reader.chunk();
    if (!c) break;
    for (const p of demux.push(c)) {
      if (index++ < 2) continue; // OpusHead, OpusTags
      if (p.data.length > 0) yield p.data;
    }
    if (demux.junkRun > 65307 || (demux.pages === 0 && demux.junkTotal > 65307)) {
      throw new KookRtpError('DECODE_FAILED', `Ogg/Opus stream corrupt near byte ${reader.position}: no valid page in ${demux.junkRun} bytes`);
    }
  }
  demux.end();
}

async function* webmOpusPackets(reader: ByteReader): AsyncGenerator<Uint8Array> {
  const demux = new WebmDemuxer();
  for (;;) {
    const c = await reader.chunk();
    if (!c) break;
    for (const p of demux.push(c)) if (p.data.length > 0) yield p.data;
  }
  if (demux.pendingBytes > 0) throw new KookRtpError('DECODE_FAILED', `WebM input ended inside an element (${demux.pendingBytes} bytes): the file is truncated`);
}

/** A PCM source and how many source samples it skipped on its own for a seek (known once decoding started). */
interface SeekingSource {
  readonly source: PcmSource;
  skipped(): number;
}

async function createPcmSourceFor(reader: ByteReader, detail: ProbeDetail, seek: number): Promise<SeekingSource> {
  switch (detail.kind) {
    case 'mp3': {
      const s = await createMp3Source(reader, detail.first, { skipSec: seek });
      return { source: s, skipped: () => s.skippedSamples };
    }
    case 'wav':
    case 'raw':
      return { source: createPcmSource(reader, detail.format, detail.kind === 'wav' ? 'WAV' : 'raw PCM'), skipped: () => 0 };
    case 'flac':
    case 'ogg-flac':
    case 'ogg-vorbis':
      throw new Error('unreachable: handled with probe info');
    case 'ffmpeg':
      return { source: createFfmpegSource(reader, detail.what), skipped: () => 0 };
    default:
      throw new Error(`unreachable: ${detail.kind}`);
  }
}

/**
 * Opens a track: reads just enough to probe it, then returns; frames are decoded and encoded as they are pulled.
 *
 * @param input - a path, http(s) URL, bytes, Node Readable or AsyncIterable of bytes (see {@link TrackInput}).
 * @param options - see {@link TrackOptions}.
 * @returns the track. Iterate it once; close it when done (iteration to the end closes it too).
 * @throws {@link KookRtpError} `INVALID_INPUT`, `UNSUPPORTED_FORMAT`, `FETCH_FAILED`, `FETCH_STALLED`, `ABORTED`
 *   while opening; the iterator throws `DECODE_FAILED` (and the input's errors) after yielding the frames it had.
 */
export async function openTrack(input: TrackInput, options: TrackOptions = {}): Promise<Track> {
  const seek = options.seek ?? 0;
  if (!(Number.isFinite(seek) && seek >= 0)) throw new KookRtpError('INVALID_ARGUMENT', `seek must be seconds >= 0, got ${String(options.seek)}`);
  let volume = options.volume ?? 1;
  checkVolume(volume);
  let budget = opusBitrateForRoom(options.roomBitrate ?? 48000);
  const signal = options.signal;
  const reader = await openInput(input, { signal, stallTimeoutMs: options.stallTimeoutMs });
  let probed: ProbeResult;
  try {
    probed = await probeReader(reader, options.rawPcm ? { rawPcm: options.rawPcm } : {});
  } catch (err) {
    await reader.close();
    throw err;
  }
  const { detail } = probed;
  try {
    return assemble(reader, probed, detail, options, budget, volume);
  } catch (err) {
    await reader.close();
    throw err;
  }
}

/** Frames of music decoded ahead to measure loudness before the first one plays (`normalize: 'track'`): 3 s. */
const LOUDNESS_LOOKAHEAD = 150;

/** Overlay frames decoded ahead of what the bus has mixed. */
const OVERLAY_AHEAD = 40;

/**
 * Frames of a clip decoded before it goes on the bus: the rewind that makes it heard at once re-mixes up to ~30
 * frames at one go (what waits in the pacer), and must find them there.
 */
const OVERLAY_FIRST = 32;

interface OverlaySlot {
  readonly abort: AbortController;
  readonly feed: OverlayFeed;
  handle?: BusOverlay;
  /** The pump waits here while it is {@link OVERLAY_AHEAD} ahead of the bus. */
  pumpWake: (() => void) | undefined;
  /** The bus waits here for a frame not decoded yet. */
  busWake: (() => void) | undefined;
}

/** A track with no music: overlays alone, until the last one ends. Open it with {@link openOverlayBed}. */
const BED = Symbol('overlay bed');

/**
 * Opens a track with no music of its own: it plays the overlays added to it ({@link Track.addOverlay}) and ends when
 * the last one has ended (or after {@link Track.handOver}). The player uses it for an overlay with nothing playing.
 */
export function openOverlayBed(options: TrackOptions = {}): Promise<Track> {
  const info: TrackInfo = { container: 'raw', codec: 'none', sampleRate: 48000, channels: 2, mode: 'transcode' };
  return Promise.resolve(assemble(undefined, { info, detail: { kind: 'raw', format: { sampleRate: 48000, channels: 2, sampleType: 's16le' } } } as unknown as ProbeResult, BED, options, opusBitrateForRoom(options.roomBitrate ?? 48000), options.volume ?? 1));
}

function assemble(
  reader: ByteReader | undefined,
  probed: ProbeResult,
  detailOrBed: ProbeDetail | typeof BED,
  options: TrackOptions,
  budget0: number,
  volume0: number,
): Track {
  const bed = detailOrBed === BED;
  const detail = (bed ? probed.detail : detailOrBed) as ProbeDetail;
  const seek = options.seek ?? 0;
  const signal = options.signal;
  const pcmOut = options.pcmOut === true;
  let budget = budget0;
  let volume = volume0;
  let filters: Filters = options.filters ?? {};
  let crossfadeOutMs = options.crossfadeOutMs ?? 0;
  const normalize = options.normalize ?? 'off';
  const target = options.normalizeTargetLufs ?? -16;
  const tagGain = normalize === 'track' && probed.info.gainTags !== undefined ? gainFromTags(probed.info.gainTags, target) : null;
  const needsBus = (): boolean =>
    volume !== 1 || Object.keys(filters).length > 0 || (normalize === 'track' && !(tagGain !== null && Math.abs(tagGain.gainDb) < 0.05)) || options.crossfadeIn !== undefined;
  let mode: 'passthrough' | 'transcode' =
    bed || pcmOut || needsBus() ? 'transcode' : chooseMode(detail, budget, { volume: 1, passthrough: options.passthrough ?? 'auto', roomBitrate: options.roomBitrate ?? 48000 });
  let encoder: OpusFrameEncoder | undefined;
  const makeEncoder = (): OpusFrameEncoder => (encoder ??= pcmOut ? pcmEncoder() : createOpusEncoder({ bitrate: budget, ...options.encoder }));
  if (mode === 'transcode') makeEncoder();
  let info: TrackInfo = { ...probed.info, mode, ...(encoder && !pcmOut ? { encoderBackend: encoder.backend } : {}) };
  let closed = false;
  let framer: PcmFramer | undefined;
  let pcm: PcmSource | undefined;
  let opusDecoder: OpusFrameDecoder | undefined;
  let iterated = false;
  let onEvent: ((e: TrackEvent) => void) | undefined;
  const pendingEvents: TrackEvent[] = [];
  const event = (e: TrackEvent): void => {
    if (onEvent === undefined) pendingEvents.push(e);
    else onEvent(e);
  };

  // The mix bus (volume, loudness gain, filters, crossfade, overlays, limiter), made when transcoding starts.
  let bus: TrackBus | undefined;
  /** Frames handed out before the bus made its first (passthrough frames before a switch). */
  let busBase = 0;
  const getBus = (): TrackBus => {
    if (bus === undefined) {
      bus = new TrackBus({ volume, filters, normGain: tagGain?.gain ?? 1 });
      busBase = handed + replayQueue.length;
      if (options.crossfadeIn !== undefined) bus.setIncomingTail(options.crossfadeIn);
    }
    return bus;
  };
  const meter = normalize === 'track' && tagGain === null && !pcmOut && !bed ? new LoudnessMeter() : undefined;
  /** Music frames decoded ahead for the loudness measurement, not yet through the bus. */
  let ahead: Int16Array[] | undefined = meter === undefined ? undefined : [];
  let meterFrames = 0;

  /** Each overlay's decoder (the pump) and the two ways to wake: the pump when the bus has read on, the bus when the pump has decoded. */
  const overlays = new Map<number, OverlaySlot>();
  let overlayAdded: (() => void) | undefined;
  let handOverAsked = false;
  let tail: Float32Array | undefined;
  /** Music frames taken from the framer (the position in the source is seek + this × 20 ms). */
  let musicFrames = 0;
  const totalFrames = probed.info.durationSec === undefined ? undefined : Math.floor((probed.info.durationSec - seek) * 50);

  const switchToTranscode = (): void => {
    if (mode === 'transcode') return;
    mode = 'transcode';
    const enc = makeEncoder();
    info = { ...info, mode, encoderBackend: enc.backend };
  };

  const release = async (): Promise<void> => {
    encoder?.close();
    opusDecoder?.close();
    encoder = undefined;
    opusDecoder = undefined;
    for (const o of overlays.values()) o.abort.abort();
    if (pcm) await pcm.close();
    await reader?.close();
  };

  const checkAbort = (): void => {
    if (signal?.aborted) throw new KookRtpError('ABORTED', 'the track was aborted', { cause: signal.reason });
  };

  let replayQueue: OpusFrame[] = [];
  /** Frames handed out (replays included), i.e. the index of the next one. */
  let handed = 0;

  const flushBusEvents = (): void => {
    if (bus === undefined) return;
    for (const e of bus.takeEvents()) {
      // An overlay's end says where in the clip it got to (it was opened `seek` seconds in).
      const clip = e.kind === 'overlayEnd' && e.read !== undefined ? { clipSec: (overlaySeek.get(e.id) ?? 0) + e.read / 50 } : {};
      event({ ...e, frame: busBase + e.frame, ...clip } as TrackEvent);
    }
  };

  const handOverOverlays = (): void => {
    const b = getBus();
    for (const o of b.beginTail()) {
      event({ kind: 'overlayHandover', id: o.id, frame: handed + replayQueue.length, consumedFrames: o.cursor });
      overlays.get(o.id)?.abort.abort();
      overlays.delete(o.id);
    }
  };

  /** Waits until every overlay the bus will read next has that frame decoded. */
  const feedsReady = async (): Promise<void> => {
    if (bus === undefined) return;
    for (let s = bus.starving(); s.length > 0; s = bus.starving()) {
      await new Promise<void>((r) => {
        for (const o of overlays.values()) if (s.includes(o.feed)) o.busWake = r;
      });
    }
  };

  const wakePumps = (): void => {
    for (const o of overlays.values()) {
      const w = o.pumpWake;
      o.pumpWake = undefined;
      w?.();
    }
  };

  /** Bus output to Opus. */
  function* encodeAll(outs: Int16Array[]): Generator<OpusFrame> {
    for (const o of outs) {
      handed++;
      yield { data: makeEncoder().encode(o), samples: FRAME_SAMPLES };
    }
  }

  /** One music frame (unity gain, the framer's buffer) into the bus, or into the crossfade tail. */
  async function* take(f: Int16Array): AsyncGenerator<OpusFrame> {
    if (pcmOut) {
      handed++;
      yield { data: new Uint8Array(f.slice().buffer), samples: FRAME_SAMPLES };
      return;
    }
    const b = getBus();
    musicFrames++;
    if (!b.collectingTail && crossfadeOutMs > 0 && totalFrames !== undefined && musicFrames > totalFrames - Math.round(crossfadeOutMs / 20)) {
      handOverOverlays();
    }
    if (b.collectingTail) {
      b.processTail(f);
      return;
    }
    await feedsReady();
    const outs = b.process(f);
    wakePumps();
    flushBusEvents();
    yield* encodeAll(outs);
  }

  /** Music frames through the loudness look-ahead (when measuring) into {@link take}. */
  async function* music(f: Int16Array | null): AsyncGenerator<OpusFrame> {
    if (ahead === undefined || meter === undefined) {
      if (f !== null) yield* take(f);
      return;
    }
    if (f !== null) {
      meter.pushInt16(f);
      meterFrames++;
      if (meterFrames % 20 === 0 && bus !== undefined) {
        // Keep refining while decoding: the integrated loudness of everything decoded so far.
        const g = gainForTarget(meter.integratedLufs, target, -1, meter.truePeak);
        bus.normGain = bus.normGain * 0.8 + g * 0.2;
      }
      if (ahead.length < LOUDNESS_LOOKAHEAD && bus === undefined) {
        ahead.push(f.slice());
        return;
      }
    }
    if (bus === undefined) {
      getBus().normGain = gainForTarget(meter.integratedLufs, target, -1, meter.truePeak);
    }
    const held = ahead;
    ahead = [];
    for (const h of held) yield* take(h);
    if (f !== null) yield* take(f);
  }

  async function* drain(final: boolean): AsyncGenerator<OpusFrame> {
    if (!framer) return;
    if (final) framer.flush();
    for (;;) {
      // Frames asked for again come before any new one.
      while (replayQueue.length > 0) {
        handed++;
        yield replayQueue.shift() as OpusFrame;
      }
      if (handOverAsked && !pcmOut) {
        if (bus === undefined || !bus.collectingTail) handOverOverlays();
        return;
      }
      const f = framer.nextFrame();
      if (!f) break;
      if (closed) return;
      checkAbort();
      yield* music(f);
    }
    if (final) {
      yield* music(null);
      if (bus !== undefined && !bus.collectingTail) {
        yield* encodeAll(bus.flush());
        // Overlays still playing when the music ends are carried on by whatever plays next.
        if (bus.activeOverlays > 0) handOverOverlays();
      }
      flushBusEvents();
    }
  }

  const replay = (n: number): boolean => {
    if (!Number.isInteger(n) || n <= 0) return n === 0;
    if (mode !== 'transcode' || bus === undefined || pcmOut) return false;
    const outs = bus.rewind(n);
    if (outs === null) return false;
    const enc = makeEncoder();
    handed = handed + replayQueue.length - n;
    replayQueue = outs.map((o) => ({ data: enc.encode(o), samples: FRAME_SAMPLES }));
    // The frames made again read the overlays on: their decoders may go on.
    wakePumps();
    flushBusEvents();
    return true;
  };
  /** The last frames handed out, as they were (the newest is frame `handed - 1`): a rewind that cannot make them again
   *  (passthrough, timescale on, the crossfade tail) hands these out again, unchanged, rather than leave a hole. */
  const sent: OpusFrame[] = [];
  const keep = (f: OpusFrame): void => {
    sent.push(f);
    if (sent.length > REPLAY_FRAMES) sent.shift();
  };
  const rewind = (frame: number): boolean => {
    const back = handed - frame;
    if (replay(handed + replayQueue.length - frame)) {
      // Made again from `frame` on: the frames kept from there are superseded.
      if (back > 0) sent.length = Math.max(0, sent.length - back);
      return true;
    }
    if (!Number.isInteger(frame) || back < 0 || back > sent.length) return false;
    replayQueue = [...sent.splice(sent.length - back, back), ...replayQueue];
    handed = frame;
    return true;
  };

  async function* bedFrames(): AsyncGenerator<OpusFrame> {
    const b = getBus();
    // Waits for the overlays being added (none left to add and none playing: nothing to do).
    while (b.activeOverlays === 0 && adding > 0 && !closed && !handOverAsked) await new Promise<void>((r) => (overlayAdded = r));
    while (!closed && !handOverAsked) {
      while (replayQueue.length > 0) {
        handed++;
        yield replayQueue.shift() as OpusFrame;
      }
      if (b.activeOverlays === 0) break;
      checkAbort();
      await feedsReady();
      const outs = b.process(null);
      wakePumps();
      flushBusEvents();
      yield* encodeAll(outs);
    }
    if (handOverAsked && b.activeOverlays > 0) handOverOverlays();
    flushBusEvents();
  }
  async function* opusFrames(): AsyncGenerator<OpusFrame> {
    if (detail.kind !== 'ogg-opus' && detail.kind !== 'webm-opus') return;
    const target = Math.round(seek * 48000);
    const preSkip = detail.head.preSkip;
    let pos = -preSkip; // output-timeline position of the next packet's first sample
    let last: Uint8Array | undefined;
    const packets = detail.kind === 'ogg-opus' ? oggOpusPackets(reader as ByteReader) : webmOpusPackets(reader as ByteReader);
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await packets.next();
      } catch (err) {
        yield* drain(true);
        throw err;
      }
      if (r.done) break;
      const packet = r.value;
      if (closed) return;
      checkAbort();
      const samples = opusPacketSamples(packet);
      const end = pos + samples;
      if (mode === 'passthrough' && handOverAsked) return;
      // The crossfade into the next track needs this one's end decoded.
      if (mode === 'passthrough' && crossfadeOutMs > 0 && totalFrames !== undefined && musicFrames >= totalFrames - Math.round(crossfadeOutMs / 20) - 1) {
        switchToTranscode();
      }
      if (mode === 'passthrough') {
        if (end > target) {
          musicFrames += samples / FRAME_SAMPLES;
          handed++;
          yield { data: packet, samples };
        }
        last = packet;
      } else if (end > target - OPUS_PREROLL) {
        if (!opusDecoder) {
          opusDecoder = createOpusDecoder();
          framer = new PcmFramer({ sampleRate: 48000, channels: 2 });
          // Prime the decoder with the previous packet so a mid-stream switch does not start from a cold state.
          if (last) opusDecoder.decode(last);
        }
        const out = opusDecoder.decode(packet);
        const n = out.length / 2;
        const from = Math.min(n, Math.max(0, Math.max(target, 0) - pos));
        if (from < n) framer!.pushInterleavedInt16(from === 0 ? out : out.subarray(from * 2));
        yield* drain(false);
      }
      pos = end;
    }
    yield* drain(true);
  }

  async function* pcmFrames(): AsyncGenerator<OpusFrame> {
    let skipped = (): number => 0;
    if (detail.kind === 'flac' || detail.kind === 'ogg-flac' || detail.kind === 'ogg-vorbis') {
      pcm = await createWasmSource(reader as ByteReader, detail.kind, probed.info.sampleRate, probed.info.channels, detail.kind === 'ogg-vorbis' ? 0 : detail.totalSamples);
    } else {
      const made = await createPcmSourceFor(reader as ByteReader, detail, seek);
      pcm = made.source;
      skipped = made.skipped;
    }
    const src = pcm;
    framer = new PcmFramer({ sampleRate: src.sampleRate, channels: src.channels });
    let discard: number | undefined;
    for (;;) {
      if (closed) return;
      checkAbort();
      let block;
      try {
        block = await src.next();
      } catch (err) {
        // Hand out what was decoded before the damage (the last partial frame padded), then report it.
        yield* drain(true);
        throw err;
      }
      if (!block) break;
      if (closed) return;
      try {
        checkPcmBlock(block, src.channels, `${probed.info.container}/${probed.info.codec}`);
      } catch (err) {
        yield* drain(true);
        throw err;
      }
      // The source may have skipped whole frames without decoding them: trim only the rest.
      discard ??= Math.max(0, Math.round(seek * src.sampleRate) - skipped());
      let { planar, length } = block;
      if (discard > 0) {
        const d = Math.min(discard, length);
        discard -= d;
        if (d === length) continue;
        planar = planar.map((c) => c.subarray(d));
        length -= d;
      }
      framer.push(planar, length);
      yield* drain(false);
    }
    yield* drain(true);
  }

  async function* frames(): AsyncGenerator<OpusFrame> {
    try {
      for (const o of options.overlays ?? []) {
        try {
          await track.addOverlay?.(o.id, o.input, o.options);
        } catch (err) {
          event({ kind: 'overlayEnd', id: o.id, frame: handed, error: asKookError(err) });
        }
      }
      const inner = bed ? bedFrames() : detail.kind === 'ogg-opus' || detail.kind === 'webm-opus' ? opusFrames() : pcmFrames();
      for await (const f of inner) {
        keep(f);
        yield f;
      }
      if (bus !== undefined && bus.collectingTail && crossfadeOutMs > 0) tail = bus.takeTail();
      while (replayQueue.length > 0 && !closed) {
        handed++;
        const f = replayQueue.shift() as OpusFrame;
        keep(f);
        yield f;
      }
    } catch (err) {
      if (closed && !isKookRtpError(err)) return;
      throw asKookError(err);
    } finally {
      closed = true;
      await release();
    }
  }

  /** Where each overlay's clip was opened, seconds in. */
  const overlaySeek = new Map<number, number>();
  /** Opens a clip, decodes its first frames, and puts it on the bus (see Track.addOverlay). */
  const addOne = async (id: number, input: TrackInput, o: OverlayOptions): Promise<void> => {
    overlaySeek.set(id, o.seek ?? 0);
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const feed = new OverlayFeed();
    const slot: OverlaySlot = { abort, feed, pumpWake: undefined, busWake: undefined };
    overlays.set(id, slot);
    let ready!: () => void;
    const first = new Promise<void>((r) => (ready = r));
    const pump = async (): Promise<void> => {
      try {
        const src = await openTrack(input, { pcmOut: true, seek: o.seek ?? 0, signal: abort.signal, ...(o.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: o.stallTimeoutMs }), ...(o.rawPcm === undefined ? {} : { rawPcm: o.rawPcm }) });
        for await (const f of src) {
          feed.frames.push(new Int16Array(f.data.buffer, f.data.byteOffset, f.data.byteLength >> 1));
          if (feed.available >= OVERLAY_FIRST) ready();
          const w = slot.busWake;
          slot.busWake = undefined;
          w?.();
          while (!abort.signal.aborted && slot.handle !== undefined && feed.available - slot.handle.cursor > OVERLAY_AHEAD) {
            await new Promise<void>((r) => (slot.pumpWake = r));
          }
          if (abort.signal.aborted) break;
        }
      } catch (err) {
        if (!abort.signal.aborted) feed.error = asKookError(err);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        feed.ended = true;
        ready();
        const w = slot.busWake;
        slot.busWake = undefined;
        w?.();
      }
    };
    void pump();
    await first;
    if (closed) {
      abort.abort();
      throw new KookRtpError('ABORTED', 'the track ended while the overlay was opening');
    }
    if (handOverAsked || bus?.collectingTail === true) {
      // This track sends no more mixed frames (its end is kept for a crossfade, or it was asked to hand over): the
      // clip goes to whatever plays next, from its start.
      abort.abort();
      overlays.delete(id);
      event({ kind: 'overlayHandover', id, frame: handed + replayQueue.length, consumedFrames: 0 });
      return;
    }
    switchToTranscode();
    slot.handle = getBus().addOverlay(id, feed, o);
    const a = overlayAdded;
    overlayAdded = undefined;
    a?.();
  };
  /** Overlays being opened (a bed waits for them). */
  let adding = 0;

  const track: Track = {
    get info() {
      return info;
    },
    get volume() {
      return volume;
    },
    set volume(v: number) {
      checkVolume(v);
      volume = v;
      if (bus !== undefined) bus.volume = v;
      if (v !== 1) switchToTranscode();
    },
    get filters() {
      return bus?.filters ?? filters;
    },
    set filters(f: Filters) {
      const checked = validateFilters(f);
      if (bus !== undefined) bus.filters = checked;
      filters = checked;
      if (Object.keys(checked).length > 0) switchToTranscode();
    },
    get crossfadeOutMs() {
      return crossfadeOutMs;
    },
    set crossfadeOutMs(ms: number) {
      crossfadeOutMs = checkCrossfadeMs(ms);
    },
    get onEvent() {
      return onEvent;
    },
    set onEvent(f: ((e: TrackEvent) => void) | undefined) {
      onEvent = f;
      if (f !== undefined) for (const e of pendingEvents.splice(0)) f(e);
    },
    async addOverlay(id: number, input: TrackInput, o: OverlayOptions = {}): Promise<void> {
      if (pcmOut) throw new KookRtpError('INVALID_ARGUMENT', 'an overlay track cannot take overlays');
      if (closed) throw new KookRtpError('ABORTED', 'the track has ended');
      adding++;
      try {
        await addOne(id, input, o);
      } finally {
        adding--;
        const a = overlayAdded;
        overlayAdded = undefined;
        a?.();
      }
    },
    removeOverlay(id: number): boolean {
      const slot = overlays.get(id);
      if (slot === undefined) return false;
      slot.abort.abort();
      overlays.delete(id);
      const ok = bus?.removeOverlay(id) ?? false;
      flushBusEvents();
      return ok;
    },
    handOver(frame?: number): void {
      if (frame !== undefined && bus !== undefined && !bus.collectingTail) {
        // The frames from `frame` on were dropped unsent: the overlays hand over from there.
        const n = handed + replayQueue.length - frame;
        if (n > 0 && bus.cutBack(n)) {
          handed = frame;
          replayQueue = [];
        }
      }
      handOverAsked = true;
      const a = overlayAdded;
      overlayAdded = undefined;
      a?.();
    },
    takeTail(): Float32Array | undefined {
      const t = tail;
      tail = undefined;
      return t;
    },
    setBitrate(bps: number): void {
      budget = bps;
      encoder?.setBitrate(bps);
      if (mode === 'passthrough' && options.passthrough !== 'always' && 'packetBitrate' in detail && (detail.packetBitrate ?? Infinity) > bps) switchToTranscode();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await release();
    },
    rewind,
    [Symbol.asyncIterator](): AsyncIterator<OpusFrame> {
      if (iterated) throw new KookRtpError('INVALID_ARGUMENT', 'a track can be iterated only once: open it again to replay');
      iterated = true;
      return frames();
    },
  };
  return track;
}

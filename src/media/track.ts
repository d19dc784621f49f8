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
}

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
}

/** Frames of PCM a transcoded track keeps for {@link Track.replay}: 1.28 s. */
export const REPLAY_FRAMES = 64;

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
  let mode = chooseMode(detail, budget, { volume, passthrough: options.passthrough ?? 'auto', roomBitrate: options.roomBitrate ?? 48000 });
  let encoder: OpusFrameEncoder | undefined;
  const makeEncoder = (): OpusFrameEncoder => (encoder ??= createOpusEncoder({ bitrate: budget, ...options.encoder }));
  try {
    if (mode === 'transcode') makeEncoder();
  } catch (err) {
    await reader.close();
    throw err;
  }
  let info: TrackInfo = { ...probed.info, mode, ...(encoder ? { encoderBackend: encoder.backend } : {}) };
  let closed = false;
  let framer: PcmFramer | undefined;
  let pcm: PcmSource | undefined;
  let opusDecoder: OpusFrameDecoder | undefined;
  let iterated = false;

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
    if (pcm) await pcm.close();
    await reader.close();
  };

  const checkAbort = (): void => {
    if (signal?.aborted) throw new KookRtpError('ABORTED', 'the track was aborted', { cause: signal.reason });
  };

  // The PCM of the last frames encoded, and the volume each was made with (for replay()).
  const history: { pcm: Int16Array; volume: number; rampFrom?: number | undefined; rampSamples?: number }[] = [];
  /** Set by a volume change: the next frame taken ramps from this gain to `volume` over `rampSamples`. */
  let rampFrom: number | undefined;
  let rampSamples = FRAME_SAMPLES;
  /** A replay has moved the change before that frame: take it at the new gain throughout. */
  let flattenNext = false;
  let replayQueue: OpusFrame[] = [];
  /** Frames handed out (replays included), i.e. the index of the next one. */
  let handed = 0;

  async function* drain(final: boolean): AsyncGenerator<OpusFrame> {
    if (!framer) return;
    if (final) framer.flush();
    for (;;) {
      // Frames asked for again come before any new one.
      while (replayQueue.length > 0) {
        handed++;
        yield replayQueue.shift() as OpusFrame;
      }
      const f = framer.nextFrame();
      if (!f) break;
      if (closed) return;
      checkAbort();
      const kept = history.length >= REPLAY_FRAMES ? (history.shift() as { pcm: Int16Array; volume: number }) : undefined;
      const pcmCopy = kept !== undefined && kept.pcm.length === f.length ? kept.pcm : new Int16Array(f.length);
      pcmCopy.set(f);
      const rf = rampFrom;
      if (rf !== undefined && flattenNext) {
        for (let j = 0; j < rampSamples && j * 2 < f.length; j++) {
          const made = rf + ((volume - rf) * (j + 1)) / rampSamples;
          const g = made > 0 ? volume / made : 1;
          for (let c = 0; c < 2; c++) {
            const x = Math.round((f[j * 2 + c] as number) * g);
            f[j * 2 + c] = x > 32767 ? 32767 : x < -32768 ? -32768 : x;
          }
        }
        pcmCopy.set(f);
      }
      history.push({ pcm: pcmCopy, volume, rampFrom: flattenNext ? undefined : rf, rampSamples });
      rampFrom = undefined;
      flattenNext = false;
      handed++;
      yield { data: makeEncoder().encode(f), samples: FRAME_SAMPLES };
    }
  }

  const replay = (n: number): boolean => {
    if (!Number.isInteger(n) || n <= 0) return n === 0;
    if (mode !== 'transcode' || n > history.length || encoder === undefined) return false;
    const enc = makeEncoder();
    const out: OpusFrame[] = [];
    const from = history.length - n;
    const frames0 = FRAME_SAMPLES;
    // Gains relative to what each frame was made with, ramped from the first frame's old gain (no click at the splice).
    let prev = 1;
    for (let i = from; i < history.length; i++) {
      const h = history[i] as { pcm: Int16Array; volume: number; rampFrom?: number | undefined; rampSamples?: number };
      const rs = h.rampSamples ?? frames0;
      const target = h.volume > 0 ? volume / h.volume : 1;
      const pcm = new Int16Array(h.pcm.length);
      const frames = pcm.length / 2;
      const rf = h.rampFrom;
      for (let j = 0; j < frames; j++) {
        // A frame made during a ramp had gain rampFrom -> volume over its samples: undo that ramp, apply the new gain.
        const made = rf === undefined || j >= rs ? h.volume : rf + ((h.volume - rf) * (j + 1)) / rs;
        const t = rf === undefined ? target : made > 0 ? volume / made : 1;
        const g = i === from ? prev + ((t - prev) * j) / frames : t;
        for (let c = 0; c < 2; c++) {
          const v = Math.round((h.pcm[j * 2 + c] as number) * g);
          pcm[j * 2 + c] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
      prev = target;
      h.pcm.set(pcm);
      h.volume = volume;
      h.rampFrom = undefined;
      out.push({ data: enc.encode(pcm), samples: FRAME_SAMPLES });
    }
    handed = handed + replayQueue.length - n;
    replayQueue = out;
    // A ramped frame not taken yet now follows frames made at the new gain: take it flat.
    if (rampFrom !== undefined) flattenNext = true;
    return true;
  };
  const rewind = (frame: number): boolean => replay(handed + replayQueue.length - frame);

  async function* opusFrames(): AsyncGenerator<OpusFrame> {
    if (detail.kind !== 'ogg-opus' && detail.kind !== 'webm-opus') return;
    const target = Math.round(seek * 48000);
    const preSkip = detail.head.preSkip;
    let pos = -preSkip; // output-timeline position of the next packet's first sample
    let last: Uint8Array | undefined;
    const packets = detail.kind === 'ogg-opus' ? oggOpusPackets(reader) : webmOpusPackets(reader);
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
      if (mode === 'passthrough') {
        if (end > target) yield { data: packet, samples };
        last = packet;
      } else if (end > target - OPUS_PREROLL) {
        if (!opusDecoder) {
          opusDecoder = createOpusDecoder();
          framer = new PcmFramer({ sampleRate: 48000, channels: 2, volume });
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
      pcm = await createWasmSource(reader, detail.kind, probed.info.sampleRate, probed.info.channels, detail.kind === 'ogg-vorbis' ? 0 : detail.totalSamples);
    } else {
      const made = await createPcmSourceFor(reader, detail, seek);
      pcm = made.source;
      skipped = made.skipped;
    }
    const src = pcm;
    framer = new PcmFramer({ sampleRate: src.sampleRate, channels: src.channels, volume });
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
      yield* detail.kind === 'ogg-opus' || detail.kind === 'webm-opus' ? opusFrames() : pcmFrames();
      while (replayQueue.length > 0 && !closed) {
        handed++;
        yield replayQueue.shift() as OpusFrame;
      }
    } catch (err) {
      if (closed && !isKookRtpError(err)) return;
      throw asKookError(err);
    } finally {
      closed = true;
      await release();
    }
  }

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
      if (framer) {
        const old = framer.volume;
        framer.volume = v;
        // The next frame taken ramps from the old gain to the new one (replay() needs to know).
        rampFrom = old;
        rampSamples = framer.lastRampSamples;
        flattenNext = false;
      }
      if (v !== 1) switchToTranscode();
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

/**
 * FLAC (native and in Ogg) and Ogg/Vorbis through the @wasm-audio-decoders packages, which parse the container
 * themselves (codec-parser). For Ogg inputs our own {@link OggDemuxer} runs alongside purely as a validator: the
 * WASM side skips garbage silently, the demuxer notices it (and a truncated last page) so the track can fail with
 * `DECODE_FAILED` instead of ending quietly short.
 */
import { KookRtpError } from '../../errors.js';
import { OggDemuxer } from '../../wire/ogg/demuxer.js';
import type { ByteReader } from '../input.js';
import { quietly, type PcmBlock, type PcmSource } from './types.js';

/** Which WASM decoder to use. */
export type WasmCodec = 'flac' | 'ogg-flac' | 'ogg-vorbis';

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  errors: { message: string }[];
}
interface WasmDecoder {
  ready: Promise<void>;
  decode(b: Uint8Array): Promise<Decoded>;
  flush(): Promise<Decoded>;
  free(): void;
}

/** Garbage tolerated in an Ogg stream before failing (one maximum page). */
const MAX_OGG_JUNK = 65307;

/**
 * Bytes handed to the decoder per call: 8 KiB is ~65 ms of CD-quality FLAC or ~0.4 s of Vorbis, so one `next()`
 * costs a few ms, not a whole 64 KiB read chunk (seconds of Vorbis) that would hold up the event loop.
 */
const DECODE_SLICE = 8192;

/**
 * Decodes FLAC or Ogg/Vorbis from `reader` (positioned at the stream start).
 *
 * @param expectedSamples - FLAC STREAMINFO total samples (0 = unknown): decoding fewer means truncation.
 * @throws {@link KookRtpError} `DECODE_FAILED` from `next()` on decoder errors, Ogg garbage or truncation, after
 *   the audio decoded before it was returned.
 */
export async function createWasmSource(
  reader: ByteReader,
  codec: WasmCodec,
  sampleRate: number,
  channels: number,
  expectedSamples = 0,
): Promise<PcmSource> {
  // Loaded on first use (each package is ~40-50 ms of module loading that MP3 and Opus plays should not pay).
  const decoder: WasmDecoder =
    codec === 'ogg-vorbis'
      ? (new (await import('@wasm-audio-decoders/ogg-vorbis')).OggVorbisDecoder() as unknown as WasmDecoder)
      : (new (await import('@wasm-audio-decoders/flac')).FLACDecoder() as unknown as WasmDecoder);
  await decoder.ready;
  const validator = codec === 'flac' ? undefined : new OggDemuxer();
  let closed = false;
  let eof = false;
  let total = 0;
  /** The rest of the last chunk read, decoded DECODE_SLICE bytes at a time. */
  let rest: Uint8Array | undefined;
  const name = codec === 'ogg-vorbis' ? 'Ogg/Vorbis' : codec === 'ogg-flac' ? 'Ogg/FLAC' : 'FLAC';
  const check = (d: Decoded): void => {
    const first = d.errors[0];
    if (first) throw new KookRtpError('DECODE_FAILED', `${name} decoder error: ${first.message}`);
  };
  return {
    sampleRate,
    channels,
    async next(): Promise<PcmBlock | null> {
      for (;;) {
        if (closed || eof) return null;
        if (rest !== undefined) {
          const slice = rest.length > DECODE_SLICE ? rest.subarray(0, DECODE_SLICE) : rest;
          rest = rest.length > DECODE_SLICE ? rest.subarray(DECODE_SLICE) : undefined;
          const d = await quietly(() => decoder.decode(slice));
          check(d);
          total += d.samplesDecoded;
          if (d.samplesDecoded > 0) return { planar: d.channelData, length: d.samplesDecoded };
          continue;
        }
        const c = await reader.chunk();
        if (closed) return null;
        let d: Decoded;
        if (!c) {
          eof = true;
          d = await quietly(() => decoder.flush());
          check(d);
          validator?.end();
          total += d.samplesDecoded;
          if (expectedSamples > 0 && total < expectedSamples - 4608) {
            throw new KookRtpError('DECODE_FAILED', `${name} ended after ${total} of ${expectedSamples} samples: the file is truncated or corrupt`);
          }
          if (d.samplesDecoded === 0) return null;
          return { planar: d.channelData, length: d.samplesDecoded };
        }
        if (validator) {
          validator.push(c);
          if (validator.junkRun > MAX_OGG_JUNK || (validator.pages === 0 && validator.junkTotal > MAX_OGG_JUNK)) {
            throw new KookRtpError('DECODE_FAILED', `${name} stream corrupt near byte ${reader.position}: no valid Ogg page in ${validator.junkRun} bytes`);
          }
        }
        rest = c;
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      decoder.free();
      await reader.close();
    },
  };
}

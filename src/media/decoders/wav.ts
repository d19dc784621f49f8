/**
 * WAV (RIFF/WAVE) parsing by hand: PCM 8/16/24/32-bit integer, 32/64-bit float, and WAVE_FORMAT_EXTENSIBLE with
 * those sub-formats. Streams the data chunk in blocks; a data size of 0 or 0xFFFFFFFF (written by live encoders
 * that could not seek back) means "until the end of input".
 *
 * @see {@link https://www.mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/WAVE.html | WAVE format}
 */
import { KookRtpError } from '../../errors.js';
import type { ByteReader } from '../input.js';
import type { PcmBlock, PcmSource } from './types.js';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** The format of a WAV file's data chunk. */
export interface WavFormat {
  readonly sampleType: 'int' | 'float';
  readonly bitsPerSample: 8 | 16 | 24 | 32 | 64;
  readonly channels: number;
  readonly sampleRate: number;
  /** Bytes per sample frame (all channels). */
  readonly blockAlign: number;
  /** Data chunk size in bytes, or undefined when open-ended. */
  readonly dataSize: number | undefined;
  /** WAVE_FORMAT_EXTENSIBLE channel mask, when present. */
  readonly channelMask?: number;
  readonly extensible: boolean;
}

/** True when `b` starts with a RIFF/WAVE header. */
export function isWav(b: Uint8Array): boolean {
  return b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WAVE';
}

/**
 * Reads the RIFF header and chunks up to the start of the data chunk, consuming them from `reader`.
 *
 * @throws {@link KookRtpError} `INVALID_INPUT` for a malformed header, `UNSUPPORTED_FORMAT` for a compressed or
 *   unusual encoding (ADPCM, A-law, 12-bit, ...) with the format tag in the message.
 */
export async function readWavHeader(reader: ByteReader): Promise<WavFormat> {
  const riff = await reader.read(12);
  if (!isWav(riff)) throw new KookRtpError('INVALID_INPUT', 'expected a RIFF/WAVE header');
  let fmt: Omit<WavFormat, 'dataSize'> | undefined;
  for (let guard = 0; guard < 64; guard++) {
    const h = await reader.read(8);
    if (h.length < 8) throw new KookRtpError('INVALID_INPUT', 'WAV file ends before its data chunk: truncated or not audio');
    const id = String.fromCharCode(...h.subarray(0, 4));
    const size = new DataView(h.buffer, h.byteOffset, 8).getUint32(4, true);
    if (id === 'fmt ') {
      if (size < 16 || size > 4096) throw new KookRtpError('INVALID_INPUT', `WAV fmt chunk of ${size} bytes, expected 16 to 40`);
      const b = await reader.read(size + (size & 1));
      if (b.length < size) throw new KookRtpError('INVALID_INPUT', 'WAV fmt chunk is cut short');
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let tag = v.getUint16(0, true);
      const channels = v.getUint16(2, true);
      const sampleRate = v.getUint32(4, true);
      const blockAlign = v.getUint16(12, true);
      const bits = v.getUint16(14, true);
      let channelMask: number | undefined;
      const extensible = tag === WAVE_FORMAT_EXTENSIBLE;
      if (extensible) {
        if (size < 40) throw new KookRtpError('INVALID_INPUT', 'WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
        channelMask = v.getUint32(20, true);
        tag = v.getUint16(24, true); // first two bytes of the SubFormat GUID are the format tag
      }
      const sampleType = tag === WAVE_FORMAT_PCM ? 'int' : tag === WAVE_FORMAT_IEEE_FLOAT ? 'float' : undefined;
      if (!sampleType) {
        throw new KookRtpError('UNSUPPORTED_FORMAT', `WAV format tag 0x${tag.toString(16)} (compressed WAV) is not supported: convert to PCM WAV, or install ffmpeg`);
      }
      const okBits = sampleType === 'int' ? [8, 16, 24, 32] : [32, 64];
      if (!okBits.includes(bits)) throw new KookRtpError('UNSUPPORTED_FORMAT', `WAV with ${bits}-bit ${sampleType} samples is not supported`);
      if (channels === 0 || sampleRate < 1000 || sampleRate > 768000 || blockAlign !== (channels * bits) / 8) {
        throw new KookRtpError('INVALID_INPUT', `WAV fmt chunk is inconsistent: ${channels} channels, ${sampleRate} Hz, ${bits} bits, block ${blockAlign}`);
      }
      fmt = { sampleType, bitsPerSample: bits as WavFormat['bitsPerSample'], channels, sampleRate, blockAlign, extensible, ...(channelMask !== undefined ? { channelMask } : {}) };
    } else if (id === 'data') {
      if (!fmt) throw new KookRtpError('INVALID_INPUT', 'WAV data chunk comes before its fmt chunk');
      return { ...fmt, dataSize: dataChunkSize(size, reader) };
    } else {
      // LIST, fact, bext, ...: skip (word-aligned).
      const want = size + (size & 1);
      if ((await reader.skip(want)) < want) throw new KookRtpError('INVALID_INPUT', 'WAV file ends before its data chunk: truncated or not audio');
    }
  }
  throw new KookRtpError('INVALID_INPUT', 'WAV file has too many chunks before its data chunk');
}

/**
 * The bytes of audio a data chunk holds. Streaming writers cannot know the size when they write the header and put
 * 0, 0xFFFFFFFF or another large placeholder there; a file may also be cut short. When the input's size is known (a
 * file, a buffer, a Content-Length) the claim is capped at what follows the header, as ffmpeg and sox do, so such a
 * file plays to its end; without a known size a placeholder means "to the end" and a plausible claim stands (a
 * stream that ends before it is reported).
 */
function dataChunkSize(claimed: number, reader: ByteReader): number | undefined {
  const placeholder = claimed === 0 || claimed >= 0xffff0000;
  if (reader.size !== undefined) {
    const available = Math.max(0, reader.size - reader.position);
    return placeholder ? available : Math.min(claimed, available);
  }
  return placeholder ? undefined : claimed;
}

/** Converts interleaved sample bytes to planar floats. */
export function wavToPlanar(bytes: Uint8Array, f: Pick<WavFormat, 'sampleType' | 'bitsPerSample' | 'channels'>): Float32Array[] {
  const ch = f.channels;
  const bps = f.bitsPerSample / 8;
  const n = Math.floor(bytes.length / (bps * ch));
  const out = Array.from({ length: ch }, () => new Float32Array(n));
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) {
      let s: number;
      if (f.sampleType === 'float') s = bps === 4 ? v.getFloat32(o, true) : v.getFloat64(o, true);
      else if (bps === 2) s = v.getInt16(o, true) / 32768;
      else if (bps === 1) s = (bytes[o]! - 128) / 128;
      else if (bps === 3) s = ((bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) << 8 >> 8) / 8388608;
      else s = v.getInt32(o, true) / 2147483648;
      out[c]![i] = s;
      o += bps;
    }
  }
  return out;
}

/**
 * Streams a WAV data chunk (after {@link readWavHeader}) or raw PCM as planar blocks.
 *
 * @param reader - positioned at the first sample.
 * @param f - the sample format.
 * @param label - "WAV" or "raw PCM", for messages.
 * @throws {@link KookRtpError} `DECODE_FAILED` from `next()` when the data chunk is shorter than its header says.
 */
export function createPcmSource(reader: ByteReader, f: WavFormat, label = 'WAV'): PcmSource {
  let left = f.dataSize;
  let carry = new Uint8Array(0);
  let closed = false;
  return {
    sampleRate: f.sampleRate,
    channels: f.channels,
    async next(): Promise<PcmBlock | null> {
      for (;;) {
        if (closed || left === 0) return null;
        let c = await reader.chunk();
        if (!c) {
          if (left !== undefined) {
            const missing = left;
            left = 0;
            throw new KookRtpError('DECODE_FAILED', `${label} data ends ${missing} bytes early: the file is truncated`);
          }
          return null;
        }
        if (left !== undefined) {
          if (c.length > left) c = c.subarray(0, left); // trailing chunks (LIST, id3) after the data
          left -= c.length;
        }
        if (carry.length > 0) {
          const m = new Uint8Array(carry.length + c.length);
          m.set(carry);
          m.set(c, carry.length);
          c = m;
        }
        const whole = c.length - (c.length % f.blockAlign);
        carry = c.slice(whole);
        if (whole === 0) continue;
        const planar = wavToPlanar(c.subarray(0, whole), f);
        return { planar, length: planar[0]!.length };
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await reader.close();
    },
  };
}

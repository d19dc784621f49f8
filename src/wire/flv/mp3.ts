/**
 * MPEG audio frame headers, so the MP3 byte stream an encoder returns can be cut into whole frames: one frame per
 * FLV audio tag, each with its own timestamp, is what FLV demuxers expect.
 *
 * ```
 * AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
 * A sync (11 bits set)  B version (00 2.5, 10 2, 11 1)  C layer (01 III, 10 II, 11 I)  D no-CRC
 * E bitrate index       F sample-rate index            G padding                      H private
 * I channel mode (11 mono) ...
 * ```
 * @see ISO/IEC 11172-3 §2.4.2.3, ISO/IEC 13818-3
 */
import { KookRtpError } from '../../errors.js';

/** A decoded MPEG audio frame header. */
export interface Mp3FrameHeader {
  /** 1, 2 or 2.5. */
  readonly version: 1 | 2 | 2.5;
  /** 1, 2 or 3. */
  readonly layer: 1 | 2 | 3;
  /** kbit/s. */
  readonly bitrateKbps: number;
  /** Hz. */
  readonly sampleRate: number;
  /** Channels (1 for mono, else 2). */
  readonly channels: 1 | 2;
  /** Samples per channel in this frame. */
  readonly samplesPerFrame: number;
  /** Total frame length in bytes including the header. */
  readonly frameLength: number;
}

const BITRATES: Readonly<Record<string, readonly number[]>> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Readonly<Record<string, readonly number[]>> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/**
 * Decodes a 4-byte MPEG audio frame header at `offset`.
 * @returns the header, or `undefined` when the bytes there are not a valid (non-free-format) header
 */
export function decodeMp3FrameHeader(bytes: Uint8Array, offset = 0): Mp3FrameHeader | undefined {
  if (bytes.length - offset < 4) return undefined;
  const b1 = bytes[offset + 1] ?? 0;
  const b2 = bytes[offset + 2] ?? 0;
  const b3 = bytes[offset + 3] ?? 0;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const v = (b1 >>> 3) & 3;
  const l = (b1 >>> 1) & 3;
  if (v === 1 || l === 0) return undefined;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const bi = b2 >>> 4;
  const si = (b2 >>> 2) & 3;
  if (bi === 0 || bi === 15 || si === 3) return undefined;
  const bitrateKbps = BITRATES[`${version === 1 ? 1 : 2}-${layer}`]?.[bi] ?? 0;
  const sampleRate = RATES[String(version)]?.[si] ?? 0;
  const padding = (b2 >>> 1) & 1;
  const channels = (b3 >>> 6) === 3 ? 1 : 2;
  let samplesPerFrame: number;
  let frameLength: number;
  if (layer === 1) {
    samplesPerFrame = 384;
    frameLength = (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + padding) * 4;
  } else if (layer === 2 || version === 1) {
    samplesPerFrame = 1152;
    frameLength = Math.floor((144 * bitrateKbps * 1000) / sampleRate) + padding;
  } else {
    samplesPerFrame = 576;
    frameLength = Math.floor((72 * bitrateKbps * 1000) / sampleRate) + padding;
  }
  return { version, layer, bitrateKbps, sampleRate, channels, samplesPerFrame, frameLength };
}

/**
 * Cuts an MPEG audio byte stream into whole frames. Bytes before a valid header (ID3 tags, garbage) are skipped
 * and counted, never thrown on.
 */
export class Mp3FrameSplitter {
  private buf: Uint8Array = new Uint8Array(0);
  /** Bytes skipped while looking for a frame header. */
  skippedBytes = 0;

  /**
   * Appends `chunk` and returns every frame now complete (each a copy, safe to keep).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      const next = new Uint8Array(this.buf.length + chunk.length);
      next.set(this.buf);
      next.set(chunk, this.buf.length);
      this.buf = next;
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    while (this.buf.length - at >= 4) {
      const h = decodeMp3FrameHeader(this.buf, at);
      if (h === undefined || h.frameLength < 4) {
        at++;
        this.skippedBytes++;
        continue;
      }
      if (this.buf.length - at < h.frameLength) break;
      frames.push(this.buf.slice(at, at + h.frameLength));
      at += h.frameLength;
    }
    this.buf = this.buf.slice(at);
    return frames;
  }
}

/** Throws unless `frame` starts with a valid MPEG audio header; returns the header. */
export function requireMp3FrameHeader(frame: Uint8Array): Mp3FrameHeader {
  const h = decodeMp3FrameHeader(frame);
  if (h === undefined) throw new KookRtpError('INVALID_PACKET', 'expected an MPEG audio frame header (0xFFE sync)');
  return h;
}

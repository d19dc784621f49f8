/**
 * Cutting the MP3 byte stream an encoder returns into whole frames: one frame per FLV audio tag, each with its own
 * timestamp, is what FLV demuxers expect. The header itself is parsed by `wire/mpeg/header.ts`.
 */
import { KookRtpError } from '../../errors.js';
import { parseMpegHeader } from '../mpeg/header.js';

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

/**
 * Decodes a 4-byte MPEG audio frame header at `offset` (a view of {@link parseMpegHeader} in FLV's terms).
 * @returns the header, or `undefined` when the bytes there are not a valid (non-free-format) header
 */
export function decodeMp3FrameHeader(bytes: Uint8Array, offset = 0): Mp3FrameHeader | undefined {
  const h = parseMpegHeader(bytes, offset);
  if (h === null) return undefined;
  return {
    version: h.version,
    layer: h.layer,
    bitrateKbps: h.bitrate / 1000,
    sampleRate: h.sampleRate,
    channels: h.channels,
    samplesPerFrame: h.samples,
    frameLength: h.frameLength,
  };
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

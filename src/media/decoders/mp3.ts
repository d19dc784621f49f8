/**
 * MPEG audio (Layer I/II/III) frame parsing, Xing/Info/VBRI headers, and decoding through mpg123-decoder (WASM).
 *
 * Frames are split and validated here before mpg123 sees them, so garbage is detected (mpg123 alone silently skips
 * it), a cut-off last frame is reported, and seeking skips whole frames without decoding them.
 *
 * @see {@link http://www.mp3-tech.org/programmer/frame_header.html | MPEG audio frame header}
 */
import { KookRtpError } from '../../errors.js';
import type { ByteReader } from '../input.js';
import type { PcmBlock, PcmSource } from './types.js';
import { parseMpegHeader, type MpegFrameHeader } from '../../wire/mpeg/header.js';

export { parseMpegHeader };
export type { MpegFrameHeader };

/** True when two headers can belong to the same stream (same version, layer and rate). */
function sameStream(a: MpegFrameHeader, b: MpegFrameHeader): boolean {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

/**
 * Finds the first offset in `b` where `chain` consecutive valid, consistent frame headers start.
 * @returns the offset and header, or null.
 */
export function findMpegSync(b: Uint8Array, chain: number, from = 0): { offset: number; header: MpegFrameHeader } | null {
  for (let i = from; i + 4 <= b.length; i++) {
    if (b[i] !== 0xff) continue;
    const h = parseMpegHeader(b, i);
    if (!h) continue;
    let ok = true;
    let p = i + h.frameLength;
    for (let k = 1; k < chain; k++) {
      if (p + 4 > b.length) {
        // The input ends: accept what fits when at least the first frame is complete.
        ok = p <= b.length && k >= 1 && b.length - i < 8192;
        break;
      }
      const n = parseMpegHeader(b, p);
      if (!n || !sameStream(h, n)) {
        ok = false;
        break;
      }
      p += n.frameLength;
    }
    if (ok) return { offset: i, header: h };
  }
  return null;
}

/** What a Xing/Info or VBRI header says. */
export interface MpegVbrInfo {
  readonly kind: 'Xing' | 'Info' | 'VBRI';
  readonly frames?: number;
  readonly bytes?: number;
}

/** Reads a Xing/Info (LAME) or VBRI header from the first frame at `pos`, if any. */
export function parseVbrHeader(b: Uint8Array, pos: number, h: MpegFrameHeader): MpegVbrInfo | null {
  const side = h.version === 1 ? (h.channels === 1 ? 17 : 32) : h.channels === 1 ? 9 : 17;
  const x = pos + 4 + side;
  const tag = String.fromCharCode(...b.subarray(x, x + 4));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if ((tag === 'Xing' || tag === 'Info') && x + 8 <= b.length) {
    const flags = v.getUint32(x + 4);
    let o = x + 8;
    const out: { kind: 'Xing' | 'Info'; frames?: number; bytes?: number } = { kind: tag };
    if (flags & 1 && o + 4 <= b.length) {
      out.frames = v.getUint32(o);
      o += 4;
    }
    if (flags & 2 && o + 4 <= b.length) out.bytes = v.getUint32(o);
    return out;
  }
  const vb = pos + 36;
  if (vb + 18 <= b.length && String.fromCharCode(...b.subarray(vb, vb + 4)) === 'VBRI') {
    return { kind: 'VBRI', bytes: v.getUint32(vb + 10), frames: v.getUint32(vb + 14) };
  }
  return null;
}

/** Trailing tags tolerated after the last frame. */
function isTrailingTag(b: Uint8Array, pos: number): boolean {
  const s = String.fromCharCode(...b.subarray(pos, pos + 8));
  return s.startsWith('TAG') || s.startsWith('APETAGEX') || s.startsWith('LYRICS');
}

/** Garbage between frames tolerated before giving up (a few frames' worth: stray bytes, a bad splice). */
const MAX_JUNK = 4096;

/**
 * MPEG frames decoded per {@link PcmSource.next} call (8 Layer III frames = 209 ms at 44.1 kHz). Bounded so one call
 * costs ~1-2 ms, not the whole 64 KiB read chunk (~2.7 s of audio, ~30 ms of decoding and resampling that would
 * hold up the event loop and make a packet late).
 */
const DECODE_BATCH_FRAMES = 8;

/** Options for {@link createMp3Source}. */
export interface Mp3SourceOptions {
  /** Skip whole frames up to about this many seconds before decoding (the caller trims the rest exactly). */
  readonly skipSec?: number;
}

/** A PCM source for MP3, plus how many samples were skipped without decoding for a seek. */
export interface Mp3Source extends PcmSource {
  /** Samples per channel skipped before the first decoded block (whole frames). */
  readonly skippedSamples: number;
}

/**
 * Decodes MPEG audio from `reader` (positioned at or before the first frame, after any ID3v2 tag).
 *
 * @throws {@link KookRtpError} `DECODE_FAILED` from `next()` when more than 4 KiB of garbage sits between frames
 *   or the last frame is cut short (after the frames before it were returned).
 */
export async function createMp3Source(reader: ByteReader, first: MpegFrameHeader, options: Mp3SourceOptions = {}): Promise<Mp3Source> {
  // Gapless trimming off: it relies on the LAME tag frame, which a seek skips, and would make seeked and unseeked
  // timelines differ. The cost is the encoder delay (~25 ms of silence) kept at the start.
  // Loaded on first use: probing and the other formats don't pay for the WASM module (~20 ms to load).
  const { MPEGDecoder } = await import('mpg123-decoder');
  const decoder = new MPEGDecoder({ enableGapless: false });
  await decoder.ready;
  // Unread input is buf[start..]: consumed frames only move `start`, so a chunk is copied once, when the next arrives.
  let buf: Uint8Array = new Uint8Array(0);
  let start = 0;
  let eof = false;
  let closed = false;
  let stream: MpegFrameHeader = first;
  let pending: KookRtpError | undefined;
  let closedByError = false;
  let skipLeft = Math.max(0, Math.floor((options.skipSec ?? 0) * first.sampleRate) - 2 * first.samples); // keep 2 frames of bit reservoir
  const frames: Uint8Array[] = [];
  // Starts at one frame and doubles: the first packet waits for one frame of decoding and resampling (while that
  // code still runs unoptimised, ~10x slower), not for a whole batch.
  let batch = 1;
  const src = {
    sampleRate: first.sampleRate,
    channels: first.channels as number,
    skippedSamples: 0,
    async next(): Promise<PcmBlock | null> {
      for (;;) {
        if (closed) return null;
        if (pending) {
          // Reported on the call after the last good frames were returned.
          const err = pending;
          pending = undefined;
          closedByError = true;
          throw err;
        }
        if (closedByError) return null;
        frames.length = 0;
        let pos = start;
        let junk = 0;
        while (pos + 4 <= buf.length && frames.length < batch) {
          const h = parseMpegHeader(buf, pos);
          if (h && sameStream(stream, h)) {
            if (pos + h.frameLength > buf.length) break;
            if (junk > 0) {
              // After garbage, trust a header only when the next frame header follows it.
              const n = parseMpegHeader(buf, pos + h.frameLength);
              if (!n && pos + h.frameLength + 4 <= buf.length) {
                pos++;
                junk++;
                continue;
              }
            }
            junk = 0;
            if (skipLeft >= h.samples) {
              skipLeft -= h.samples;
              src.skippedSamples += h.samples;
            } else frames.push(buf.subarray(pos, pos + h.frameLength));
            stream = h;
            pos += h.frameLength;
            continue;
          }
          if (isTrailingTag(buf, pos)) {
            // ID3v1/APE/Lyrics3 at the end: nothing after it is audio.
            buf = new Uint8Array(0);
            eof = true;
            pos = 0;
            junk = 0;
            break;
          }
          pos++;
          junk++;
          if (junk > MAX_JUNK) {
            pending = new KookRtpError('DECODE_FAILED', `MP3 stream corrupt at byte ${reader.position - buf.length + pos}: no valid frame in ${MAX_JUNK} bytes`);
            break;
          }
        }
        if (pending) {
          buf = new Uint8Array(0);
          start = 0;
        } else start = pos - junk;
        if (frames.length > 0) {
          const d = decoder.decodeFrames(frames);
          frames.length = 0;
          if (batch < DECODE_BATCH_FRAMES) batch *= 2;
          if (d.samplesDecoded > 0) return { planar: d.channelData, length: d.samplesDecoded };
          continue;
        }
        if (pending) continue;
        if (eof) {
          if (buf.length - start > 4 && !isTrailingTag(buf, start)) {
            const h = parseMpegHeader(buf, start);
            buf = new Uint8Array(0);
            start = 0;
            if (h) throw new KookRtpError('DECODE_FAILED', `MP3 input ends inside a frame (${h.frameLength} bytes expected): the file is truncated`);
            throw new KookRtpError('DECODE_FAILED', 'MP3 input ends with bytes that are not MPEG audio: corrupt or truncated');
          }
          return null;
        }
        const c = await reader.chunk();
        if (!c) {
          eof = true;
          continue;
        }
        if (start === buf.length) buf = c;
        else {
          const merged = new Uint8Array(buf.length - start + c.length);
          merged.set(buf.subarray(start));
          merged.set(c, buf.length - start);
          buf = merged;
        }
        start = 0;
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      decoder.free();
      await reader.close();
    },
  };
  return src;
}

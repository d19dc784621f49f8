/**
 * Opus packet framing: the TOC byte and the frame-count codes 0-3, validated per RFC 6716 §3.4.
 *
 * ```text
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * | config  |s| c |     TOC byte: config 0-31, s = stereo, c = code 0-3
 * +-+-+-+-+-+-+-+-+
 * |v|p|     M     |     code 3 only: v = VBR, p = padding, M = frame count
 * +-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc6716#section-3.1 | RFC 6716 §3.1} (TOC),
 *   {@link https://www.rfc-editor.org/rfc/rfc6716#section-3.2 | §3.2} (codes),
 *   {@link https://www.rfc-editor.org/rfc/rfc6716#section-3.4 | §3.4} (requirements R1-R7),
 *   {@link https://www.rfc-editor.org/rfc/rfc7587 | RFC 7587} (one Opus packet per RTP payload, 48 kHz clock)
 */
import { KookRtpError } from '../../errors.js';

/** The parsed TOC byte (plus the code 3 frame count) of one Opus packet. */
export interface OpusToc {
  /** Configuration number 0-31 (mode, bandwidth and frame size; RFC 6716 Table 2). */
  readonly config: number;
  /** Codec mode. */
  readonly mode: 'silk' | 'hybrid' | 'celt';
  /** Audio bandwidth: narrow, medium, wide, super-wide, full. */
  readonly bandwidth: 'nb' | 'mb' | 'wb' | 'swb' | 'fb';
  /** The s bit. */
  readonly stereo: boolean;
  /** Frame-count code: 0 = one frame, 1 = two equal, 2 = two different, 3 = arbitrary count. */
  readonly code: 0 | 1 | 2 | 3;
  /** Number of frames in the packet. */
  readonly frameCount: number;
  /** Samples per frame at 48 kHz (120, 240, 480, 960, 1920 or 2880). */
  readonly frameSamples: number;
  /** Total samples at 48 kHz: what the RTP timestamp advances by (RFC 7587 §4.1). */
  readonly samples: number;
  /** Total duration in milliseconds. */
  readonly durationMs: number;
}

/** A valid 20 ms Opus packet that decodes to silence: CELT FB mono, code 0 (what `@discordjs/voice` sends). */
export const OPUS_SILENCE_FRAME: Uint8Array = Uint8Array.of(0xf8, 0xff, 0xfe);

/** Longest duration an Opus packet may carry (RFC 6716 §3.2.5, R5). */
export const OPUS_MAX_PACKET_SAMPLES = 5760;
/** Longest frame an Opus packet may carry (RFC 6716 §3.2.1, R2). */
export const OPUS_MAX_FRAME_BYTES = 1275;

const SILK_BANDWIDTHS = ['nb', 'mb', 'wb'] as const;
const HYBRID_BANDWIDTHS = ['swb', 'fb'] as const;
const CELT_BANDWIDTHS = ['nb', 'wb', 'swb', 'fb'] as const;
const SILK_FRAME_SAMPLES = [480, 960, 1920, 2880] as const; // 10, 20, 40, 60 ms
const HYBRID_FRAME_SAMPLES = [480, 960] as const; // 10, 20 ms
const CELT_FRAME_SAMPLES = [120, 240, 480, 960] as const; // 2.5, 5, 10, 20 ms

interface ConfigInfo {
  readonly mode: OpusToc['mode'];
  readonly bandwidth: OpusToc['bandwidth'];
  readonly frameSamples: number;
}

/** RFC 6716 Table 2, indexed by config. */
const CONFIGS: readonly ConfigInfo[] = Array.from({ length: 32 }, (_, config): ConfigInfo => {
  if (config < 12) {
    return { mode: 'silk', bandwidth: SILK_BANDWIDTHS[config >> 2]!, frameSamples: SILK_FRAME_SAMPLES[config & 3]! };
  }
  if (config < 16) {
    return {
      mode: 'hybrid',
      bandwidth: HYBRID_BANDWIDTHS[(config - 12) >> 1]!,
      frameSamples: HYBRID_FRAME_SAMPLES[config & 1]!,
    };
  }
  return { mode: 'celt', bandwidth: CELT_BANDWIDTHS[(config - 16) >> 2]!, frameSamples: CELT_FRAME_SAMPLES[config & 3]! };
});

/** The frames of one Opus packet (zero-copy subarrays) and the parsed TOC. */
export interface OpusPacketFrames {
  /** The TOC. */
  readonly toc: OpusToc;
  /** Each frame's compressed bytes; a 0-byte frame is a DTX/lost frame (RFC 6716 §3.2.1). */
  readonly frames: readonly Uint8Array[];
  /** Bytes of code 3 padding at the end of the packet (not counting the padding length bytes). */
  readonly padding: number;
}

function invalid(message: string): KookRtpError {
  return new KookRtpError('INVALID_OPUS_PACKET', message);
}

/** Reads a 1- or 2-byte frame length (RFC 6716 §3.2.1); returns [length, bytesUsed]. */
function readFrameLength(packet: Uint8Array, at: number): [number, number] {
  const first = packet[at];
  if (first === undefined) throw invalid(`Opus frame length byte missing at offset ${at}`);
  if (first < 252) return [first, 1];
  const second = packet[at + 1];
  if (second === undefined) throw invalid(`Opus two-byte frame length cut short at offset ${at}`);
  return [4 * second + first, 2];
}

/**
 * Splits and validates one Opus packet.
 *
 * @param packet - one Opus packet (an RTP payload, RFC 7587).
 * @returns the TOC, the frames as zero-copy subarrays, and the code 3 padding length.
 * @throws {@link KookRtpError} `INVALID_OPUS_PACKET` when the packet breaks any of RFC 6716 §3.4 R1-R7: empty,
 *   frame length mismatches, code 3 with M = 0 or more than 120 ms, padding or lengths running past the end.
 */
export function parseOpusFrames(packet: Uint8Array): OpusPacketFrames {
  const tocByte = packet[0];
  if (tocByte === undefined) throw invalid('an Opus packet needs at least the TOC byte, found 0 bytes'); // R1
  const config = tocByte >> 3;
  const info = CONFIGS[config]!;
  const code = (tocByte & 3) as 0 | 1 | 2 | 3;
  const n = packet.length;
  const frames: Uint8Array[] = [];
  let padding = 0;
  let frameCount: number;

  switch (code) {
    case 0: {
      if (n - 1 > OPUS_MAX_FRAME_BYTES) throw invalid(`Opus code 0 frame of ${n - 1} bytes exceeds 1275`); // R2
      frames.push(packet.subarray(1));
      frameCount = 1;
      break;
    }
    case 1: {
      if ((n - 1) % 2 !== 0) throw invalid(`Opus code 1 packet needs an even number of frame bytes, found ${n - 1}`); // R3
      const half = (n - 1) / 2;
      if (half > OPUS_MAX_FRAME_BYTES) throw invalid(`Opus code 1 frames of ${half} bytes exceed 1275`);
      frames.push(packet.subarray(1, 1 + half), packet.subarray(1 + half));
      frameCount = 2;
      break;
    }
    case 2: {
      const [first, used] = readFrameLength(packet, 1);
      const start = 1 + used;
      if (first > n - start) throw invalid(`Opus code 2 first frame of ${first} bytes runs past the packet end`); // R4
      const second = n - start - first;
      if (second > OPUS_MAX_FRAME_BYTES) throw invalid(`Opus code 2 second frame of ${second} bytes exceeds 1275`);
      frames.push(packet.subarray(start, start + first), packet.subarray(start + first));
      frameCount = 2;
      break;
    }
    case 3: {
      const countByte = packet[1];
      if (countByte === undefined) throw invalid('Opus code 3 packet needs a frame count byte, found none');
      const vbr = (countByte & 0x80) !== 0;
      const hasPadding = (countByte & 0x40) !== 0;
      frameCount = countByte & 0x3f;
      if (frameCount === 0) throw invalid('Opus code 3 packet declares 0 frames (M must be at least 1)'); // R5
      if (frameCount * info.frameSamples > OPUS_MAX_PACKET_SAMPLES) {
        throw invalid(`Opus code 3 packet of ${frameCount} x ${info.frameSamples / 48} ms exceeds 120 ms`);
      }
      let at = 2;
      if (hasPadding) {
        // Each 255 adds 254 bytes and another length byte; a final 0-254 ends the run (RFC 6716 §3.2.5).
        for (;;) {
          const p = packet[at++];
          if (p === undefined) throw invalid('Opus code 3 padding length cut short');
          padding += p === 255 ? 254 : p;
          if (p !== 255) break;
        }
      }
      const end = n - padding;
      if (end < at) throw invalid(`Opus code 3 padding of ${padding} bytes runs past the packet end`);
      if (vbr) {
        const lengths: number[] = [];
        for (let i = 0; i < frameCount - 1; i++) {
          const [len, used] = readFrameLength(packet, at);
          at += used;
          lengths.push(len);
        }
        let total = 0;
        for (const len of lengths) total += len;
        const last = end - at - total;
        if (last < 0) throw invalid(`Opus code 3 VBR frame lengths (${total} bytes) run past the packet end`); // R7
        if (last > OPUS_MAX_FRAME_BYTES) throw invalid(`Opus code 3 last frame of ${last} bytes exceeds 1275`);
        lengths.push(last);
        for (const len of lengths) {
          frames.push(packet.subarray(at, at + len));
          at += len;
        }
      } else {
        const bytes = end - at;
        if (bytes < 0 || bytes % frameCount !== 0) {
          throw invalid(`Opus code 3 CBR packet: ${bytes} frame bytes do not split into ${frameCount} equal frames`); // R6
        }
        const size = bytes / frameCount;
        if (size > OPUS_MAX_FRAME_BYTES) throw invalid(`Opus code 3 frames of ${size} bytes exceed 1275`);
        for (let i = 0; i < frameCount; i++) frames.push(packet.subarray(at + i * size, at + (i + 1) * size));
      }
      break;
    }
  }

  const samples = frameCount * info.frameSamples;
  const toc: OpusToc = {
    config,
    mode: info.mode,
    bandwidth: info.bandwidth,
    stereo: (tocByte & 4) !== 0,
    code,
    frameCount,
    frameSamples: info.frameSamples,
    samples,
    durationMs: samples / 48,
  };
  return { toc, frames, padding };
}

/**
 * Parses the TOC (and the code 3 frame count) of one Opus packet, validating its framing.
 *
 * @param packet - one Opus packet.
 * @returns the TOC, with the packet's total duration.
 * @throws {@link KookRtpError} `INVALID_OPUS_PACKET` when the packet is empty, code 3 declares 0 frames or more than
 *   120 ms, or any other RFC 6716 §3.4 requirement fails.
 */
export function parseOpusToc(packet: Uint8Array): OpusToc {
  return parseOpusFrames(packet).toc;
}

/**
 * The duration of one Opus packet in 48 kHz samples: how far the RTP timestamp moves after it (RFC 7587 §4.1).
 *
 * @param packet - one Opus packet.
 * @returns samples at 48 kHz (960 for 20 ms).
 * @throws {@link KookRtpError} `INVALID_OPUS_PACKET` as {@link parseOpusToc}.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  return parseOpusFrames(packet).toc.samples;
}

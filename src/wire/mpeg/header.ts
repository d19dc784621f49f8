/**
 * MPEG audio (Layer I/II/III) frame headers: the 4 bytes that start every frame. Pure; shared by the MP3 decoder (which
 * splits and validates frames before mpg123 sees them) and the FLV muxer of the moderation tap (one frame per tag).
 *
 * ```
 * AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
 * A sync (11 bits set)  B version (00 2.5, 10 2, 11 1)  C layer (01 III, 10 II, 11 I)  D no-CRC
 * E bitrate index       F sample-rate index            G padding                      H private
 * I channel mode (11 mono) ...
 * ```
 * @see ISO/IEC 11172-3 §2.4.2.3, ISO/IEC 13818-3; {@link http://www.mp3-tech.org/programmer/frame_header.html}
 */

/** A parsed 4-byte MPEG audio frame header. */
export interface MpegFrameHeader {
  /** 1 = MPEG-1, 2 = MPEG-2, 2.5 = MPEG-2.5. */
  readonly version: 1 | 2 | 2.5;
  readonly layer: 1 | 2 | 3;
  /** Bits per second. */
  readonly bitrate: number;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Whole frame length in bytes, header included. */
  readonly frameLength: number;
  /** Samples per channel in the frame. */
  readonly samples: number;
}

const BITRATES: Record<string, readonly number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Record<string, readonly number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };

/**
 * Parses the MPEG audio frame header at `pos`.
 * @returns the header, or null when the bytes there are not a valid header (free-format frames count as invalid).
 */
export function parseMpegHeader(b: Uint8Array, pos: number): MpegFrameHeader | null {
  if (pos + 4 > b.length) return null;
  const b1 = b[pos + 1]!;
  const b2 = b[pos + 2]!;
  if (b[pos] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const v = (b1 >> 3) & 3;
  const l = (b1 >> 1) & 3;
  if (v === 1 || l === 0) return null;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const bi = b2 >> 4;
  const ri = (b2 >> 2) & 3;
  if (bi === 0 || bi === 15 || ri === 3) return null;
  const table = BITRATES[version === 1 ? `1-${layer}` : layer === 1 ? '2-1' : '2-2']!;
  const bitrate = table[bi]! * 1000;
  const sampleRate = RATES[String(version)]![ri]!;
  const pad = (b2 >> 1) & 1;
  const channels = ((b[pos + 3]! >> 6) & 3) === 3 ? 1 : 2;
  let frameLength: number;
  let samples: number;
  if (layer === 1) {
    frameLength = (Math.floor((12 * bitrate) / sampleRate) + pad) * 4;
    samples = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor((144 * bitrate) / sampleRate) + pad;
    samples = 1152;
  } else {
    frameLength = Math.floor((72 * bitrate) / sampleRate) + pad;
    samples = 576;
  }
  return { version, layer, bitrate, sampleRate, channels, frameLength, samples };
}

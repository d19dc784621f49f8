/**
 * FLV file header and the PreviousTagSize0 that follows it.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     'F'       |      'L'      |      'V'      |   version=1   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0|A|0|V|                 DataOffset (=9)               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  DataOffset   |            PreviousTagSize0 (=0)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     ...       |
 * ```
 * @see Adobe Flash Video File Format Specification v10.1, Annex E.2
 */
import { KookRtpError } from '../../errors.js';

/** Size of the FLV header proper (signature, version, flags, DataOffset). */
export const FLV_HEADER_SIZE = 9;
/** Header plus the 4-byte PreviousTagSize0 that every FLV body starts with. */
export const FLV_PREAMBLE_SIZE = FLV_HEADER_SIZE + 4;

const OFFSET_VERSION = 3;
const OFFSET_FLAGS = 4;
const OFFSET_DATA_OFFSET = 5;
const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;

/** The fields of an FLV header. */
export interface FlvHeader {
  /** Format version; 1 for every FLV in use. */
  readonly version: number;
  /** The file announces audio tags. */
  readonly hasAudio: boolean;
  /** The file announces video tags. */
  readonly hasVideo: boolean;
  /** Byte offset of the body (PreviousTagSize0); 9 for version 1. */
  readonly dataOffset: number;
}

/** Bytes {@link encodeFlvHeaderInto} writes: the header plus PreviousTagSize0. */
export function flvHeaderSize(): number {
  return FLV_PREAMBLE_SIZE;
}

/**
 * Writes the 9-byte header and PreviousTagSize0 into `buf` at `offset`.
 * @returns bytes written (13)
 * @throws KookRtpError `BUFFER_TOO_SMALL`
 */
export function encodeFlvHeaderInto(h: Pick<FlvHeader, 'hasAudio' | 'hasVideo'>, buf: Uint8Array, offset = 0): number {
  if (buf.length - offset < FLV_PREAMBLE_SIZE) {
    throw new KookRtpError('BUFFER_TOO_SMALL', `FLV header needs ${FLV_PREAMBLE_SIZE} bytes, ${buf.length - offset} left`);
  }
  buf[offset] = 0x46; // F
  buf[offset + 1] = 0x4c; // L
  buf[offset + 2] = 0x56; // V
  buf[offset + OFFSET_VERSION] = 1;
  buf[offset + OFFSET_FLAGS] = (h.hasAudio ? FLAG_AUDIO : 0) | (h.hasVideo ? FLAG_VIDEO : 0);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset + OFFSET_DATA_OFFSET, FLV_HEADER_SIZE);
  view.setUint32(offset + FLV_HEADER_SIZE, 0);
  return FLV_PREAMBLE_SIZE;
}

/** Allocates and encodes an FLV header followed by PreviousTagSize0. */
export function encodeFlvHeader(h: Pick<FlvHeader, 'hasAudio' | 'hasVideo'>): Uint8Array {
  const out = new Uint8Array(FLV_PREAMBLE_SIZE);
  encodeFlvHeaderInto(h, out);
  return out;
}

/**
 * Decodes the 9-byte FLV header.
 * @throws KookRtpError `PACKET_TOO_SHORT` under 9 bytes, `INVALID_PACKET` without the `FLV` signature,
 *   `INVALID_VERSION` for a version other than 1.
 */
export function decodeFlvHeader(bytes: Uint8Array): FlvHeader {
  if (bytes.length < FLV_HEADER_SIZE) {
    throw new KookRtpError('PACKET_TOO_SHORT', `FLV header needs ${FLV_HEADER_SIZE} bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0x46 || bytes[1] !== 0x4c || bytes[2] !== 0x56) {
    throw new KookRtpError('INVALID_PACKET', 'expected the FLV signature "FLV" at byte 0; this is not an FLV stream');
  }
  const version = bytes[OFFSET_VERSION] ?? 0;
  if (version !== 1) throw new KookRtpError('INVALID_VERSION', `expected FLV version 1, found ${version}`);
  const flags = bytes[OFFSET_FLAGS] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(OFFSET_DATA_OFFSET);
  if (dataOffset < FLV_HEADER_SIZE) {
    throw new KookRtpError('INVALID_PACKET', `FLV DataOffset must be at least ${FLV_HEADER_SIZE}, found ${dataOffset}`);
  }
  return { version, hasAudio: (flags & FLAG_AUDIO) !== 0, hasVideo: (flags & FLAG_VIDEO) !== 0, dataOffset };
}

/**
 * FLV tags: the 11-byte tag header, its body, and the trailing PreviousTagSize.
 *
 * ```
 * +---------+-----------------+-------------------+--------------+---------------+
 * | TagType | DataSize (UI24) | Timestamp (UI24)  | TimestampExt | StreamID UI24 |
 * |  UI8    |                 | low 24 bits, ms   | UI8 (high 8) |   always 0    |
 * +---------+-----------------+-------------------+--------------+---------------+
 * | Data (DataSize bytes) ...                     | PreviousTagSize UI32 = 11 + DataSize |
 * ```
 * @see Adobe Flash Video File Format Specification v10.1, Annex E.4.1
 */
import { KookRtpError } from '../../errors.js';

/** Size of a tag header. */
export const FLV_TAG_HEADER_SIZE = 11;
/** Size of the PreviousTagSize field after each tag. */
export const FLV_PREVIOUS_TAG_SIZE = 4;
/** Largest body a UI24 DataSize can describe. */
export const FLV_MAX_TAG_DATA = 0xffffff;

/** Tag types. */
export const FlvTagType = { audio: 8, video: 9, script: 18 } as const;

/** One FLV tag. */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  readonly type: number;
  /** Presentation time in ms (32 bits: the extended byte is folded in). */
  readonly timestamp: number;
  /** The tag body. From {@link decodeFlvTag} a zero-copy `subarray` of the input. */
  readonly data: Uint8Array;
}

/** Bytes a tag occupies on the wire, including its PreviousTagSize. */
export function flvTagSize(tag: Pick<FlvTag, 'data'>): number {
  return FLV_TAG_HEADER_SIZE + tag.data.length + FLV_PREVIOUS_TAG_SIZE;
}

/**
 * Writes a tag (header, body, PreviousTagSize) into `buf` at `offset`.
 * @returns bytes written
 * @throws KookRtpError `INVALID_ARGUMENT` for a body over 16 MiB or a bad type, `BUFFER_TOO_SMALL`
 */
export function encodeFlvTagInto(tag: FlvTag, buf: Uint8Array, offset = 0): number {
  const size = flvTagSize(tag);
  if (tag.data.length > FLV_MAX_TAG_DATA) {
    throw new KookRtpError('INVALID_ARGUMENT', `FLV tag body is at most ${FLV_MAX_TAG_DATA} bytes, got ${tag.data.length}`);
  }
  if (!Number.isInteger(tag.type) || tag.type < 0 || tag.type > 0x1f) {
    throw new KookRtpError('INVALID_ARGUMENT', `FLV tag type must be 0..31, got ${tag.type}`);
  }
  if (buf.length - offset < size) {
    throw new KookRtpError('BUFFER_TOO_SMALL', `FLV tag needs ${size} bytes, ${buf.length - offset} left`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ts = tag.timestamp >>> 0;
  buf[offset] = tag.type;
  writeU24(buf, offset + 1, tag.data.length);
  writeU24(buf, offset + 4, ts & 0xffffff);
  buf[offset + 7] = ts >>> 24; // TimestampExtended: the high byte, so timestamps wrap after 49 days, not 4.6 hours
  writeU24(buf, offset + 8, 0);
  buf.set(tag.data, offset + FLV_TAG_HEADER_SIZE);
  view.setUint32(offset + FLV_TAG_HEADER_SIZE + tag.data.length, FLV_TAG_HEADER_SIZE + tag.data.length);
  return size;
}

/** Allocates and encodes one tag including its PreviousTagSize. */
export function encodeFlvTag(tag: FlvTag): Uint8Array {
  const out = new Uint8Array(flvTagSize(tag));
  encodeFlvTagInto(tag, out);
  return out;
}

/**
 * Decodes one tag (header, body and PreviousTagSize) from the start of `bytes`.
 * The body is a zero-copy `subarray` of `bytes`.
 * @returns the tag and the bytes it used
 * @throws KookRtpError `PACKET_TOO_SHORT` when the tag is incomplete, `INVALID_PACKET` when PreviousTagSize
 *   disagrees with the tag or the stream id is not 0.
 */
export function decodeFlvTag(bytes: Uint8Array): { tag: FlvTag; size: number } {
  if (bytes.length < FLV_TAG_HEADER_SIZE) {
    throw new KookRtpError('PACKET_TOO_SHORT', `FLV tag header needs ${FLV_TAG_HEADER_SIZE} bytes, got ${bytes.length}`);
  }
  const dataSize = readU24(bytes, 1);
  const total = FLV_TAG_HEADER_SIZE + dataSize + FLV_PREVIOUS_TAG_SIZE;
  if (bytes.length < total) {
    throw new KookRtpError('PACKET_TOO_SHORT', `FLV tag needs ${total} bytes, got ${bytes.length}`);
  }
  const b0 = bytes[0] ?? 0;
  if ((b0 & 0xc0) !== 0) throw new KookRtpError('INVALID_PACKET', `FLV tag reserved bits must be 0, found 0x${b0.toString(16)}`);
  if (readU24(bytes, 8) !== 0) throw new KookRtpError('INVALID_PACKET', 'FLV tag StreamID must be 0');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prev = view.getUint32(FLV_TAG_HEADER_SIZE + dataSize);
  if (prev !== FLV_TAG_HEADER_SIZE + dataSize) {
    throw new KookRtpError('INVALID_PACKET', `FLV PreviousTagSize should be ${FLV_TAG_HEADER_SIZE + dataSize}, found ${prev}`);
  }
  const timestamp = (readU24(bytes, 4) | ((bytes[7] ?? 0) << 24)) >>> 0;
  return {
    tag: { type: b0 & 0x1f, timestamp, data: bytes.subarray(FLV_TAG_HEADER_SIZE, FLV_TAG_HEADER_SIZE + dataSize) },
    size: total,
  };
}

function writeU24(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 16) & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = v & 0xff;
}

function readU24(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) << 16) | ((buf[at + 1] ?? 0) << 8) | (buf[at + 2] ?? 0);
}

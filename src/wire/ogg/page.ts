/**
 * One Ogg page (RFC 3533 §6): the capture pattern, a 27-byte header, the lacing table and the body.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | capture_pattern: Magic number for page start "OggS"           | 0-3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | version       | header_type   | granule_position              | 4-7
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                                                               | 8-11
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               | bitstream_serial_number       | 12-15
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               | page_sequence_number          | 16-19
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               | CRC_checksum                  | 20-23
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               |page_segments  | segment_table | 24-27
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * All multi-byte fields are little-endian.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3533#section-6 | RFC 3533 §6}
 */
import { KookRtpError } from '../../errors.js';

/** Offsets of the fixed header fields. */
const VERSION = 4;
const HEADER_TYPE = 5;
const GRANULE = 6;
const SERIAL = 14;
const SEQUENCE = 18;
const CRC = 22;
const SEGMENT_COUNT = 26;
/** Size of the fixed header before the lacing table. */
export const OGG_HEADER_SIZE = 27;
/** Largest possible page: 27 + 255 lacing values + 255 * 255 body bytes. */
export const OGG_MAX_PAGE_SIZE = OGG_HEADER_SIZE + 255 + 255 * 255;

/** header_type flag: the first packet on this page continues one from the previous page. */
export const OGG_FLAG_CONTINUED = 0x01;
/** header_type flag: first page of a logical bitstream. */
export const OGG_FLAG_BOS = 0x02;
/** header_type flag: last page of a logical bitstream. */
export const OGG_FLAG_EOS = 0x04;

/** A decoded Ogg page. `body` is a zero-copy subarray of the input. */
export interface OggPage {
  /** header_type flags ({@link OGG_FLAG_CONTINUED}, {@link OGG_FLAG_BOS}, {@link OGG_FLAG_EOS}). */
  readonly headerType: number;
  /** Codec-defined position (48 kHz samples for Opus); -1n when no packet finishes on this page. */
  readonly granulePosition: bigint;
  readonly serial: number;
  readonly sequence: number;
  /** The lacing values: packet sizes in 255-byte segments; a value below 255 ends a packet. */
  readonly segments: Uint8Array;
  readonly body: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/**
 * The Ogg CRC-32: polynomial 0x04c11db7, initial value 0, no reflection, no final XOR (RFC 3533 §6).
 *
 * @param bytes - the whole page with its CRC field zeroed.
 * @param crc - running value, for checksumming in pieces.
 * @returns the unsigned 32-bit checksum.
 */
export function oggCrc32(bytes: Uint8Array, crc = 0): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = (c << 8) ^ CRC_TABLE[((c >>> 24) ^ bytes[i]!) & 0xff]!;
  return c >>> 0;
}

/** @returns the encoded size of `page` in bytes. */
export function oggPageSize(page: OggPage): number {
  return OGG_HEADER_SIZE + page.segments.length + page.body.length;
}

/**
 * Encodes `page` into `buf` at `offset`, computing its CRC.
 *
 * @returns bytes written.
 * @throws {@link KookRtpError} `BUFFER_TOO_SMALL` when it does not fit; `INVALID_ARGUMENT` when the lacing table
 *   has more than 255 entries or does not add up to the body length.
 */
export function encodeOggPageInto(page: OggPage, buf: Uint8Array, offset = 0): number {
  const size = oggPageSize(page);
  if (page.segments.length > 255) {
    throw new KookRtpError('INVALID_ARGUMENT', `Ogg page has ${page.segments.length} lacing values, at most 255 allowed`);
  }
  let sum = 0;
  for (const s of page.segments) sum += s;
  if (sum !== page.body.length) {
    throw new KookRtpError('INVALID_ARGUMENT', `Ogg lacing values add to ${sum} bytes but the body has ${page.body.length}`);
  }
  if (buf.length - offset < size) {
    throw new KookRtpError('BUFFER_TOO_SMALL', `Ogg page needs ${size} bytes, ${buf.length - offset} available`);
  }
  const out = buf.subarray(offset, offset + size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set([0x4f, 0x67, 0x67, 0x53]);
  out[VERSION] = 0;
  out[HEADER_TYPE] = page.headerType;
  view.setBigInt64(GRANULE, page.granulePosition, true);
  view.setUint32(SERIAL, page.serial >>> 0, true);
  view.setUint32(SEQUENCE, page.sequence >>> 0, true);
  view.setUint32(CRC, 0, true);
  out[SEGMENT_COUNT] = page.segments.length;
  out.set(page.segments, OGG_HEADER_SIZE);
  out.set(page.body, OGG_HEADER_SIZE + page.segments.length);
  view.setUint32(CRC, oggCrc32(out), true);
  return size;
}

/** Encodes `page` into a new buffer. @see {@link encodeOggPageInto} */
export function encodeOggPage(page: OggPage): Uint8Array {
  const buf = new Uint8Array(oggPageSize(page));
  encodeOggPageInto(page, buf);
  return buf;
}

/** What {@link decodeOggPage} returns: the page and how many input bytes it spans. */
export interface DecodedOggPage {
  readonly page: OggPage;
  readonly size: number;
}

/** True when `bytes` holds "OggS" at `offset`. */
export function isOggCapture(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0x4f && bytes[offset + 1] === 0x67 && bytes[offset + 2] === 0x67 && bytes[offset + 3] === 0x53;
}

/**
 * Decodes the page at the start of `bytes` and checks its CRC.
 *
 * @returns the page (its `segments` and `body` are zero-copy subarrays of `bytes`), or `null` when `bytes` holds
 *   only the beginning of a page (feed more).
 * @throws {@link KookRtpError} `INVALID_PACKET` when the capture pattern, version or CRC is wrong.
 */
export function decodeOggPage(bytes: Uint8Array): DecodedOggPage | null {
  if (bytes.length < OGG_HEADER_SIZE) {
    if (bytes.length >= 4 && !isOggCapture(bytes)) throw new KookRtpError('INVALID_PACKET', 'expected "OggS" capture pattern');
    return null;
  }
  if (!isOggCapture(bytes)) throw new KookRtpError('INVALID_PACKET', 'expected "OggS" capture pattern at the page start');
  if (bytes[VERSION] !== 0) throw new KookRtpError('INVALID_PACKET', `Ogg stream structure version ${bytes[VERSION]}, expected 0`);
  const count = bytes[SEGMENT_COUNT]!;
  if (bytes.length < OGG_HEADER_SIZE + count) return null;
  const segments = bytes.subarray(OGG_HEADER_SIZE, OGG_HEADER_SIZE + count);
  let bodySize = 0;
  for (const s of segments) bodySize += s;
  const size = OGG_HEADER_SIZE + count + bodySize;
  if (bytes.length < size) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const stored = view.getUint32(CRC, true);
  // CRC over the page with the CRC field taken as zero, computed in three pieces to avoid a copy.
  let crc = oggCrc32(bytes.subarray(0, CRC));
  crc = oggCrc32(new Uint8Array(4), crc);
  crc = oggCrc32(bytes.subarray(CRC + 4, size), crc);
  if (crc !== stored) {
    throw new KookRtpError('INVALID_PACKET', `Ogg page CRC mismatch: stored 0x${stored.toString(16)}, computed 0x${crc.toString(16)}`);
  }
  return {
    page: {
      headerType: bytes[HEADER_TYPE]!,
      granulePosition: view.getBigInt64(GRANULE, true),
      serial: view.getUint32(SERIAL, true),
      sequence: view.getUint32(SEQUENCE, true),
      segments,
      body: bytes.subarray(OGG_HEADER_SIZE + count, size),
    },
    size,
  };
}

/**
 * The common RTCP header shared by every RTCP packet type, and the packet-type constants.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1} (field meanings)
 */
import { KookRtpError } from '../../errors.js';
import { checkInteger, checkRoom } from './checks.js';

/** Sender report packet type. @see RFC 3550 §6.4.1 */
export const RTCP_SR = 200;
/** Receiver report packet type. @see RFC 3550 §6.4.2 */
export const RTCP_RR = 201;
/** Source description packet type. @see RFC 3550 §6.5 */
export const RTCP_SDES = 202;
/** Goodbye packet type. @see RFC 3550 §6.6 */
export const RTCP_BYE = 203;
/** Application-defined packet type. @see RFC 3550 §6.7 */
export const RTCP_APP = 204;

/** The only RTP/RTCP version in use. */
export const RTCP_VERSION = 2;
/** Bytes in the common header. */
export const RTCP_HEADER_SIZE = 4;
/** Largest value of the 5-bit count field (report count, source count or APP subtype). */
export const RTCP_MAX_COUNT = 31;

// Offsets into the common header.
const FIRST_BYTE_OFFSET = 0; // V(2) P(1) RC(5)
const PACKET_TYPE_OFFSET = 1;
const LENGTH_OFFSET = 2;

/** The common RTCP header, decoded. */
export interface RtcpHeader {
  /** P: the packet ends with padding whose last octet counts the padding octets (itself included). */
  readonly padding: boolean;
  /** The 5-bit count field: report count (SR/RR), source count (SDES/BYE) or subtype (APP). */
  readonly count: number;
  /** PT, e.g. {@link RTCP_SR}. */
  readonly packetType: number;
  /** The length field: the packet's length in 32-bit words minus one, header and padding included. */
  readonly length: number;
}

/**
 * Decodes the 4-byte common header at `offset`.
 *
 * @param bytes - the datagram (or one packet of it)
 * @param offset - where the header starts (default 0)
 * @returns the header fields; the length is not checked against `bytes` here
 * @throws KookRtpError PACKET_TOO_SHORT when fewer than 4 bytes remain; INVALID_VERSION when V is not 2;
 *   INVALID_ARGUMENT for a bad offset
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
export function decodeRtcpHeader(bytes: Uint8Array, offset = 0): RtcpHeader {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${String(offset)}`);
  }
  if (bytes.length - offset < RTCP_HEADER_SIZE) {
    throw new KookRtpError(
      'PACKET_TOO_SHORT',
      `an RTCP header needs ${RTCP_HEADER_SIZE} bytes at offset ${offset}, found ${Math.max(0, bytes.length - offset)}`,
    );
  }
  const first = bytes[offset + FIRST_BYTE_OFFSET] ?? 0;
  const version = first >>> 6;
  if (version !== RTCP_VERSION) {
    throw new KookRtpError('INVALID_VERSION', `RTCP version must be 2, found ${version} at offset ${offset}`);
  }
  return {
    padding: (first & 0x20) !== 0,
    count: first & 0x1f,
    packetType: bytes[offset + PACKET_TYPE_OFFSET] ?? 0,
    length: ((bytes[offset + LENGTH_OFFSET] ?? 0) << 8) | (bytes[offset + LENGTH_OFFSET + 1] ?? 0),
  };
}

/**
 * Writes a common header (version 2) at `offset`.
 *
 * @param header - the fields to write
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written (always 4)
 * @throws KookRtpError INVALID_ARGUMENT for out-of-range fields; BUFFER_TOO_SMALL when 4 bytes do not fit
 */
export function encodeRtcpHeaderInto(header: RtcpHeader, buf: Uint8Array, offset = 0): number {
  checkInteger(header.count, 0, RTCP_MAX_COUNT, 'RTCP count');
  checkInteger(header.packetType, 0, 255, 'RTCP packet type');
  checkInteger(header.length, 0, 0xffff, 'RTCP length');
  checkRoom(buf, offset, RTCP_HEADER_SIZE, 'an RTCP header');
  buf[offset + FIRST_BYTE_OFFSET] = (RTCP_VERSION << 6) | (header.padding ? 0x20 : 0) | header.count;
  buf[offset + PACKET_TYPE_OFFSET] = header.packetType;
  buf[offset + LENGTH_OFFSET] = header.length >>> 8;
  buf[offset + LENGTH_OFFSET + 1] = header.length & 0xff;
  return RTCP_HEADER_SIZE;
}

/** One RTCP packet's bounds, as checked by {@link openRtcpPacket}. */
export interface OpenedRtcpPacket {
  readonly header: RtcpHeader;
  /** End of the packet's content: its total length minus any padding. */
  readonly end: number;
}

/**
 * Checks that `bytes` is exactly one RTCP packet of type `packetType` and finds where its content ends.
 *
 * Internal helper of the per-type decoders.
 *
 * @param bytes - exactly one packet
 * @param packetType - the PT the caller decodes
 * @param what - the packet's name, for messages
 * @returns the header and the content end (padding removed)
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP for another packet type, bytes past the declared length, or an impossible padding count
 */
export function openRtcpPacket(bytes: Uint8Array, packetType: number, what: string): OpenedRtcpPacket {
  const header = decodeRtcpHeader(bytes);
  if (header.packetType !== packetType) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `expected an RTCP ${what} (packet type ${packetType}), found packet type ${header.packetType}`,
    );
  }
  const total = (header.length + 1) * 4;
  if (bytes.length < total) {
    throw new KookRtpError(
      'PACKET_TOO_SHORT',
      `RTCP ${what} declares ${total} bytes (length ${header.length}) but only ${bytes.length} are present`,
    );
  }
  if (bytes.length > total) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `RTCP ${what} declares ${total} bytes but ${bytes.length} were given; split compound packets with decodeCompound`,
    );
  }
  let end = total;
  if (header.padding) {
    const pad = bytes[total - 1] ?? 0;
    if (pad === 0 || pad > total - RTCP_HEADER_SIZE) {
      throw new KookRtpError(
        'INVALID_RTCP',
        `RTCP ${what} has the padding bit set but a padding count of ${pad} in a ${total}-byte packet`,
      );
    }
    end -= pad;
  }
  return { header, end };
}

/**
 * RTCP goodbye (BYE, packet type 203).
 *
 * ```
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|    SC   |   PT=BYE=203  |             length            |  0
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                           SSRC/CSRC                           |  4
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       :                              ...                              :
 *       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * (opt) |     length    |               reason for leaving            ...  4 + 4*SC
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The optional reason is UTF-8, at most 255 octets, followed by null octets up to a 32-bit boundary.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.6 | RFC 3550 §6.6}
 */
import { KookRtpError } from '../../errors.js';
import { align4, checkPacketSize, checkRoom, checkUint32, utf8Bytes, utf8Text, viewOf } from './checks.js';
import { encodeRtcpHeaderInto, openRtcpPacket, RTCP_BYE, RTCP_HEADER_SIZE, RTCP_MAX_COUNT } from './header.js';

const SOURCES_OFFSET = RTCP_HEADER_SIZE;
const SOURCE_SIZE = 4;
const MAX_REASON_LENGTH = 255;

/** A decoded BYE packet. */
export interface Goodbye {
  /** SSRC/CSRC identifiers that are leaving, at most 31. */
  readonly sources: readonly number[];
  /** Why they leave; absent when the packet carries no reason ('' when it carries an empty one). */
  readonly reason?: string;
}

function checkSources(v: Goodbye): void {
  if (!Array.isArray(v.sources) || v.sources.length > RTCP_MAX_COUNT) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `BYE holds at most ${RTCP_MAX_COUNT} sources, got ${String(v.sources?.length)}; send the rest in another BYE`,
    );
  }
  v.sources.forEach((s) => checkUint32(s, 'BYE source'));
}

function reasonBytes(v: Goodbye): Uint8Array | undefined {
  return v.reason === undefined ? undefined : utf8Bytes(v.reason, MAX_REASON_LENGTH, 'BYE reason');
}

function sizeWith(v: Goodbye, reason: Uint8Array | undefined): number {
  return SOURCES_OFFSET + v.sources.length * SOURCE_SIZE + (reason === undefined ? 0 : align4(1 + reason.length));
}

/**
 * Encoded size of a BYE packet.
 *
 * @param v - the goodbye
 * @returns bytes {@link encodeGoodbyeInto} writes
 * @throws KookRtpError INVALID_ARGUMENT for a reason that cannot be encoded
 */
export function goodbyeSize(v: Goodbye): number {
  return sizeWith(v, reasonBytes(v));
}

/**
 * Writes a BYE packet (no RTCP padding) at `offset`.
 *
 * @param v - the goodbye
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written
 * @throws KookRtpError INVALID_ARGUMENT for more than 31 sources, a source that is not a uint32, or a reason over 255
 *   UTF-8 bytes or with a lone surrogate; BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.6 | RFC 3550 §6.6}
 */
export function encodeGoodbyeInto(v: Goodbye, buf: Uint8Array, offset = 0): number {
  checkSources(v);
  const reason = reasonBytes(v);
  const size = sizeWith(v, reason);
  checkPacketSize(size, 'BYE');
  checkRoom(buf, offset, size, 'a BYE packet');
  encodeRtcpHeaderInto({ padding: false, count: v.sources.length, packetType: RTCP_BYE, length: size / 4 - 1 }, buf, offset);
  const view = viewOf(buf);
  let at = offset + SOURCES_OFFSET;
  for (const source of v.sources) {
    view.setUint32(at, source);
    at += SOURCE_SIZE;
  }
  if (reason !== undefined) {
    buf[at] = reason.length;
    buf.set(reason, at + 1);
    buf.fill(0, at + 1 + reason.length, offset + size);
  }
  return size;
}

/**
 * Encodes a BYE packet into a new array.
 *
 * @param v - the goodbye
 * @returns the packet
 * @throws KookRtpError INVALID_ARGUMENT as {@link encodeGoodbyeInto}
 */
export function encodeGoodbye(v: Goodbye): Uint8Array {
  const buf = new Uint8Array(goodbyeSize(v));
  encodeGoodbyeInto(v, buf, 0);
  return buf;
}

/**
 * Decodes exactly one BYE packet (use `decodeCompound` to split a datagram). RTCP padding is accepted and dropped;
 * the null octets after the reason are skipped without checking their value.
 *
 * @param bytes - one BYE packet
 * @returns the sources and the reason, if present
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP when the type is not BYE, the sources do not fit, the reason runs past the packet or is not UTF-8,
 *   or more than its padding follows it
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.6 | RFC 3550 §6.6}
 */
export function decodeGoodbye(bytes: Uint8Array): Goodbye {
  const { header, end } = openRtcpPacket(bytes, RTCP_BYE, 'BYE');
  const reasonOffset = SOURCES_OFFSET + header.count * SOURCE_SIZE;
  if (reasonOffset > end) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `a BYE with ${header.count} sources needs ${reasonOffset} bytes of content, found ${end}`,
    );
  }
  const view = viewOf(bytes);
  const sources: number[] = [];
  for (let i = 0; i < header.count; i++) sources.push(view.getUint32(SOURCES_OFFSET + i * SOURCE_SIZE));
  if (reasonOffset === end) return { sources };
  const length = bytes[reasonOffset] ?? 0;
  const reasonEnd = reasonOffset + 1 + length;
  if (reasonEnd > end) {
    throw new KookRtpError('INVALID_RTCP', `BYE reason of ${length} bytes runs past the packet content`);
  }
  if (align4(reasonEnd) !== end) {
    throw new KookRtpError('INVALID_RTCP', `BYE has ${end - reasonEnd} bytes after its reason; at most 3 null octets may follow`);
  }
  return { sources, reason: utf8Text(bytes.subarray(reasonOffset + 1, reasonEnd), 'BYE reason') };
}

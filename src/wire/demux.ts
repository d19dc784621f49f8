/**
 * Telling RTP from RTCP on one port (RTP/RTCP multiplexing).
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc5761#section-4 | RFC 5761 §4}
 */

/** Smallest RTCP packet: the 4-byte common header (a BYE with no sources). */
const RTCP_MIN_SIZE = 4;
/** Smallest RTP packet: the fixed header. */
const RTP_MIN_SIZE = 12;

/**
 * Whether a datagram's second byte falls in the RTCP packet type range.
 *
 * @param bytes - one datagram.
 * @returns true when `bytes[1]` is 192-223 (RTCP packet types 192-223; RTP payload types 64-95 with the marker bit
 *   collide there, which is why RFC 5761 §4 forbids those payload types on a muxed port).
 */
export function isRtcp(bytes: Uint8Array): boolean {
  const second = bytes[1];
  return second !== undefined && second >= 192 && second <= 223;
}

/**
 * Classifies one datagram received on an RTP/RTCP-muxed port.
 *
 * @param bytes - one datagram.
 * @returns `'rtcp'` or `'rtp'` for a version 2 packet long enough to hold the header; `'unknown'` when the datagram
 *   is too short (under 4 bytes for RTCP, 12 for RTP) or its version is not 2 (STUN, DTLS, garbage).
 * @see {@link https://www.rfc-editor.org/rfc/rfc5761#section-4 | RFC 5761 §4}
 */
export function classifyPacket(bytes: Uint8Array): 'rtp' | 'rtcp' | 'unknown' {
  const first = bytes[0];
  if (first === undefined || first >> 6 !== 2) return 'unknown';
  if (isRtcp(bytes)) return bytes.length >= RTCP_MIN_SIZE ? 'rtcp' : 'unknown';
  return bytes.length >= RTP_MIN_SIZE ? 'rtp' : 'unknown';
}

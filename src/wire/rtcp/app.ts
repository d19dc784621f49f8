/**
 * RTCP application-defined packet (APP, packet type 204).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| subtype |   PT=APP=204  |             length            |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           SSRC/CSRC                           |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          name (ASCII)                         |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   application-dependent data                ...  12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.7 | RFC 3550 §6.7}
 */
import { KookRtpError } from '../../errors.js';
import { checkInteger, checkPacketSize, checkRoom, checkUint32, viewOf } from './checks.js';
import { encodeRtcpHeaderInto, openRtcpPacket, RTCP_APP, RTCP_MAX_COUNT } from './header.js';

const SSRC_OFFSET = 4;
const NAME_OFFSET = 8;
const NAME_SIZE = 4;
const DATA_OFFSET = 12;

/** A decoded APP packet. */
export interface ApplicationDefined {
  /** 5-bit subtype, 0–31, meaning defined by the application. */
  readonly subtype: number;
  /** SSRC/CSRC of the sender. */
  readonly ssrc: number;
  /** Four ASCII characters naming the application (case-sensitive). */
  readonly name: string;
  /** Application data, a multiple of 4 bytes. Opaque: decoded as a zero-copy subarray of the input. */
  readonly data: Uint8Array;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !/^[\x00-\x7f]{4}$/.test(name)) {
    throw new KookRtpError('INVALID_ARGUMENT', `APP name must be exactly 4 ASCII characters, got ${JSON.stringify(name)}`);
  }
}

/**
 * Encoded size of an APP packet.
 *
 * @param v - the packet
 * @returns bytes {@link encodeApplicationDefinedInto} writes
 */
export function applicationDefinedSize(v: ApplicationDefined): number {
  return DATA_OFFSET + v.data.length;
}

/**
 * Writes an APP packet (no RTCP padding) at `offset`.
 *
 * @param v - the packet
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written
 * @throws KookRtpError INVALID_ARGUMENT for a subtype outside 0–31, a bad ssrc, a name that is not 4 ASCII
 *   characters, or data that is not a multiple of 4 bytes; BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.7 | RFC 3550 §6.7}
 */
export function encodeApplicationDefinedInto(v: ApplicationDefined, buf: Uint8Array, offset = 0): number {
  checkInteger(v.subtype, 0, RTCP_MAX_COUNT, 'APP subtype');
  checkUint32(v.ssrc, 'APP ssrc');
  checkName(v.name);
  if (v.data.length % 4 !== 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `APP data must be a multiple of 4 bytes, got ${v.data.length}`);
  }
  const size = applicationDefinedSize(v);
  checkPacketSize(size, 'APP');
  checkRoom(buf, offset, size, 'an APP packet');
  encodeRtcpHeaderInto({ padding: false, count: v.subtype, packetType: RTCP_APP, length: size / 4 - 1 }, buf, offset);
  viewOf(buf).setUint32(offset + SSRC_OFFSET, v.ssrc);
  for (let i = 0; i < NAME_SIZE; i++) buf[offset + NAME_OFFSET + i] = v.name.charCodeAt(i);
  buf.set(v.data, offset + DATA_OFFSET);
  return size;
}

/**
 * Encodes an APP packet into a new array.
 *
 * @param v - the packet
 * @returns the packet bytes
 * @throws KookRtpError INVALID_ARGUMENT as {@link encodeApplicationDefinedInto}
 */
export function encodeApplicationDefined(v: ApplicationDefined): Uint8Array {
  const buf = new Uint8Array(applicationDefinedSize(v));
  encodeApplicationDefinedInto(v, buf, 0);
  return buf;
}

/**
 * Decodes exactly one APP packet (use `decodeCompound` to split a datagram). RTCP padding is accepted and dropped.
 *
 * @param bytes - one APP packet
 * @returns the packet; `data` is a zero-copy subarray of `bytes`
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP when the type is not APP, the packet is shorter than 12 bytes, the name is not ASCII, or the data
 *   is not whole 32-bit words
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.7 | RFC 3550 §6.7}
 */
export function decodeApplicationDefined(bytes: Uint8Array): ApplicationDefined {
  const { header, end } = openRtcpPacket(bytes, RTCP_APP, 'APP');
  if (end < DATA_OFFSET) {
    throw new KookRtpError('INVALID_RTCP', `an APP packet needs ${DATA_OFFSET} bytes of content, found ${end}`);
  }
  if ((end - DATA_OFFSET) % 4 !== 0) {
    throw new KookRtpError('INVALID_RTCP', `APP data is ${end - DATA_OFFSET} bytes, not whole 32-bit words`);
  }
  let name = '';
  for (let i = 0; i < NAME_SIZE; i++) {
    const c = bytes[NAME_OFFSET + i] ?? 0;
    if (c > 0x7f) throw new KookRtpError('INVALID_RTCP', `APP name byte ${i} is 0x${c.toString(16)}, not ASCII`);
    name += String.fromCharCode(c);
  }
  return {
    subtype: header.count,
    ssrc: viewOf(bytes).getUint32(SSRC_OFFSET),
    name,
    data: bytes.subarray(DATA_OFFSET, end),
  };
}

/**
 * RTP data packets: the fixed header, CSRC list, header extension (with RFC 8285 elements) and padding.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |   (only when X = 1)
 * |                        header extension                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            payload  ...  padding | pad count  |
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-5.1 | RFC 3550 §5.1} (header),
 *   {@link https://www.rfc-editor.org/rfc/rfc3550#section-5.3.1 | §5.3.1} (extension),
 *   {@link https://www.rfc-editor.org/rfc/rfc8285 | RFC 8285} (one-byte and two-byte extension elements)
 */
import { KookRtpError } from '../../errors.js';

/** The only RTP version in use (RFC 3550 §5.1). */
export const RTP_VERSION = 2;
/** Size of the fixed RTP header, without CSRCs or extension. */
export const RTP_HEADER_SIZE = 12;
/** Most CSRCs a header can carry: CC is 4 bits. */
export const RTP_MAX_CSRCS = 15;
/** The "defined by profile" value of an RFC 8285 one-byte header extension. */
export const RTP_ONE_BYTE_EXTENSION_PROFILE = 0xbede;
/** The "defined by profile" value of an RFC 8285 two-byte header extension (low 4 bits: appbits). */
export const RTP_TWO_BYTE_EXTENSION_PROFILE = 0x1000;

// Field offsets inside the fixed header.
const OFFSET_FLAGS = 0; // V(2) P(1) X(1) CC(4)
const OFFSET_MARKER_PT = 1; // M(1) PT(7)
const OFFSET_SEQUENCE = 2;
const OFFSET_TIMESTAMP = 4;
const OFFSET_SSRC = 8;
const EXTENSION_HEADER_SIZE = 4; // profile(16) + length in 32-bit words(16)
const MAX_EXTENSION_DATA = 0xffff * 4;

/** One RFC 8285 header extension element. */
export interface RtpExtensionElement {
  /** Local identifier: 1-14 in the one-byte form, 1-255 in the two-byte form. */
  readonly id: number;
  /** Element data: 1-16 bytes in the one-byte form, 0-255 bytes in the two-byte form. Zero-copy on decode. */
  readonly value: Uint8Array;
}

/** The RTP header extension (RFC 3550 §5.3.1). */
export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field: 0xBEDE for one-byte elements, 0x1000-0x100F for two-byte elements. */
  readonly profile: number;
  /** The raw extension bytes after the 4-byte extension header (zero-copy view on decode); length a multiple of 4. */
  readonly data: Uint8Array;
  /** The RFC 8285 elements, present on decode when `profile` is 0xBEDE or 0x1000-0x100F. */
  readonly elements?: readonly RtpExtensionElement[];
}

/** A decoded (or to-be-encoded) RTP data packet. Plain readonly data. */
export interface RtpPacket {
  /** The M bit; for audio, conventionally the first packet of a talkspurt. */
  readonly marker: boolean;
  /** Payload type, 0-127. */
  readonly payloadType: number;
  /** 16-bit sequence number. */
  readonly sequenceNumber: number;
  /** 32-bit media timestamp (48 kHz units for Opus, RFC 7587). */
  readonly timestamp: number;
  /** 32-bit synchronization source. */
  readonly ssrc: number;
  /** Contributing sources, at most 15. */
  readonly csrcs: readonly number[];
  /** The header extension, when the X bit is set. */
  readonly extension?: RtpHeaderExtension;
  /** Number of padding bytes at the end, including the count byte; 0 = no padding (P bit clear). */
  readonly padding: number;
  /** The payload; a zero-copy subarray of the input on decode. */
  readonly payload: Uint8Array;
}

function invalidArgument(message: string): KookRtpError {
  return new KookRtpError('INVALID_ARGUMENT', message);
}

function isUint(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function isTwoByteProfile(profile: number): boolean {
  return (profile & 0xfff0) === RTP_TWO_BYTE_EXTENSION_PROFILE;
}

/** True when `profile` names an RFC 8285 element layout (one-byte 0xBEDE or two-byte 0x1000-0x100F). */
export function isRfc8285Profile(profile: number): boolean {
  return profile === RTP_ONE_BYTE_EXTENSION_PROFILE || isTwoByteProfile(profile);
}

function validateElements(profile: number, elements: readonly RtpExtensionElement[]): number {
  const oneByte = profile === RTP_ONE_BYTE_EXTENSION_PROFILE;
  if (!oneByte && !isTwoByteProfile(profile)) {
    throw invalidArgument(
      `RTP extension elements need profile 0xBEDE (one-byte) or 0x1000-0x100F (two-byte), found 0x${profile.toString(16)}`,
    );
  }
  let length = 0;
  for (const { id, value } of elements) {
    if (oneByte) {
      // ID 15 is reserved and ID 0 is padding (RFC 8285 §4.2); L = length - 1 fits 1-16 bytes.
      if (!isUint(id, 14) || id === 0) throw invalidArgument(`one-byte RTP extension id must be 1-14, found ${id}`);
      if (value.length < 1 || value.length > 16) {
        throw invalidArgument(`one-byte RTP extension element value must be 1-16 bytes, found ${value.length}`);
      }
      length += 1 + value.length;
    } else {
      if (!isUint(id, 255) || id === 0) throw invalidArgument(`two-byte RTP extension id must be 1-255, found ${id}`);
      if (value.length > 255) {
        throw invalidArgument(`two-byte RTP extension element value must be 0-255 bytes, found ${value.length}`);
      }
      length += 2 + value.length;
    }
  }
  const padded = (length + 3) & ~3;
  if (padded > MAX_EXTENSION_DATA) throw invalidArgument(`RTP extension of ${padded} bytes exceeds ${MAX_EXTENSION_DATA}`);
  return padded;
}

/**
 * Parses RFC 8285 elements out of extension data.
 *
 * @param profile - 0xBEDE or 0x1000-0x100F.
 * @param data - the extension bytes after the 4-byte extension header.
 * @returns the elements, values as zero-copy subarrays of `data`; padding bytes are skipped.
 * @throws {@link KookRtpError} `INVALID_PACKET` when an element runs past the end of `data`.
 * @remarks In the one-byte form a byte with ID 0 is a padding byte and ID 15 stops parsing (RFC 8285 §4.2).
 * @see {@link https://www.rfc-editor.org/rfc/rfc8285#section-4 | RFC 8285 §4}
 */
export function decodeRtpExtensionElements(profile: number, data: Uint8Array): RtpExtensionElement[] {
  const elements: RtpExtensionElement[] = [];
  const oneByte = profile === RTP_ONE_BYTE_EXTENSION_PROFILE;
  if (!oneByte && !isTwoByteProfile(profile)) return elements;
  let i = 0;
  while (i < data.length) {
    const first = data[i]!;
    if (oneByte) {
      const id = first >> 4;
      if (id === 0) {
        i += 1;
        continue;
      }
      if (id === 15) break;
      const length = (first & 0x0f) + 1;
      if (i + 1 + length > data.length) {
        throw new KookRtpError('INVALID_PACKET', `one-byte RTP extension element ${id} of ${length} bytes runs past the extension end`);
      }
      elements.push({ id, value: data.subarray(i + 1, i + 1 + length) });
      i += 1 + length;
    } else {
      if (first === 0) {
        i += 1;
        continue;
      }
      if (i + 2 > data.length) {
        throw new KookRtpError('INVALID_PACKET', `two-byte RTP extension element ${first} has no length byte`);
      }
      const length = data[i + 1]!;
      if (i + 2 + length > data.length) {
        throw new KookRtpError('INVALID_PACKET', `two-byte RTP extension element ${first} of ${length} bytes runs past the extension end`);
      }
      elements.push({ id: first, value: data.subarray(i + 2, i + 2 + length) });
      i += 2 + length;
    }
  }
  return elements;
}

function sameElements(a: readonly RtpExtensionElement[], b: readonly RtpExtensionElement[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id || x.value.length !== y.value.length) return false;
    for (let j = 0; j < x.value.length; j++) if (x.value[j] !== y.value[j]) return false;
  }
  return true;
}

/**
 * Whether the extension is written from `data` verbatim: when there are no elements, or when `data` already holds
 * exactly those elements (so `encode(decode(b))` keeps the sender's own padding layout byte for byte).
 */
function writesRawData(ext: RtpHeaderExtension): boolean {
  if (ext.elements === undefined) return true;
  if (ext.data.length === 0 || ext.data.length % 4 !== 0) return false;
  try {
    return sameElements(decodeRtpExtensionElements(ext.profile, ext.data), ext.elements);
  } catch {
    return false;
  }
}

/** Validates the extension and returns the length of its body (after the 4-byte header). */
function extensionBodyLength(ext: RtpHeaderExtension): number {
  if (!isUint(ext.profile, 0xffff)) throw invalidArgument(`RTP extension profile must be 16-bit, found ${ext.profile}`);
  if (ext.elements !== undefined) {
    const encodedLength = validateElements(ext.profile, ext.elements);
    if (!writesRawData(ext)) return encodedLength;
  }
  if (ext.data.length % 4 !== 0 || ext.data.length > MAX_EXTENSION_DATA) {
    throw invalidArgument(`RTP extension data must be a multiple of 4 bytes up to ${MAX_EXTENSION_DATA}, found ${ext.data.length}`);
  }
  return ext.data.length;
}

function validatePacket(p: RtpPacket): void {
  if (!isUint(p.payloadType, 0x7f)) throw invalidArgument(`RTP payload type must be 0-127, found ${p.payloadType}`);
  if (!isUint(p.sequenceNumber, 0xffff)) {
    throw invalidArgument(`RTP sequence number must be 0-65535, found ${p.sequenceNumber}`);
  }
  if (!isUint(p.timestamp, 0xffffffff)) throw invalidArgument(`RTP timestamp must be 32-bit unsigned, found ${p.timestamp}`);
  if (!isUint(p.ssrc, 0xffffffff)) throw invalidArgument(`RTP SSRC must be 32-bit unsigned, found ${p.ssrc}`);
  if (p.csrcs.length > RTP_MAX_CSRCS) throw invalidArgument(`RTP allows at most 15 CSRCs, found ${p.csrcs.length}`);
  for (const csrc of p.csrcs) {
    if (!isUint(csrc, 0xffffffff)) throw invalidArgument(`RTP CSRC must be 32-bit unsigned, found ${csrc}`);
  }
  if (!isUint(p.padding, 255)) throw invalidArgument(`RTP padding must be 0-255 bytes, found ${p.padding}`);
}

/**
 * Size in bytes of the encoded packet.
 *
 * @param p - the packet.
 * @returns header + CSRCs + extension + payload + padding.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when a field is out of range.
 */
export function rtpPacketSize(p: RtpPacket): number {
  validatePacket(p);
  const ext = p.extension === undefined ? 0 : EXTENSION_HEADER_SIZE + extensionBodyLength(p.extension);
  return RTP_HEADER_SIZE + 4 * p.csrcs.length + ext + p.payload.length + p.padding;
}

function writeU16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 8;
  buf[at + 1] = v & 0xff;
}

function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function checkOffset(buf: Uint8Array, offset: number, size: number): void {
  if (!Number.isInteger(offset) || offset < 0) throw invalidArgument(`offset must be a non-negative integer, found ${offset}`);
  if (buf.length - offset < size) {
    throw new KookRtpError(
      'BUFFER_TOO_SMALL',
      `RTP packet needs ${size} bytes at offset ${offset}, buffer has ${Math.max(0, buf.length - offset)}; pass a larger buffer`,
    );
  }
}

/**
 * Hot path: writes a plain 12-byte header (no CSRC, no extension, no padding).
 *
 * @param buf - destination.
 * @param offset - where the header starts.
 * @param marker - the M bit.
 * @param payloadType - 0-127.
 * @param sequenceNumber - 0-65535.
 * @param timestamp - 32-bit unsigned.
 * @param ssrc - 32-bit unsigned.
 * @returns 12, the bytes written.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an out-of-range field, `BUFFER_TOO_SMALL` when fewer than 12
 *   bytes are left at `offset`.
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-5.1 | RFC 3550 §5.1}
 */
export function writeRtpHeader(
  buf: Uint8Array,
  offset: number,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): number {
  // Bit tricks reject NaN, fractions and out-of-range values without a function call per field.
  if ((payloadType & 0x7f) !== payloadType) throw invalidArgument(`RTP payload type must be 0-127, found ${payloadType}`);
  if ((sequenceNumber & 0xffff) !== sequenceNumber) {
    throw invalidArgument(`RTP sequence number must be 0-65535, found ${sequenceNumber}`);
  }
  if (timestamp >>> 0 !== timestamp) throw invalidArgument(`RTP timestamp must be 32-bit unsigned, found ${timestamp}`);
  if (ssrc >>> 0 !== ssrc) throw invalidArgument(`RTP SSRC must be 32-bit unsigned, found ${ssrc}`);
  checkOffset(buf, offset, RTP_HEADER_SIZE);
  buf[offset + OFFSET_FLAGS] = RTP_VERSION << 6;
  buf[offset + OFFSET_MARKER_PT] = (marker ? 0x80 : 0) | payloadType;
  writeU16(buf, offset + OFFSET_SEQUENCE, sequenceNumber);
  writeU32(buf, offset + OFFSET_TIMESTAMP, timestamp);
  writeU32(buf, offset + OFFSET_SSRC, ssrc);
  return RTP_HEADER_SIZE;
}

function writeElements(buf: Uint8Array, at: number, ext: RtpHeaderExtension, bodyLength: number): void {
  const oneByte = ext.profile === RTP_ONE_BYTE_EXTENSION_PROFILE;
  const end = at + bodyLength;
  for (const { id, value } of ext.elements ?? []) {
    if (oneByte) {
      buf[at++] = (id << 4) | (value.length - 1);
    } else {
      buf[at++] = id;
      buf[at++] = value.length;
    }
    buf.set(value, at);
    at += value.length;
  }
  buf.fill(0, at, end); // padding bytes to the 32-bit boundary (RFC 8285 §4.1)
}

/**
 * Encodes `p` into `buf` at `offset`.
 *
 * @param p - the packet. With `extension.elements`, the elements are encoded in the form `extension.profile` names
 *   (one-byte 0xBEDE or two-byte 0x100X) and zero-padded to 32 bits, unless `extension.data` already holds exactly
 *   those elements (then `data` is copied verbatim); without elements, `extension.data` is copied.
 * @param buf - destination.
 * @param offset - where the packet starts; default 0.
 * @returns the number of bytes written ({@link rtpPacketSize}).
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an out-of-range field, `BUFFER_TOO_SMALL` when the packet does
 *   not fit.
 * @remarks Padding bytes are written as zeros followed by the count byte (RFC 3550 §5.1).
 */
export function encodeRtpPacketInto(p: RtpPacket, buf: Uint8Array, offset = 0): number {
  const size = rtpPacketSize(p);
  checkOffset(buf, offset, size);
  const ext = p.extension;
  buf[offset + OFFSET_FLAGS] =
    (RTP_VERSION << 6) | (p.padding > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | p.csrcs.length;
  buf[offset + OFFSET_MARKER_PT] = (p.marker ? 0x80 : 0) | p.payloadType;
  writeU16(buf, offset + OFFSET_SEQUENCE, p.sequenceNumber);
  writeU32(buf, offset + OFFSET_TIMESTAMP, p.timestamp);
  writeU32(buf, offset + OFFSET_SSRC, p.ssrc);
  let at = offset + RTP_HEADER_SIZE;
  for (const csrc of p.csrcs) {
    writeU32(buf, at, csrc);
    at += 4;
  }
  if (ext !== undefined) {
    const bodyLength = extensionBodyLength(ext);
    writeU16(buf, at, ext.profile);
    writeU16(buf, at + 2, bodyLength / 4);
    at += EXTENSION_HEADER_SIZE;
    if (writesRawData(ext)) buf.set(ext.data, at);
    else writeElements(buf, at, ext, bodyLength);
    at += bodyLength;
  }
  buf.set(p.payload, at);
  at += p.payload.length;
  if (p.padding > 0) {
    buf.fill(0, at, at + p.padding - 1);
    buf[at + p.padding - 1] = p.padding;
    at += p.padding;
  }
  return at - offset;
}

/**
 * Encodes `p` into a new buffer.
 *
 * @param p - the packet (see {@link encodeRtpPacketInto} for how the extension is written).
 * @returns the packet bytes.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an out-of-range field.
 */
export function encodeRtpPacket(p: RtpPacket): Uint8Array {
  const buf = new Uint8Array(rtpPacketSize(p));
  encodeRtpPacketInto(p, buf, 0);
  return buf;
}

/**
 * Decodes one RTP packet.
 *
 * @param bytes - one datagram.
 * @returns the packet; `payload`, `extension.data` and element values are zero-copy subarrays of `bytes`.
 * @throws {@link KookRtpError} `PACKET_TOO_SHORT` when `bytes` ends before the header, CSRC list or extension it
 *   declares; `INVALID_VERSION` when V is not 2; `INVALID_PACKET` for a padding count of 0 or larger than the
 *   payload, or a malformed RFC 8285 element.
 * @remarks Does not tell RTP from RTCP: use {@link classifyPacket} from `wire/demux` first on a muxed port.
 */
export function decodeRtpPacket(bytes: Uint8Array): RtpPacket {
  if (bytes.length < RTP_HEADER_SIZE) {
    throw new KookRtpError('PACKET_TOO_SHORT', `RTP packet needs at least ${RTP_HEADER_SIZE} bytes, found ${bytes.length}`);
  }
  const flags = bytes[OFFSET_FLAGS]!;
  const version = flags >> 6;
  if (version !== RTP_VERSION) {
    throw new KookRtpError('INVALID_VERSION', `RTP version must be 2, found ${version}; this is not an RTP packet`);
  }
  const hasPadding = (flags & 0x20) !== 0;
  const hasExtension = (flags & 0x10) !== 0;
  const csrcCount = flags & 0x0f;
  let at = RTP_HEADER_SIZE + 4 * csrcCount;
  if (bytes.length < at) {
    throw new KookRtpError('PACKET_TOO_SHORT', `RTP header declares ${csrcCount} CSRCs (${at} bytes), packet has ${bytes.length}`);
  }
  const csrcs: number[] = [];
  for (let i = RTP_HEADER_SIZE; i < at; i += 4) csrcs.push(readU32(bytes, i));

  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (bytes.length < at + EXTENSION_HEADER_SIZE) {
      throw new KookRtpError('PACKET_TOO_SHORT', `RTP extension header needs ${at + EXTENSION_HEADER_SIZE} bytes, packet has ${bytes.length}`);
    }
    const profile = readU16(bytes, at);
    const dataLength = readU16(bytes, at + 2) * 4;
    at += EXTENSION_HEADER_SIZE;
    if (bytes.length < at + dataLength) {
      throw new KookRtpError('PACKET_TOO_SHORT', `RTP extension declares ${dataLength} bytes, only ${bytes.length - at} remain`);
    }
    const data = bytes.subarray(at, at + dataLength);
    at += dataLength;
    extension = isRfc8285Profile(profile)
      ? { profile, data, elements: decodeRtpExtensionElements(profile, data) }
      : { profile, data };
  }

  let end = bytes.length;
  let padding = 0;
  if (hasPadding) {
    padding = bytes[end - 1]!;
    if (padding === 0 || padding > end - at) {
      throw new KookRtpError('INVALID_PACKET', `RTP padding count ${padding} must be 1-${end - at} (the bytes after the header)`);
    }
    end -= padding;
  }
  const marker = (bytes[OFFSET_MARKER_PT]! & 0x80) !== 0;
  const payloadType = bytes[OFFSET_MARKER_PT]! & 0x7f;
  const sequenceNumber = readU16(bytes, OFFSET_SEQUENCE);
  const timestamp = readU32(bytes, OFFSET_TIMESTAMP);
  const ssrc = readU32(bytes, OFFSET_SSRC);
  const payload = bytes.subarray(at, end);
  // Two literals rather than a spread: `extension` is absent (not undefined) without X, and no object is copied.
  return extension === undefined
    ? { marker, payloadType, sequenceNumber, timestamp, ssrc, csrcs, padding, payload }
    : { marker, payloadType, sequenceNumber, timestamp, ssrc, csrcs, extension, padding, payload };
}

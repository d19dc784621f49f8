/**
 * Small shared guards for the RTCP encoders and decoders: argument range checks, buffer checks and UTF-8 text.
 *
 * Internal to `wire/rtcp/`: not part of the public API.
 */
import { KookRtpError } from '../../errors.js';

/** Largest RTCP packet: the 16-bit length field counts 32-bit words minus one. */
export const MAX_RTCP_PACKET_SIZE = 0x10000 * 4;

/** Throws INVALID_ARGUMENT unless `value` is an integer in `[min, max]`. */
export function checkInteger(value: number, min: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `${what} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

/** Throws INVALID_ARGUMENT unless `value` is an unsigned 32-bit integer. */
export function checkUint32(value: number, what: string): void {
  checkInteger(value, 0, 0xffffffff, what);
}

/**
 * Checks that `size` bytes fit into `buf` at `offset`.
 *
 * @throws KookRtpError INVALID_ARGUMENT for a bad offset, BUFFER_TOO_SMALL when the bytes do not fit.
 */
export function checkRoom(buf: Uint8Array, offset: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${String(offset)}`);
  }
  if (buf.length - offset < size) {
    throw new KookRtpError(
      'BUFFER_TOO_SMALL',
      `${what} needs ${size} bytes at offset ${offset} but the buffer has ${Math.max(0, buf.length - offset)}; ` +
        `allocate at least ${offset + size} bytes`,
    );
  }
}

/** Throws INVALID_ARGUMENT when a whole packet would not fit the 16-bit RTCP length field. */
export function checkPacketSize(size: number, what: string): void {
  if (size > MAX_RTCP_PACKET_SIZE) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `${what} would be ${size} bytes; an RTCP packet holds at most ${MAX_RTCP_PACKET_SIZE}`,
    );
  }
}

/** A DataView over exactly the bytes of `bytes` (which may be a view into a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is text, so bytes round-trip exactly.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// With the u flag a surrogate class only matches lone surrogates (pairs are single code points).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * UTF-8 bytes of `text`, at most `maxBytes` long.
 *
 * @throws KookRtpError INVALID_ARGUMENT for a lone surrogate (it has no UTF-8 form) or text that is too long.
 */
export function utf8Bytes(text: string, maxBytes: number, what: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new KookRtpError('INVALID_ARGUMENT', `${what} must be a string, got ${typeof text}`);
  }
  if (LONE_SURROGATE.test(text)) {
    throw new KookRtpError('INVALID_ARGUMENT', `${what} contains a lone UTF-16 surrogate, which has no UTF-8 form`);
  }
  const bytes = encoder.encode(text);
  if (bytes.length > maxBytes) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `${what} is ${bytes.length} bytes of UTF-8; at most ${maxBytes} fit; shorten it`,
    );
  }
  return bytes;
}

/**
 * Decodes UTF-8 text from a packet.
 *
 * @throws KookRtpError INVALID_RTCP when the bytes are not valid UTF-8.
 */
export function utf8Text(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new KookRtpError('INVALID_RTCP', `${what} is not valid UTF-8 (RFC 3550 §6.5 requires UTF-8)`, { cause });
  }
}

/** Rounds `n` up to a multiple of 4 (RTCP packets and SDES chunks end on 32-bit boundaries). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

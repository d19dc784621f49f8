/**
 * NTP timestamps as RTCP uses them: 64-bit unsigned fixed point (seconds since 1900-01-01 in the high 32 bits, the
 * fraction of a second in the low 32), the "middle 32 bits" form of LSR, and round-trip time from a report block.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-4 | RFC 3550 §4},
 *   {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | §6.4.1},
 *   {@link https://www.rfc-editor.org/rfc/rfc4330#section-3 | RFC 4330 §3} (era wrap in 2036)
 */
import { KookRtpError } from '../errors.js';

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_EPOCH_OFFSET = 2208988800;

const TWO_32 = 0x100000000;
const MASK_64 = (1n << 64n) - 1n;
const MASK_32 = 0xffffffffn;

/**
 * Converts a Unix time in milliseconds to a 64-bit NTP timestamp.
 *
 * @param ms - milliseconds since the Unix epoch; may be fractional (e.g. `performance.timeOrigin + performance.now()`).
 * @returns the NTP timestamp; times from 2036-02-07 on wrap into NTP era 1 (RFC 4330 §3). {@link ntpToUnixMs}
 *   reads back times from 1968-01-20 to 2104-02-26.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `ms` is not finite, before 1900 or past 2104.
 */
export function unixMsToNtp(ms: number): bigint {
  const seconds = Math.floor(ms / 1000);
  const ntpSeconds = seconds + NTP_UNIX_EPOCH_OFFSET;
  // Up to 2104-02-26, the end of what ntpToUnixMs reads back (era 1 seconds below 2^31).
  if (!Number.isFinite(ms) || ntpSeconds < 0 || ntpSeconds >= TWO_32 + 0x80000000) {
    throw new KookRtpError('INVALID_ARGUMENT', `unix time must be a finite ms count between 1900 and 2104, found ${ms}`);
  }
  let fraction = Math.round(((ms - seconds * 1000) / 1000) * TWO_32);
  let wholeSeconds = ntpSeconds;
  if (fraction >= TWO_32) {
    fraction -= TWO_32;
    wholeSeconds += 1;
  }
  return ((BigInt(wholeSeconds) << 32n) | BigInt(fraction)) & MASK_64;
}

function checkNtp(ntp: bigint): void {
  if (typeof ntp !== 'bigint' || ntp < 0n || ntp > MASK_64) {
    throw new KookRtpError('INVALID_ARGUMENT', `NTP timestamp must be a 64-bit unsigned bigint, found ${String(ntp)}`);
  }
}

/**
 * Converts a 64-bit NTP timestamp to Unix milliseconds.
 *
 * @param ntp - the NTP timestamp.
 * @returns milliseconds since the Unix epoch, fractional. Seconds with the top bit set are read as era 0
 *   (1968-2036), the rest as era 1 (2036-2104), per RFC 4330 §3.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `ntp` is not a 64-bit unsigned bigint.
 */
export function ntpToUnixMs(ntp: bigint): number {
  checkNtp(ntp);
  const seconds = Number(ntp >> 32n);
  const fraction = Number(ntp & MASK_32);
  const era = seconds >= 0x80000000 ? 0 : TWO_32;
  return (seconds + era - NTP_UNIX_EPOCH_OFFSET) * 1000 + (fraction * 1000) / TWO_32;
}

/**
 * The middle 32 bits of an NTP timestamp: the LSR field of a report block (16.16 fixed-point seconds).
 *
 * @param ntp - the NTP timestamp.
 * @returns an unsigned 32-bit integer.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `ntp` is not a 64-bit unsigned bigint.
 */
export function ntpMiddle32(ntp: bigint): number {
  checkNtp(ntp);
  return Number((ntp >> 16n) & MASK_32);
}

/**
 * Round-trip time from a receiver report block: A - LSR - DLSR (RFC 3550 §6.4.1).
 *
 * @param arrivalNtp - when the report arrived, as an NTP timestamp.
 * @param lastSr - the block's LSR (middle 32 bits of the SR it answers); 0 means no SR was received yet.
 * @param delaySinceLastSr - the block's DLSR, in 1/65536 s.
 * @returns the round-trip time in ms; NaN when `lastSr` is 0; 0 when clock rounding makes the difference negative.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `arrivalNtp` is not a 64-bit unsigned bigint.
 * @remarks The subtraction is modulo 2^32 (16.16 seconds), so it survives the wrap of the middle 32 bits.
 */
export function roundTripTimeMs(arrivalNtp: bigint, lastSr: number, delaySinceLastSr: number): number {
  const arrival = ntpMiddle32(arrivalNtp);
  if (lastSr === 0) return Number.NaN;
  const rtt = (arrival - lastSr - delaySinceLastSr) | 0;
  return rtt <= 0 ? 0 : (rtt * 1000) / 65536;
}

/**
 * Converts a delay in ms to DLSR units (1/65536 s), for a report block.
 *
 * @param ms - the delay since the last SR was received, non-negative.
 * @returns the DLSR, rounded, capped at 0xffffffff.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `ms` is negative or not a number.
 */
export function dlsrFromMs(ms: number): number {
  if (!(ms >= 0)) throw new KookRtpError('INVALID_ARGUMENT', `DLSR delay must be a non-negative ms count, found ${ms}`);
  return Math.min(0xffffffff, Math.round((ms * 65536) / 1000));
}

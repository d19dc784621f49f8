/**
 * IP address text <-> bytes, and the Internet checksum, for the pcap writer and reader.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc1071 | RFC 1071} (checksum),
 *   {@link https://www.rfc-editor.org/rfc/rfc4291#section-2.2 | RFC 4291 §2.2} (IPv6 text),
 *   {@link https://www.rfc-editor.org/rfc/rfc5952#section-4 | RFC 5952 §4} (canonical IPv6 text)
 */
import { KookRtpError } from '../../errors.js';

function badAddress(text: string): KookRtpError {
  return new KookRtpError('INVALID_ARGUMENT', `expected an IPv4 (1.2.3.4) or IPv6 (::1) address, found "${text}"`);
}

function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return false;
    const v = Number(part);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/**
 * Parses an IP address.
 *
 * @param text - dotted IPv4 (`127.0.0.1`) or IPv6 (`::1`, `fe80::1`, `::ffff:1.2.3.4`; no zone index).
 * @returns 4 bytes for IPv4, 16 for IPv6.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `text` is neither.
 */
export function parseIpAddress(text: string): Uint8Array {
  if (!text.includes(':')) {
    const v4 = new Uint8Array(4);
    if (!parseIpv4Into(text, v4, 0)) throw badAddress(text);
    return v4;
  }
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) throw badAddress(text);
  const parseGroups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  // Expand groups to bytes; a trailing dotted quad counts as two groups.
  const toBytes = (groups: string[], isLast: boolean): number[] | undefined => {
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (isLast && i === groups.length - 1 && g.includes('.')) {
        const quad = new Uint8Array(4);
        if (!parseIpv4Into(g, quad, 0)) return undefined;
        bytes.push(...quad);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        const v = parseInt(g, 16);
        bytes.push(v >> 8, v & 0xff);
      }
    }
    return bytes;
  };
  const headBytes = toBytes(head, halves.length === 1);
  const tailBytes = toBytes(tail, true);
  if (headBytes === undefined || tailBytes === undefined) throw badAddress(text);
  const total = headBytes.length + tailBytes.length;
  if (halves.length === 1 ? total !== 16 : total > 14) throw badAddress(text);
  out.set(headBytes, 0);
  out.set(tailBytes, 16 - tailBytes.length);
  return out;
}

/**
 * Formats 4 or 16 address bytes as text.
 *
 * @param bytes - 4 bytes (IPv4) or 16 bytes (IPv6).
 * @returns dotted IPv4, or canonical IPv6 (RFC 5952: lowercase, longest zero run of 2+ groups as `::`).
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for any other length.
 */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) {
    throw new KookRtpError('INVALID_ARGUMENT', `an IP address is 4 or 16 bytes, found ${bytes.length}`);
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: never compress a single group
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The 16-bit one's complement sum of the given byte ranges, concatenated (RFC 1071), before the final inversion.
 *
 * @param parts - byte ranges; every part but the last must have an even length.
 * @returns the folded 16-bit sum.
 */
export function onesComplementSum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    const even = part.length & ~1;
    for (let i = 0; i < even; i += 2) sum += (part[i]! << 8) | part[i + 1]!;
    if (even !== part.length) sum += part[even]! << 8;
    // Fold now and then so the sum stays a small integer.
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The Internet checksum of the given byte ranges (RFC 1071): the inverted one's complement sum.
 *
 * @param parts - byte ranges; every part but the last must have an even length.
 * @returns the 16-bit checksum to write into the header (0 when the data already sums to 0xffff).
 */
export function internetChecksum(parts: readonly Uint8Array[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

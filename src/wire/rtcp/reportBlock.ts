/**
 * The reception report block carried by sender and receiver reports.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_n (SSRC of source being reported)        |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  | 20
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
import { KookRtpError } from '../../errors.js';
import { checkInteger, checkRoom, checkUint32, viewOf } from './checks.js';

/** Bytes in one report block. */
export const REPORT_BLOCK_SIZE = 24;

const SSRC_OFFSET = 0;
const FRACTION_LOST_OFFSET = 4; // 8 bits, then the 24-bit cumulative loss in the same word
const CUMULATIVE_LOST_OFFSET = 4;
const HIGHEST_SEQUENCE_OFFSET = 8;
const JITTER_OFFSET = 12;
const LSR_OFFSET = 16;
const DLSR_OFFSET = 20;

/** Smallest and largest cumulative loss the signed 24-bit field can carry. */
export const MIN_CUMULATIVE_LOST = -0x800000;
/** @see {@link MIN_CUMULATIVE_LOST} */
export const MAX_CUMULATIVE_LOST = 0x7fffff;

/** One reception report block: what a receiver saw of one source since the last report. */
export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  readonly ssrc: number;
  /** Packets lost since the previous report, as a fixed-point fraction of 256 (0–255). */
  readonly fractionLost: number;
  /** Packets lost since reception began: signed 24-bit (negative when duplicates outnumber losses). */
  readonly cumulativeLost: number;
  /** Highest sequence number received, extended with the count of sequence cycles in the top 16 bits. */
  readonly highestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from the source, 0 if none. */
  readonly lastSenderReport: number;
  /** Delay since that SR in units of 1/65536 s, 0 if none. */
  readonly delaySinceLastSenderReport: number;
}

/**
 * Size of an encoded report block.
 *
 * @param _v - the block (every block has the same size)
 * @returns 24
 */
export function reportBlockSize(_v?: ReportBlock): number {
  return REPORT_BLOCK_SIZE;
}

/**
 * Writes one report block at `offset`.
 *
 * @param v - the block
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written (24)
 * @throws KookRtpError INVALID_ARGUMENT for a field out of range (cumulativeLost must fit signed 24 bits);
 *   BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
export function encodeReportBlockInto(v: ReportBlock, buf: Uint8Array, offset = 0): number {
  checkUint32(v.ssrc, 'report block ssrc');
  checkInteger(v.fractionLost, 0, 255, 'report block fractionLost');
  checkInteger(v.cumulativeLost, MIN_CUMULATIVE_LOST, MAX_CUMULATIVE_LOST, 'report block cumulativeLost');
  checkUint32(v.highestSequence, 'report block highestSequence');
  checkUint32(v.jitter, 'report block jitter');
  checkUint32(v.lastSenderReport, 'report block lastSenderReport');
  checkUint32(v.delaySinceLastSenderReport, 'report block delaySinceLastSenderReport');
  checkRoom(buf, offset, REPORT_BLOCK_SIZE, 'a report block');
  const view = viewOf(buf);
  view.setUint32(offset + SSRC_OFFSET, v.ssrc);
  view.setUint32(offset + CUMULATIVE_LOST_OFFSET, ((v.fractionLost << 24) | (v.cumulativeLost & 0xffffff)) >>> 0);
  view.setUint32(offset + HIGHEST_SEQUENCE_OFFSET, v.highestSequence);
  view.setUint32(offset + JITTER_OFFSET, v.jitter);
  view.setUint32(offset + LSR_OFFSET, v.lastSenderReport);
  view.setUint32(offset + DLSR_OFFSET, v.delaySinceLastSenderReport);
  return REPORT_BLOCK_SIZE;
}

/**
 * Encodes one report block into a new 24-byte array.
 *
 * @param v - the block
 * @returns the encoded block
 * @throws KookRtpError INVALID_ARGUMENT for a field out of range
 */
export function encodeReportBlock(v: ReportBlock): Uint8Array {
  const buf = new Uint8Array(REPORT_BLOCK_SIZE);
  encodeReportBlockInto(v, buf, 0);
  return buf;
}

/**
 * Decodes one report block at `offset`.
 *
 * @param bytes - bytes holding the block
 * @param offset - where the block starts (default 0)
 * @returns the block
 * @throws KookRtpError PACKET_TOO_SHORT when fewer than 24 bytes remain; INVALID_ARGUMENT for a bad offset
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
export function decodeReportBlock(bytes: Uint8Array, offset = 0): ReportBlock {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `offset must be a non-negative integer, got ${String(offset)}`);
  }
  if (bytes.length - offset < REPORT_BLOCK_SIZE) {
    throw new KookRtpError(
      'PACKET_TOO_SHORT',
      `a report block needs ${REPORT_BLOCK_SIZE} bytes at offset ${offset}, found ${Math.max(0, bytes.length - offset)}`,
    );
  }
  const view = viewOf(bytes);
  const lossWord = view.getUint32(offset + CUMULATIVE_LOST_OFFSET);
  return {
    ssrc: view.getUint32(offset + SSRC_OFFSET),
    fractionLost: bytes[offset + FRACTION_LOST_OFFSET] ?? 0,
    // Shift the 24-bit field to the top and back down arithmetically to sign-extend it.
    cumulativeLost: (lossWord << 8) >> 8,
    highestSequence: view.getUint32(offset + HIGHEST_SEQUENCE_OFFSET),
    jitter: view.getUint32(offset + JITTER_OFFSET),
    lastSenderReport: view.getUint32(offset + LSR_OFFSET),
    delaySinceLastSenderReport: view.getUint32(offset + DLSR_OFFSET),
  };
}

/** Encodes `reports` back to back at `offset`; returns bytes written. Shared by SR and RR. */
export function encodeReportBlocksInto(reports: readonly ReportBlock[], buf: Uint8Array, offset: number): number {
  let at = offset;
  for (const block of reports) at += encodeReportBlockInto(block, buf, at);
  return at - offset;
}

/** Decodes `count` blocks from `offset`, which the caller has checked are present. Shared by SR and RR. */
export function decodeReportBlocks(bytes: Uint8Array, offset: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) reports.push(decodeReportBlock(bytes, offset + i * REPORT_BLOCK_SIZE));
  return reports;
}

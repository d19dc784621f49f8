/**
 * RTCP receiver report (RR, packet type 201).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=RR=201   |             length            |  0
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     SSRC of packet sender                     |  4
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                 report blocks (24 bytes each)                 |  8
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.2 | RFC 3550 §6.4.2}
 */
import { KookRtpError } from '../../errors.js';
import { checkPacketSize, checkRoom, checkUint32, viewOf } from './checks.js';
import { encodeRtcpHeaderInto, openRtcpPacket, RTCP_RR } from './header.js';
import { decodeReportBlocks, encodeReportBlocksInto, REPORT_BLOCK_SIZE, type ReportBlock } from './reportBlock.js';
import { checkReportsAndExtension } from './senderReport.js';

const SSRC_OFFSET = 4;
const REPORTS_OFFSET = 8;

/** A decoded RTCP receiver report. */
export interface ReceiverReport {
  /** SSRC of the receiver sending this report. */
  readonly ssrc: number;
  /** Reception report blocks, at most 31 (more go into following RR packets); may be empty. */
  readonly reports: readonly ReportBlock[];
  /** Profile-specific extension, a multiple of 4 bytes; absent when empty. Decoded as a zero-copy subarray. */
  readonly profileExtension?: Uint8Array;
}

/**
 * Encoded size of a receiver report.
 *
 * @param v - the report
 * @returns bytes {@link encodeReceiverReportInto} writes
 */
export function receiverReportSize(v: ReceiverReport): number {
  return REPORTS_OFFSET + v.reports.length * REPORT_BLOCK_SIZE + (v.profileExtension?.length ?? 0);
}

/**
 * Writes a receiver report (no padding) at `offset`.
 *
 * @param v - the report
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written
 * @throws KookRtpError INVALID_ARGUMENT for a field out of range, more than 31 report blocks or an extension that
 *   is not a multiple of 4 bytes; BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.2 | RFC 3550 §6.4.2}
 */
export function encodeReceiverReportInto(v: ReceiverReport, buf: Uint8Array, offset = 0): number {
  checkUint32(v.ssrc, 'RR ssrc');
  checkReportsAndExtension(v.reports, v.profileExtension, 'RR');
  const size = receiverReportSize(v);
  checkPacketSize(size, 'RR');
  checkRoom(buf, offset, size, 'an RR');
  encodeRtcpHeaderInto({ padding: false, count: v.reports.length, packetType: RTCP_RR, length: size / 4 - 1 }, buf, offset);
  viewOf(buf).setUint32(offset + SSRC_OFFSET, v.ssrc);
  const at = offset + REPORTS_OFFSET + encodeReportBlocksInto(v.reports, buf, offset + REPORTS_OFFSET);
  if (v.profileExtension !== undefined) buf.set(v.profileExtension, at);
  return size;
}

/**
 * Encodes a receiver report into a new array.
 *
 * @param v - the report
 * @returns the packet
 * @throws KookRtpError INVALID_ARGUMENT as {@link encodeReceiverReportInto}
 */
export function encodeReceiverReport(v: ReceiverReport): Uint8Array {
  const buf = new Uint8Array(receiverReportSize(v));
  encodeReceiverReportInto(v, buf, 0);
  return buf;
}

/**
 * Decodes exactly one receiver report (use `decodeCompound` to split a datagram). Padding is accepted and dropped.
 *
 * @param bytes - one RR packet
 * @returns the report; `profileExtension` is a zero-copy subarray of `bytes`
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP when the type is not RR, the report blocks do not fit, or the extension is not whole words
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.2 | RFC 3550 §6.4.2}
 */
export function decodeReceiverReport(bytes: Uint8Array): ReceiverReport {
  const { header, end } = openRtcpPacket(bytes, RTCP_RR, 'RR');
  const extensionStart = REPORTS_OFFSET + header.count * REPORT_BLOCK_SIZE;
  if (end < extensionStart) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `an RR with ${header.count} report blocks needs ${extensionStart} bytes of content, found ${end}`,
    );
  }
  if ((end - extensionStart) % 4 !== 0) {
    throw new KookRtpError('INVALID_RTCP', `RR profile extension is ${end - extensionStart} bytes, not whole 32-bit words`);
  }
  const report: ReceiverReport = {
    ssrc: viewOf(bytes).getUint32(SSRC_OFFSET),
    reports: decodeReportBlocks(bytes, REPORTS_OFFSET, header.count),
  };
  return end > extensionStart ? { ...report, profileExtension: bytes.subarray(extensionStart, end) } : report;
}

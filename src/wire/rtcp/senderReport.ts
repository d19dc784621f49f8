/**
 * RTCP sender report (SR, packet type 200).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |  0
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |  4
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |  8
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             | 12
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         | 16
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     | 20
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     | 24
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                 report blocks (24 bytes each)                 | 28
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
import { KookRtpError } from '../../errors.js';
import { checkPacketSize, checkRoom, checkUint32, viewOf } from './checks.js';
import { encodeRtcpHeaderInto, openRtcpPacket, RTCP_MAX_COUNT, RTCP_SR } from './header.js';
import { decodeReportBlocks, encodeReportBlocksInto, REPORT_BLOCK_SIZE, type ReportBlock } from './reportBlock.js';

const SSRC_OFFSET = 4;
const NTP_OFFSET = 8;
const RTP_TIMESTAMP_OFFSET = 16;
const PACKET_COUNT_OFFSET = 20;
const OCTET_COUNT_OFFSET = 24;
const REPORTS_OFFSET = 28;

/** Bytes of an SR without report blocks or extension. */
export const SENDER_REPORT_MIN_SIZE = REPORTS_OFFSET;

/** A decoded RTCP sender report. */
export interface SenderReport {
  /** SSRC of the sender. */
  readonly ssrc: number;
  /** Wallclock time of this report as a 64-bit NTP timestamp (seconds since 1900 in the top 32 bits). */
  readonly ntpTimestamp: bigint;
  /** The same instant in the RTP timestamp clock of the sender's media. */
  readonly rtpTimestamp: number;
  /** RTP data packets sent since the start of transmission (wraps at 2^32). */
  readonly packetCount: number;
  /** RTP payload octets sent since the start of transmission (wraps at 2^32). */
  readonly octetCount: number;
  /** Reception report blocks, at most 31 (more go into following RR packets). */
  readonly reports: readonly ReportBlock[];
  /** Profile-specific extension, a multiple of 4 bytes; absent when empty. Decoded as a zero-copy subarray. */
  readonly profileExtension?: Uint8Array;
}

/** Throws INVALID_ARGUMENT unless the reports and extension fit an SR/RR; shared with receiverReport.ts. */
export function checkReportsAndExtension(
  reports: readonly ReportBlock[],
  profileExtension: Uint8Array | undefined,
  what: string,
): void {
  if (!Array.isArray(reports) || reports.length > RTCP_MAX_COUNT) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `${what} holds at most ${RTCP_MAX_COUNT} report blocks, got ${String(reports?.length)}; put the rest in further RR packets`,
    );
  }
  if (profileExtension !== undefined && profileExtension.length % 4 !== 0) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `${what} profileExtension must be a multiple of 4 bytes, got ${profileExtension.length}`,
    );
  }
}

/**
 * Encoded size of a sender report.
 *
 * @param v - the report
 * @returns bytes {@link encodeSenderReportInto} writes
 */
export function senderReportSize(v: SenderReport): number {
  return REPORTS_OFFSET + v.reports.length * REPORT_BLOCK_SIZE + (v.profileExtension?.length ?? 0);
}

/**
 * Writes a sender report (no padding) at `offset`.
 *
 * @param v - the report
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written
 * @throws KookRtpError INVALID_ARGUMENT for a field out of range, more than 31 report blocks or an extension that
 *   is not a multiple of 4 bytes; BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
export function encodeSenderReportInto(v: SenderReport, buf: Uint8Array, offset = 0): number {
  checkUint32(v.ssrc, 'SR ssrc');
  if (typeof v.ntpTimestamp !== 'bigint' || v.ntpTimestamp < 0n || v.ntpTimestamp > 0xffffffffffffffffn) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `SR ntpTimestamp must be an unsigned 64-bit bigint, got ${String(v.ntpTimestamp)}`,
    );
  }
  checkUint32(v.rtpTimestamp, 'SR rtpTimestamp');
  checkUint32(v.packetCount, 'SR packetCount');
  checkUint32(v.octetCount, 'SR octetCount');
  checkReportsAndExtension(v.reports, v.profileExtension, 'SR');
  const size = senderReportSize(v);
  checkPacketSize(size, 'SR');
  checkRoom(buf, offset, size, 'an SR');
  encodeRtcpHeaderInto({ padding: false, count: v.reports.length, packetType: RTCP_SR, length: size / 4 - 1 }, buf, offset);
  const view = viewOf(buf);
  view.setUint32(offset + SSRC_OFFSET, v.ssrc);
  view.setBigUint64(offset + NTP_OFFSET, v.ntpTimestamp);
  view.setUint32(offset + RTP_TIMESTAMP_OFFSET, v.rtpTimestamp);
  view.setUint32(offset + PACKET_COUNT_OFFSET, v.packetCount);
  view.setUint32(offset + OCTET_COUNT_OFFSET, v.octetCount);
  const at = offset + REPORTS_OFFSET + encodeReportBlocksInto(v.reports, buf, offset + REPORTS_OFFSET);
  if (v.profileExtension !== undefined) buf.set(v.profileExtension, at);
  return size;
}

/**
 * Encodes a sender report into a new array.
 *
 * @param v - the report
 * @returns the packet
 * @throws KookRtpError INVALID_ARGUMENT as {@link encodeSenderReportInto}
 */
export function encodeSenderReport(v: SenderReport): Uint8Array {
  const buf = new Uint8Array(senderReportSize(v));
  encodeSenderReportInto(v, buf, 0);
  return buf;
}

/**
 * Decodes exactly one sender report (use `decodeCompound` to split a datagram). Padding is accepted and dropped.
 *
 * @param bytes - one SR packet
 * @returns the report; `profileExtension` is a zero-copy subarray of `bytes`
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP when the type is not SR, the report blocks do not fit, or the extension is not whole words
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1}
 */
export function decodeSenderReport(bytes: Uint8Array): SenderReport {
  const { header, end } = openRtcpPacket(bytes, RTCP_SR, 'SR');
  const extensionStart = REPORTS_OFFSET + header.count * REPORT_BLOCK_SIZE;
  if (end < extensionStart) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `an SR with ${header.count} report blocks needs ${extensionStart} bytes of content, found ${end}`,
    );
  }
  if ((end - extensionStart) % 4 !== 0) {
    throw new KookRtpError('INVALID_RTCP', `SR profile extension is ${end - extensionStart} bytes, not whole 32-bit words`);
  }
  const view = viewOf(bytes);
  const report: SenderReport = {
    ssrc: view.getUint32(SSRC_OFFSET),
    ntpTimestamp: view.getBigUint64(NTP_OFFSET),
    rtpTimestamp: view.getUint32(RTP_TIMESTAMP_OFFSET),
    packetCount: view.getUint32(PACKET_COUNT_OFFSET),
    octetCount: view.getUint32(OCTET_COUNT_OFFSET),
    reports: decodeReportBlocks(bytes, REPORTS_OFFSET, header.count),
  };
  return end > extensionStart ? { ...report, profileExtension: bytes.subarray(extensionStart, end) } : report;
}

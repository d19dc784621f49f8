/**
 * Compound RTCP packets: several RTCP packets stacked in one datagram.
 *
 * ```
 * if encrypted: random 32-bit integer
 * |
 * |[--------- packet --------][---------- packet ----------][-packet-]
 * |
 * |                receiver            chunk        chunk
 * V                reports           item  item   item  item
 * --------------------------------------------------------------------
 * R[SR #sendinfo #site1#site2][SDES #CNAME PHONE #CNAME LOC][BYE##why]
 * --------------------------------------------------------------------
 * |                                                                  |
 * |<-----------------------  compound packet ----------------------->|
 * ```
 *
 * Decoding applies the validity checks of RFC 3550 appendix A.2: every packet has version 2, the first packet is
 * an SR or RR (strict mode), only the last packet may be padded, and the packets' lengths add up to the datagram
 * exactly. The §6.1 content rules (an SDES CNAME in every compound, BYE last) are not decode errors, because
 * common senders break them: ffmpeg's RTP muxer sends a bare SR. {@link validateCompound} reports them instead.
 * Encoding enforces them by default.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.1 | RFC 3550 §6.1}
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.2 | RFC 3550 appendix A.2}
 */
import { KookRtpError } from '../../errors.js';
import { applicationDefinedSize, decodeApplicationDefined, encodeApplicationDefinedInto, type ApplicationDefined } from './app.js';
import { decodeGoodbye, encodeGoodbyeInto, goodbyeSize, type Goodbye } from './bye.js';
import { checkInteger } from './checks.js';
import { decodeRtcpHeader, RTCP_APP, RTCP_BYE, RTCP_RR, RTCP_SDES, RTCP_SR } from './header.js';
import {
  decodeReceiverReport,
  encodeReceiverReportInto,
  receiverReportSize,
  type ReceiverReport,
} from './receiverReport.js';
import {
  decodeSourceDescription,
  encodeSourceDescriptionInto,
  findCname,
  sourceDescriptionSize,
  type SourceDescription,
} from './sdes.js';
import { decodeSenderReport, encodeSenderReportInto, senderReportSize, type SenderReport } from './senderReport.js';

/** One packet of a compound RTCP datagram, tagged by `type`. */
export type RtcpPacket =
  | ({ readonly type: 'sr' } & SenderReport)
  | ({ readonly type: 'rr' } & ReceiverReport)
  | ({ readonly type: 'sdes' } & SourceDescription)
  | ({ readonly type: 'bye' } & Goodbye)
  | ({ readonly type: 'app' } & ApplicationDefined)
  | {
      readonly type: 'unknown';
      /** PT of the packet (e.g. 205 RTPFB, 206 PSFB, 207 XR). */
      readonly packetType: number;
      /** The whole packet, header and padding included: a zero-copy subarray when decoded. */
      readonly bytes: Uint8Array;
    };

/** Options of {@link decodeCompound}. */
export interface DecodeCompoundOptions {
  /** Require the first packet to be an SR or RR (A.2). Default true; false accepts reduced-size RTCP (RFC 5506). */
  readonly strict?: boolean;
}

/** Options of {@link encodeCompound}. */
export interface EncodeCompoundOptions {
  /** Enforce the §6.1 rules reported by {@link validateCompound}. Default true. */
  readonly strict?: boolean;
}

/** A §6.1 rule a list of packets breaks, as reported by {@link validateCompound}. */
export interface CompoundIssue {
  /**
   * EMPTY: no packets. FIRST_NOT_REPORT: the first packet is not an SR or RR. MISSING_CNAME: no SDES packet carries
   * a CNAME item. BYE_NOT_LAST: a non-BYE packet follows a BYE.
   */
  readonly code: 'EMPTY' | 'FIRST_NOT_REPORT' | 'MISSING_CNAME' | 'BYE_NOT_LAST';
  /** What is wrong and what to do, for logs. */
  readonly message: string;
}

/**
 * True when some SDES packet among `packets` carries a CNAME (for `source`, when given).
 *
 * @param packets - decoded or to-be-encoded packets
 * @param source - the SSRC whose CNAME is required; any source when omitted
 * @returns whether a CNAME is present
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.5.1 | RFC 3550 §6.5.1}
 */
export function hasCname(packets: readonly RtcpPacket[], source?: number): boolean {
  return packets.some((p) => p.type === 'sdes' && findCname(p, source) !== undefined);
}

/**
 * Checks the RFC 3550 §6.1 composition rules: an SR or RR first, an SDES with a CNAME, and any BYE last. The KOOK
 * emulator uses this to flag senders (ffmpeg among them) that send a bare SR.
 *
 * @param packets - the packets of one compound datagram
 * @returns the rules broken, empty when the compound is well-formed
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.1 | RFC 3550 §6.1}
 */
export function validateCompound(packets: readonly RtcpPacket[]): CompoundIssue[] {
  const first = packets[0];
  if (first === undefined) return [{ code: 'EMPTY', message: 'a compound RTCP packet needs at least one packet' }];
  const issues: CompoundIssue[] = [];
  if (first.type !== 'sr' && first.type !== 'rr') {
    issues.push({
      code: 'FIRST_NOT_REPORT',
      message: `a compound RTCP packet must start with an SR or RR, found ${first.type}`,
    });
  }
  if (!hasCname(packets)) {
    issues.push({ code: 'MISSING_CNAME', message: 'a compound RTCP packet must include an SDES packet with a CNAME item' });
  }
  const firstBye = packets.findIndex((p) => p.type === 'bye');
  if (firstBye >= 0 && packets.slice(firstBye + 1).some((p) => p.type !== 'bye')) {
    issues.push({ code: 'BYE_NOT_LAST', message: 'BYE must be the last packet of a compound RTCP packet' });
  }
  return issues;
}

function checkUnknown(p: { readonly packetType: number; readonly bytes: Uint8Array }): void {
  checkInteger(p.packetType, 0, 255, 'unknown RTCP packet type');
  let header;
  try {
    header = decodeRtcpHeader(p.bytes);
  } catch (cause) {
    throw new KookRtpError('INVALID_ARGUMENT', 'an unknown RTCP packet must hold a whole RTCP packet', { cause });
  }
  if (header.packetType !== p.packetType || (header.length + 1) * 4 !== p.bytes.length) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `an unknown RTCP packet's bytes must be one packet of type ${p.packetType} whose length field matches ` +
        `its ${p.bytes.length} bytes; found type ${header.packetType}, ${(header.length + 1) * 4} bytes`,
    );
  }
}

function packetSize(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr':
      return senderReportSize(p);
    case 'rr':
      return receiverReportSize(p);
    case 'sdes':
      return sourceDescriptionSize(p);
    case 'bye':
      return goodbyeSize(p);
    case 'app':
      return applicationDefinedSize(p);
    case 'unknown':
      checkUnknown(p);
      return p.bytes.length;
  }
}

function encodePacketInto(p: RtcpPacket, buf: Uint8Array, offset: number): number {
  switch (p.type) {
    case 'sr':
      return encodeSenderReportInto(p, buf, offset);
    case 'rr':
      return encodeReceiverReportInto(p, buf, offset);
    case 'sdes':
      return encodeSourceDescriptionInto(p, buf, offset);
    case 'bye':
      return encodeGoodbyeInto(p, buf, offset);
    case 'app':
      return encodeApplicationDefinedInto(p, buf, offset);
    case 'unknown':
      buf.set(p.bytes, offset);
      return p.bytes.length;
  }
}

/**
 * Encodes packets into one compound RTCP datagram (no padding is added).
 *
 * @param packets - the packets, in order
 * @param options - `strict` (default true) enforces {@link validateCompound}
 * @returns the datagram
 * @throws KookRtpError INVALID_RTCP when strict and a §6.1 rule is broken, or when `packets` is empty, or an
 *   `unknown` packet that is padded is not last; INVALID_ARGUMENT for a packet that cannot be encoded
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.1 | RFC 3550 §6.1}
 */
export function encodeCompound(packets: readonly RtcpPacket[], options: EncodeCompoundOptions = {}): Uint8Array {
  const issues = options.strict === false ? validateCompound(packets).filter((i) => i.code === 'EMPTY') : validateCompound(packets);
  if (issues.length > 0) {
    throw new KookRtpError('INVALID_RTCP', issues.map((i) => i.message).join('; '));
  }
  const sizes = packets.map(packetSize);
  packets.forEach((p, i) => {
    if (p.type === 'unknown' && i < packets.length - 1 && ((p.bytes[0] ?? 0) & 0x20) !== 0) {
      throw new KookRtpError('INVALID_RTCP', `packet ${i + 1} is padded but only the last packet of a compound may be`);
    }
  });
  const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const p of packets) at += encodePacketInto(p, buf, at);
  return buf;
}

function decodePacket(packetType: number, bytes: Uint8Array): RtcpPacket {
  switch (packetType) {
    case RTCP_SR:
      return { type: 'sr', ...decodeSenderReport(bytes) };
    case RTCP_RR:
      return { type: 'rr', ...decodeReceiverReport(bytes) };
    case RTCP_SDES:
      return { type: 'sdes', ...decodeSourceDescription(bytes) };
    case RTCP_BYE:
      return { type: 'bye', ...decodeGoodbye(bytes) };
    case RTCP_APP:
      return { type: 'app', ...decodeApplicationDefined(bytes) };
    default:
      return { type: 'unknown', packetType, bytes };
  }
}

/**
 * Splits a compound RTCP datagram into its packets and decodes each; packet types this module does not know
 * (RTPFB, PSFB, XR, ...) come back as `unknown`, skipped by their length field.
 *
 * @param bytes - one received datagram
 * @param options - `strict` (default true) also requires the first packet to be an SR or RR
 * @returns the packets in order; opaque parts are zero-copy subarrays of `bytes`
 * @throws KookRtpError PACKET_TOO_SHORT for an empty datagram, a header cut short, or a length running past the
 *   end; INVALID_VERSION when a packet's version is not 2; INVALID_RTCP when strict and the first packet is not SR
 *   or RR, when a packet other than the last is padded, or when a packet's content is malformed
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.2 | RFC 3550 appendix A.2}
 */
export function decodeCompound(bytes: Uint8Array, options: DecodeCompoundOptions = {}): RtcpPacket[] {
  if (bytes.length === 0) throw new KookRtpError('PACKET_TOO_SHORT', 'an RTCP datagram cannot be empty');
  const packets: RtcpPacket[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = decodeRtcpHeader(bytes, at);
    if (packets.length === 0 && options.strict !== false && header.packetType !== RTCP_SR && header.packetType !== RTCP_RR) {
      throw new KookRtpError(
        'INVALID_RTCP',
        `a compound RTCP packet must start with an SR (200) or RR (201), found packet type ${header.packetType}`,
      );
    }
    const total = (header.length + 1) * 4;
    if (at + total > bytes.length) {
      throw new KookRtpError(
        'PACKET_TOO_SHORT',
        `RTCP packet ${packets.length + 1} at offset ${at} declares ${total} bytes but only ${bytes.length - at} remain`,
      );
    }
    if (header.padding && at + total !== bytes.length) {
      throw new KookRtpError(
        'INVALID_RTCP',
        `RTCP packet ${packets.length + 1} at offset ${at} is padded but only the last packet of a compound may be`,
      );
    }
    packets.push(decodePacket(header.packetType, bytes.subarray(at, at + total)));
    at += total;
  }
  return packets;
}


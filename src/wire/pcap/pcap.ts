/**
 * libpcap capture files of UDP datagrams, for `--pcap FILE`: each payload is wrapped in a fake Ethernet + IPv4/IPv6
 * + UDP frame with correct lengths and checksums, so tshark/Wireshark decode it like a loopback capture
 * (`tshark -r FILE -d udp.port==PORT,rtp`).
 *
 * ```text
 * file header (24 bytes)              record header (16 bytes)          frame (LINKTYPE_ETHERNET)
 * magic a1b2c3d4 | 2 | 4 | 0 | 0 |    ts_sec | ts_usec | caplen | len    dst MAC 0 | src MAC 0 | ethertype
 * snaplen | linktype 1                                                  IPv4 (20) or IPv6 (40) | UDP (8) | payload
 * ```
 *
 * The writer uses microsecond timestamps (magic 0xa1b2c3d4, written little-endian like dumpcap on x86). The reader
 * takes both byte orders, microsecond and nanosecond magic, and the link types loopback captures use: Ethernet (1),
 * BSD null (0), raw IP (12, 101, 228, 229), Linux cooked SLL (113) and SLL2 (276). Not pcapng.
 *
 * @see {@link https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html | draft-ietf-opsawg-pcap} (file format),
 *   {@link https://www.tcpdump.org/linktypes.html | tcpdump link types},
 *   {@link https://www.rfc-editor.org/rfc/rfc768 | RFC 768} (UDP),
 *   {@link https://www.rfc-editor.org/rfc/rfc791 | RFC 791} (IPv4),
 *   {@link https://www.rfc-editor.org/rfc/rfc8200 | RFC 8200} (IPv6, UDP checksum §8.1)
 */
import { KookRtpError } from '../../errors.js';
import { formatIpAddress, internetChecksum, parseIpAddress } from './ip.js';

/** Link type of the frames the writer produces. */
export const LINKTYPE_ETHERNET = 1;
/** Size of the pcap file header. */
export const PCAP_FILE_HEADER_SIZE = 24;
/** Size of each pcap record header. */
export const PCAP_RECORD_HEADER_SIZE = 16;
/** The snapshot length the writer declares (dumpcap's default). */
export const PCAP_DEFAULT_SNAPLEN = 262144;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const ETHERNET_HEADER_SIZE = 14;
const IPV4_HEADER_SIZE = 20;
const IPV6_HEADER_SIZE = 40;
const UDP_HEADER_SIZE = 8;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IP_PROTOCOL_UDP = 17;
const MAX_UDP_PAYLOAD = 0xffff - UDP_HEADER_SIZE;

/** One end of a UDP flow. */
export interface PcapEndpoint {
  /** IPv4 dotted or IPv6 text; IPv6 is formatted canonically (RFC 5952) on decode. */
  readonly address: string;
  /** UDP port, 0-65535. */
  readonly port: number;
}

/** One captured UDP datagram. */
export interface PcapUdpRecord {
  /** Capture time in Unix milliseconds (fractional; stored with microsecond precision). */
  readonly timeMs: number;
  /** Sender. */
  readonly src: PcapEndpoint;
  /** Receiver. */
  readonly dst: PcapEndpoint;
  /** The UDP payload (an RTP or RTCP packet); a zero-copy subarray of the file on decode. */
  readonly payload: Uint8Array;
}

/** Options of {@link encodePcapRecord}. */
export interface PcapRecordOptions {
  /** IPv4 identification field; default 0 (the datagram is never fragmented: DF is set). */
  readonly ipId?: number;
}

/** A decoded capture file. */
export interface PcapFile {
  /** The file's link type (1 = Ethernet). */
  readonly linktype: number;
  /** Every complete, unfragmented UDP datagram, in file order. */
  readonly records: readonly PcapUdpRecord[];
  /** Records left out: not IPv4/IPv6 UDP (ARP, ICMP, TCP), IP fragments, or cut short by the snapshot length. */
  readonly skipped: number;
}

/**
 * The 24-byte pcap file header the writer uses.
 *
 * @param snaplen - the declared snapshot length; default {@link PCAP_DEFAULT_SNAPLEN}.
 * @returns magic 0xa1b2c3d4 (microseconds) little-endian, version 2.4, {@link LINKTYPE_ETHERNET}.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `snaplen` is not a positive 32-bit integer.
 */
export function encodePcapFileHeader(snaplen: number = PCAP_DEFAULT_SNAPLEN): Uint8Array {
  if (!Number.isInteger(snaplen) || snaplen <= 0 || snaplen > 0xffffffff) {
    throw new KookRtpError('INVALID_ARGUMENT', `pcap snaplen must be a positive 32-bit integer, found ${snaplen}`);
  }
  const out = new Uint8Array(PCAP_FILE_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_MICROS, true);
  view.setUint16(4, 2, true); // version major
  view.setUint16(6, 4, true); // version minor
  // 8: thiszone, 12: sigfigs: both 0
  view.setUint32(16, snaplen, true);
  view.setUint32(20, LINKTYPE_ETHERNET, true);
  return out;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} port must be 0-65535, found ${port}`);
  }
}

/**
 * One pcap record: record header + Ethernet (zero MACs) + IPv4 or IPv6 + UDP + payload, with checksums.
 *
 * @param record - the datagram; `src` and `dst` must be the same address family.
 * @param options - see {@link PcapRecordOptions}.
 * @returns the record bytes, to append after {@link encodePcapFileHeader}.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a bad address, port, time or a payload over 65527 bytes.
 * @remarks IPv4 gets TTL 64 and DF, IPv6 hop limit 64. A UDP checksum that computes to 0 is sent as 0xffff
 *   (RFC 768), since 0 means "no checksum".
 */
export function encodePcapRecord(record: PcapUdpRecord, options: PcapRecordOptions = {}): Uint8Array {
  const { timeMs, src, dst, payload } = record;
  if (!Number.isFinite(timeMs) || timeMs < 0 || timeMs / 1000 >= 0x100000000) {
    throw new KookRtpError('INVALID_ARGUMENT', `pcap record time must be Unix ms in the 32-bit second range, found ${timeMs}`);
  }
  checkPort('source', src.port);
  checkPort('destination', dst.port);
  if (payload.length > MAX_UDP_PAYLOAD) {
    throw new KookRtpError('INVALID_ARGUMENT', `UDP payload must be at most ${MAX_UDP_PAYLOAD} bytes, found ${payload.length}`);
  }
  const ipId = options.ipId ?? 0;
  if (!Number.isInteger(ipId) || ipId < 0 || ipId > 0xffff) {
    throw new KookRtpError('INVALID_ARGUMENT', `IPv4 identification must be 0-65535, found ${ipId}`);
  }
  const srcIp = parseIpAddress(src.address);
  const dstIp = parseIpAddress(dst.address);
  if (srcIp.length !== dstIp.length) {
    throw new KookRtpError('INVALID_ARGUMENT', `source ${src.address} and destination ${dst.address} must both be IPv4 or both IPv6`);
  }
  const v6 = srcIp.length === 16;
  const ipHeaderSize = v6 ? IPV6_HEADER_SIZE : IPV4_HEADER_SIZE;
  const udpLength = UDP_HEADER_SIZE + payload.length;
  const frameLength = ETHERNET_HEADER_SIZE + ipHeaderSize + udpLength;
  const out = new Uint8Array(PCAP_RECORD_HEADER_SIZE + frameLength);
  const view = new DataView(out.buffer);

  // Round to whole microseconds first so 999.9995 us carries into the next second instead of writing 1000000.
  const micros = Math.round(timeMs * 1000);
  view.setUint32(0, Math.floor(micros / 1e6), true);
  view.setUint32(4, micros % 1e6, true);
  view.setUint32(8, frameLength, true);
  view.setUint32(12, frameLength, true);

  const eth = PCAP_RECORD_HEADER_SIZE; // MACs stay zero, like a Linux loopback capture
  view.setUint16(eth + 12, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
  const ip = eth + ETHERNET_HEADER_SIZE;
  const udp = ip + ipHeaderSize;
  let pseudoHeader: Uint8Array;
  if (v6) {
    out[ip] = 0x60; // version 6, traffic class 0, flow label 0
    view.setUint16(ip + 4, udpLength);
    out[ip + 6] = IP_PROTOCOL_UDP;
    out[ip + 7] = 64;
    out.set(srcIp, ip + 8);
    out.set(dstIp, ip + 24);
    pseudoHeader = new Uint8Array(40);
    pseudoHeader.set(srcIp, 0);
    pseudoHeader.set(dstIp, 16);
    new DataView(pseudoHeader.buffer).setUint32(32, udpLength);
    pseudoHeader[39] = IP_PROTOCOL_UDP;
  } else {
    out[ip] = 0x45; // version 4, IHL 5 words
    view.setUint16(ip + 2, IPV4_HEADER_SIZE + udpLength);
    view.setUint16(ip + 4, ipId);
    view.setUint16(ip + 6, 0x4000); // DF, fragment offset 0
    out[ip + 8] = 64;
    out[ip + 9] = IP_PROTOCOL_UDP;
    out.set(srcIp, ip + 12);
    out.set(dstIp, ip + 16);
    view.setUint16(ip + 10, internetChecksum([out.subarray(ip, ip + IPV4_HEADER_SIZE)]));
    pseudoHeader = new Uint8Array(12);
    pseudoHeader.set(srcIp, 0);
    pseudoHeader.set(dstIp, 4);
    pseudoHeader[9] = IP_PROTOCOL_UDP;
    new DataView(pseudoHeader.buffer).setUint16(10, udpLength);
  }
  view.setUint16(udp, src.port);
  view.setUint16(udp + 2, dst.port);
  view.setUint16(udp + 4, udpLength);
  out.set(payload, udp + UDP_HEADER_SIZE);
  const checksum = internetChecksum([pseudoHeader, out.subarray(udp, udp + udpLength)]);
  view.setUint16(udp + 6, checksum === 0 ? 0xffff : checksum);
  return out;
}

/**
 * A whole capture file: the file header and one record per datagram.
 *
 * @param records - the datagrams in capture order.
 * @returns the file bytes.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` as {@link encodePcapRecord}.
 */
export function encodePcap(records: Iterable<PcapUdpRecord>): Uint8Array {
  const parts = [encodePcapFileHeader()];
  let total = PCAP_FILE_HEADER_SIZE;
  for (const r of records) {
    const part = encodePcapRecord(r);
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Where the IP packet starts in a frame of the given link type, and its family; undefined when not IP. */
function locateIp(linktype: number, frame: Uint8Array, view: DataView, littleEndian: boolean): { at: number; v6: boolean } | undefined {
  const byEthertype = (at: number, type: number): { at: number; v6: boolean } | undefined =>
    type === ETHERTYPE_IPV4 ? { at, v6: false } : type === ETHERTYPE_IPV6 ? { at, v6: true } : undefined;
  switch (linktype) {
    case 0: {
      // BSD loopback: a 4-byte address family in the capturing host's byte order (AF_INET 2; AF_INET6 24, 28 or 30).
      if (frame.length < 4) return undefined;
      const family = view.getUint32(0, littleEndian);
      if (family === 2) return { at: 4, v6: false };
      if (family === 24 || family === 28 || family === 30) return { at: 4, v6: true };
      return undefined;
    }
    case 1: {
      if (frame.length < ETHERNET_HEADER_SIZE) return undefined;
      let at = 12;
      let type = view.getUint16(at);
      while (type === ETHERTYPE_VLAN && frame.length >= at + 6) {
        at += 4;
        type = view.getUint16(at);
      }
      return byEthertype(at + 2, type);
    }
    case 12:
    case 101: {
      const version = (frame[0] ?? 0) >> 4;
      return version === 4 ? { at: 0, v6: false } : version === 6 ? { at: 0, v6: true } : undefined;
    }
    case 228:
      return { at: 0, v6: false };
    case 229:
      return { at: 0, v6: true };
    case 113:
      return frame.length < 16 ? undefined : byEthertype(16, view.getUint16(14));
    case 276:
      return frame.length < 20 ? undefined : byEthertype(20, view.getUint16(0));
    default:
      return undefined;
  }
}

/** Parses the IP + UDP headers of one frame; undefined when it is not a complete, unfragmented UDP datagram. */
function decodeUdpFrame(
  linktype: number,
  frame: Uint8Array,
  littleEndian: boolean,
  timeMs: number,
): PcapUdpRecord | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const loc = locateIp(linktype, frame, view, littleEndian);
  if (loc === undefined) return undefined;
  let udp: number;
  let ipEnd: number;
  let srcIp: Uint8Array;
  let dstIp: Uint8Array;
  const ip = loc.at;
  if (!loc.v6) {
    if (frame.length < ip + IPV4_HEADER_SIZE || frame[ip]! >> 4 !== 4) return undefined;
    const ihl = (frame[ip]! & 0x0f) * 4;
    const fragment = view.getUint16(ip + 6);
    // Fragments (MF set or a non-zero offset) cannot be decoded one by one.
    if (ihl < IPV4_HEADER_SIZE || frame[ip + 9] !== IP_PROTOCOL_UDP || (fragment & 0x3fff) !== 0) return undefined;
    ipEnd = ip + view.getUint16(ip + 2); // Ethernet pads short frames: trust the IP length, not the frame length
    udp = ip + ihl;
    srcIp = frame.subarray(ip + 12, ip + 16);
    dstIp = frame.subarray(ip + 16, ip + 20);
  } else {
    // Extension headers are not followed: loopback UDP has none.
    if (frame.length < ip + IPV6_HEADER_SIZE || frame[ip]! >> 4 !== 6 || frame[ip + 6] !== IP_PROTOCOL_UDP) return undefined;
    ipEnd = ip + IPV6_HEADER_SIZE + view.getUint16(ip + 4);
    udp = ip + IPV6_HEADER_SIZE;
    srcIp = frame.subarray(ip + 8, ip + 24);
    dstIp = frame.subarray(ip + 24, ip + 40);
  }
  if (ipEnd > frame.length || udp + UDP_HEADER_SIZE > ipEnd) return undefined;
  const udpLength = view.getUint16(udp + 4);
  if (udpLength < UDP_HEADER_SIZE || udp + udpLength > ipEnd) return undefined;
  return {
    timeMs,
    src: { address: formatIpAddress(srcIp), port: view.getUint16(udp) },
    dst: { address: formatIpAddress(dstIp), port: view.getUint16(udp + 2) },
    payload: frame.subarray(udp + UDP_HEADER_SIZE, udp + udpLength),
  };
}

/**
 * Reads the UDP datagrams of a pcap file.
 *
 * @param bytes - the whole file.
 * @returns the link type, the UDP records (payloads are zero-copy subarrays of `bytes`) and how many records were
 *   skipped (see {@link PcapFile.skipped}).
 * @throws {@link KookRtpError} `PACKET_TOO_SHORT` when the file header or a record is cut short; `INVALID_PACKET`
 *   for an unknown magic number (pcapng, or not a capture); `UNSUPPORTED_FORMAT` for a link type other than 0, 1, 12,
 *   101, 113, 228, 229 and 276.
 */
export function decodePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_FILE_HEADER_SIZE) {
    throw new KookRtpError('PACKET_TOO_SHORT', `pcap file header needs ${PCAP_FILE_HEADER_SIZE} bytes, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian: boolean;
  let nanos: boolean;
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  if (le === MAGIC_MICROS || le === MAGIC_NANOS) {
    littleEndian = true;
    nanos = le === MAGIC_NANOS;
  } else if (be === MAGIC_MICROS || be === MAGIC_NANOS) {
    littleEndian = false;
    nanos = be === MAGIC_NANOS;
  } else {
    throw new KookRtpError(
      'INVALID_PACKET',
      `not a pcap file: magic 0x${be.toString(16).padStart(8, '0')} (pcapng is not read; convert with editcap -F pcap)`,
    );
  }
  // The low 16 bits only: the top bits may carry FCS flags (draft-ietf-opsawg-pcap §4).
  const linktype = view.getUint32(20, littleEndian) & 0xffff;
  if (![0, 1, 12, 101, 113, 228, 229, 276].includes(linktype)) {
    throw new KookRtpError('UNSUPPORTED_FORMAT', `pcap link type ${linktype} is not supported; capture on loopback or Ethernet`);
  }
  const records: PcapUdpRecord[] = [];
  let skipped = 0;
  let at = PCAP_FILE_HEADER_SIZE;
  while (at < bytes.length) {
    if (bytes.length - at < PCAP_RECORD_HEADER_SIZE) {
      throw new KookRtpError('PACKET_TOO_SHORT', `pcap record header at offset ${at} is cut short`);
    }
    const seconds = view.getUint32(at, littleEndian);
    const fraction = view.getUint32(at + 4, littleEndian);
    const capturedLength = view.getUint32(at + 8, littleEndian);
    const originalLength = view.getUint32(at + 12, littleEndian);
    const start = at + PCAP_RECORD_HEADER_SIZE;
    if (bytes.length - start < capturedLength) {
      throw new KookRtpError('PACKET_TOO_SHORT', `pcap record at offset ${at} declares ${capturedLength} bytes, ${bytes.length - start} remain`);
    }
    at = start + capturedLength;
    const timeMs = seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3);
    const record =
      capturedLength < originalLength
        ? undefined
        : decodeUdpFrame(linktype, bytes.subarray(start, start + capturedLength), littleEndian, timeMs);
    if (record === undefined) skipped++;
    else records.push(record);
  }
  return { linktype, records, skipped };
}

/**
 * Just enough RTP and RTCP parsing for the benchmark receiver, written here on purpose rather than imported from
 * src/wire: the yardstick must not share code (or bugs) with the thing it measures.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-5.1 | RFC 3550 §5.1} (RTP fixed header)
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4 | RFC 3550 §6.4–6.6} (SR, RR, SDES, BYE)
 */

/** The RTP fields the benchmark looks at. */
export interface RtpSummary {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Fixed header + CSRCs + header extension, in bytes. */
  readonly headerLength: number;
  /** Payload bytes (the Opus packet), padding excluded. */
  readonly payloadLength: number;
}

/**
 * Reads the fixed RTP header (and skips CSRCs, the header extension and padding) of one datagram.
 *
 * @returns the summary, or `undefined` when the datagram is not a well-formed RTP version 2 packet.
 */
export function parseRtp(bytes: Uint8Array): RtpSummary | undefined {
  if (bytes.length < 12) return undefined;
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  if (b0 >> 6 !== 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength = 12 + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (bytes.length < headerLength + 4) return undefined;
    headerLength += 4 + 4 * view.getUint16(headerLength + 2);
  }
  let padding = 0;
  if (b0 & 0x20) padding = bytes[bytes.length - 1]!;
  const payloadLength = bytes.length - headerLength - padding;
  if (payloadLength < 0) return undefined;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    headerLength,
    payloadLength,
  };
}

/**
 * RFC 5761 §4 demultiplexing: a datagram on the RTP port whose second byte is 192–223 (RTCP packet types 192–223,
 * which as RTP would be marker + PT 64–95) is RTCP.
 */
export function isMuxedRtcp(bytes: Uint8Array): boolean {
  const b1 = bytes[1];
  return bytes.length >= 4 && b1 !== undefined && b1 >= 192 && b1 <= 223;
}

/** Counts of RTCP packet types found in compound datagrams. */
export interface RtcpCounts {
  /** RTCP datagrams seen (on the RTCP port, plus any muxed on the RTP port). */
  datagrams: number;
  /** Of those, datagrams that came on the RTP port (rtcp-mux, RFC 5761). */
  muxed: number;
  sr: number;
  rr: number;
  sdes: number;
  bye: number;
  app: number;
  /** Packets of any other type (RTPFB, PSFB, XR, ...). */
  other: number;
  /** Datagrams whose packet lengths did not add up, or that were not RTCP version 2. */
  malformed: number;
}

/** A zeroed {@link RtcpCounts}. */
export function emptyRtcpCounts(): RtcpCounts {
  return { datagrams: 0, muxed: 0, sr: 0, rr: 0, sdes: 0, bye: 0, app: 0, other: 0, malformed: 0 };
}

/**
 * Walks one (possibly compound) RTCP datagram and adds its packet types to `counts`. Stops at the first packet
 * whose header does not fit, counting the datagram as malformed (the packets before it still count).
 *
 * @returns `counts`, for chaining.
 */
export function countRtcp(bytes: Uint8Array, counts: RtcpCounts): RtcpCounts {
  counts.datagrams++;
  let offset = 0;
  if (bytes.length < 4) {
    counts.malformed++;
    return counts;
  }
  while (offset < bytes.length) {
    if (bytes.length - offset < 4 || bytes[offset]! >> 6 !== 2) {
      counts.malformed++;
      return counts;
    }
    const packetType = bytes[offset + 1]!;
    const length = 4 * (((bytes[offset + 2]! << 8) | bytes[offset + 3]!) + 1);
    if (offset + length > bytes.length) {
      counts.malformed++;
      return counts;
    }
    switch (packetType) {
      case 200: counts.sr++; break;
      case 201: counts.rr++; break;
      case 202: counts.sdes++; break;
      case 203: counts.bye++; break;
      case 204: counts.app++; break;
      default: counts.other++;
    }
    offset += length;
  }
  return counts;
}

/** What GNU time reports about a child process, in the format {@link GNU_TIME_FORMAT} asks for. */
export interface ProcessUsage {
  /** Wall-clock seconds. */
  readonly elapsedSeconds: number;
  /** User CPU seconds (10 ms resolution). */
  readonly userSeconds: number;
  /** System CPU seconds (10 ms resolution). */
  readonly systemSeconds: number;
  /** Peak resident set size in KiB. */
  readonly maxRssKiB: number;
  /** Exit status, or the signal number + 128 when killed (GNU time reports "Command terminated by signal N"). */
  readonly exitStatus: number;
}

/** `/usr/bin/time -f` format matching {@link parseGnuTime}: one tagged line, easy to find among other stderr. */
export const GNU_TIME_FORMAT = 'KOOKBENCH elapsed=%e user=%U sys=%S maxrss=%M exit=%x';

/**
 * Parses the output of `/usr/bin/time -f GNU_TIME_FORMAT` (the `-o` file, or stderr).
 *
 * @returns the usage, or `undefined` when the tagged line is missing. A line "Command terminated by signal N"
 * (GNU time's own, printed when the child is killed) sets the exit status to 128 + N.
 */
export function parseGnuTime(text: string): ProcessUsage | undefined {
  const m = /KOOKBENCH elapsed=([\d.]+) user=([\d.]+) sys=([\d.]+) maxrss=(\d+) exit=(-?\d+)/.exec(text);
  if (!m) return undefined;
  const signal = /Command terminated by signal (\d+)/.exec(text);
  return {
    elapsedSeconds: Number(m[1]),
    userSeconds: Number(m[2]),
    systemSeconds: Number(m[3]),
    maxRssKiB: Number(m[4]),
    exitStatus: signal ? 128 + Number(signal[1]) : Number(m[5]),
  };
}

/**
 * The sender's side of RTCP for one SSRC: building SR/RR + SDES(CNAME) compounds and BYE, the report interval, and
 * reading the far end's reports about us. Pure: time and counters are passed in; sending is the caller's job.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1} (SR)
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.3.1 | RFC 3550 §6.3.1} (interval randomization)
 */

import { randomBytes } from 'node:crypto';
import { KookRtpError } from '../errors.js';
import { roundTripTimeMs, unixMsToNtp } from '../wire/ntp.js';
import { decodeCompound, encodeCompound, type RtcpPacket } from '../wire/rtcp/compound.js';
import { reportBlockPlausibility } from '../wire/rtcp/plausibility.js';
import type { ReportBlock } from '../wire/rtcp/reportBlock.js';
import { SDES_CNAME } from '../wire/rtcp/sdes.js';

/** What the far end reported about our stream (one report block about our SSRC). */
export interface RemoteReport {
  /** Event tag. */
  readonly type: 'remoteReport';
  /** SSRC of the reporter. */
  readonly reporterSsrc: number;
  /** Whether the block came in an SR (the far end also sends) or an RR. */
  readonly in: 'sr' | 'rr';
  /** Fraction of our packets lost since its previous report, 0-1. */
  readonly fractionLost: number;
  /** Packets lost since the start (signed: duplicates can make it negative). */
  readonly cumulativeLost: number;
  /** Extended highest sequence number received. */
  readonly highestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  readonly jitter: number;
  /** The same jitter in ms. */
  readonly jitterMs: number;
  /** Round-trip time (A - LSR - DLSR), or undefined when the reporter has not seen an SR from us yet. */
  readonly rttMs: number | undefined;
  /** Wall-clock Unix ms when the report arrived. */
  readonly receivedAt: number;
  /** Why the figures cannot be true (see reportBlockPlausibility); empty for a plausible report. Flagged reports never become `lastRemoteReport`. */
  readonly implausible: readonly string[];
}

/** Options of {@link RtcpSession}. */
export interface RtcpSessionOptions {
  /** Our SSRC. */
  ssrc: number;
  /** SDES CNAME. Default: a random `kook-rtp-<hex>@localhost`-style name (RFC 7022 allows random CNAMEs). */
  cname?: string;
  /** Report interval in ms. Default 5000 (RFC 3550's minimum). */
  intervalMs?: number;
  /** Randomize the interval to [0.5, 1.5] x interval / (e - 3/2), as RFC 3550 §6.3.1 and A.7 do. Default false. */
  randomize?: boolean;
  /** RTP clock rate, Hz. Default 48000. */
  clockRate?: number;
  /** Random source in [0, 1) for randomization. Default `Math.random`. */
  random?: () => number;
}

/** The sender counters and clock mapping an SR needs, provided by the sender at report time. */
export interface SenderSnapshot {
  /** Wall-clock Unix ms of the report instant. */
  readonly wallMs: number;
  /** The RTP timestamp of that same instant. */
  readonly rtpTimestamp: number;
  /** Packets sent, mod 2^32. */
  readonly packetCount: number;
  /** Payload octets sent, mod 2^32. */
  readonly octetCount: number;
}

/** Counters of an {@link RtcpSession}. */
export interface RtcpCounters {
  /** SRs built. */
  readonly srSent: number;
  /** RRs built (while not sending for two intervals). */
  readonly rrSent: number;
  /** BYEs built. */
  readonly byeSent: number;
  /** RTCP bytes built. */
  readonly bytesSent: number;
  /** Compound packets received. */
  readonly received: number;
  /** Received packets that did not decode. */
  readonly malformed: number;
  /** Report blocks about our SSRC received. */
  readonly reportsReceived: number;
  /** BYEs received from the far end. */
  readonly byeReceived: number;
}

/** e - 3/2: compensates the average interval for the timer-reconsideration bias (RFC 3550 §6.3.1, A.7). */
const COMPENSATION = Math.E - 1.5;

/** Builds and reads RTCP for one sending SSRC; see the module comment. */
export class RtcpSession {
  /** Our SSRC. */
  readonly ssrc: number;
  /** Our CNAME. */
  readonly cname: string;
  /** Nominal interval, ms. */
  readonly intervalMs: number;
  readonly #randomize: boolean;
  readonly #random: () => number;
  readonly #clockRate: number;
  #srSent = 0;
  #rrSent = 0;
  #byeSent = 0;
  #bytes = 0;
  #received = 0;
  #malformed = 0;
  #reports = 0;
  #byeReceived = 0;
  #last: RemoteReport | undefined;
  #lastSr: { packetCount: number; wallMs: number } | undefined;

  /**
   * @param options - see {@link RtcpSessionOptions}.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a non-positive interval or an over-long CNAME.
   */
  constructor(options: RtcpSessionOptions) {
    this.ssrc = options.ssrc >>> 0;
    this.cname = options.cname ?? `kook-rtp-${randomBytes(6).toString('hex')}`;
    this.intervalMs = options.intervalMs ?? 5000;
    if (!(this.intervalMs > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `rtcp intervalMs must be > 0, found ${this.intervalMs}`);
    }
    if (Buffer.byteLength(this.cname) > 255) {
      throw new KookRtpError('INVALID_ARGUMENT', `CNAME must be at most 255 UTF-8 bytes, found ${Buffer.byteLength(this.cname)}`);
    }
    this.#randomize = options.randomize ?? false;
    this.#random = options.random ?? Math.random;
    this.#clockRate = options.clockRate ?? 48000;
  }

  /** The delay until the next regular report, ms (randomized when enabled). */
  nextIntervalMs(): number {
    if (!this.#randomize) return this.intervalMs;
    return (this.intervalMs * (this.#random() + 0.5)) / COMPENSATION;
  }

  /**
   * A report compound: SR + SDES(CNAME) when `sender` is given, else an empty RR + SDES(CNAME).
   *
   * @param sender - counters and clock mapping, or undefined when we have not sent RTP for two intervals (§6.4).
   * @returns the datagram.
   */
  buildReport(sender: SenderSnapshot | undefined): Uint8Array {
    return this.#build(sender, undefined);
  }

  /**
   * A goodbye compound: SR or RR + SDES(CNAME) + BYE (a BYE must follow a report, §6.1).
   *
   * @param sender - as for {@link RtcpSession.buildReport}.
   * @param reason - optional reason text.
   * @returns the datagram.
   */
  buildBye(sender: SenderSnapshot | undefined, reason?: string): Uint8Array {
    return this.#build(sender, reason ?? '');
  }

  /**
   * Reads a compound from the far end; returns the report blocks about our SSRC.
   *
   * @param bytes - one RTCP datagram.
   * @param wallMs - wall-clock Unix ms of its arrival (for the round-trip time).
   * @returns the reports about us (often one; empty for malformed input or reports about others).
   */
  receive(bytes: Uint8Array, wallMs: number): RemoteReport[] {
    this.#received++;
    let packets: RtcpPacket[];
    try {
      // Non-strict: accept reduced-size RTCP (RFC 5506) from servers that send bare RRs.
      packets = decodeCompound(bytes, { strict: false });
    } catch {
      this.#malformed++;
      return [];
    }
    const out: RemoteReport[] = [];
    for (const p of packets) {
      if (p.type === 'sr' || p.type === 'rr') {
        for (const block of p.reports) {
          if (block.ssrc >>> 0 !== this.ssrc) continue;
          out.push(this.#remote(p.type, p.ssrc, block, wallMs));
        }
      } else if (p.type === 'bye') {
        this.#byeReceived++;
      }
    }
    this.#reports += out.length;
    const last = out.filter((r) => r.implausible.length === 0).pop();
    if (last !== undefined) this.#last = last;
    return out;
  }

  /** The most recent report about us, if any. */
  get lastRemoteReport(): RemoteReport | undefined {
    return this.#last;
  }

  /** Counters. */
  counters(): RtcpCounters {
    return {
      srSent: this.#srSent,
      rrSent: this.#rrSent,
      byeSent: this.#byeSent,
      bytesSent: this.#bytes,
      received: this.#received,
      malformed: this.#malformed,
      reportsReceived: this.#reports,
      byeReceived: this.#byeReceived,
    };
  }

  #remote(kind: 'sr' | 'rr', reporter: number, b: ReportBlock, wallMs: number): RemoteReport {
    const rtt = b.lastSenderReport === 0 ? undefined : roundTripTimeMs(unixMsToNtp(wallMs), b.lastSenderReport, b.delaySinceLastSenderReport);
    return {
      type: 'remoteReport',
      reporterSsrc: reporter >>> 0,
      in: kind,
      fractionLost: b.fractionLost / 256,
      cumulativeLost: b.cumulativeLost,
      highestSequence: b.highestSequence,
      jitter: b.jitter,
      jitterMs: (b.jitter * 1000) / this.#clockRate,
      rttMs: rtt === undefined || Number.isNaN(rtt) ? undefined : rtt,
      receivedAt: wallMs,
      // Packets sent by now are at most those of our last SR plus one per 2.5 ms (Opus's shortest frame) since.
      implausible: reportBlockPlausibility(b, { rttMs: rtt, clockRate: this.#clockRate, packetsSent: this.#lastSr && this.#lastSr.packetCount + Math.ceil(Math.max(0, wallMs - this.#lastSr.wallMs) / 2.5) }).reasons,
    };
  }

  #build(sender: SenderSnapshot | undefined, byeReason: string | undefined): Uint8Array {
    const packets: RtcpPacket[] = [];
    if (sender !== undefined) {
      packets.push({
        type: 'sr',
        ssrc: this.ssrc,
        ntpTimestamp: unixMsToNtp(sender.wallMs),
        rtpTimestamp: sender.rtpTimestamp >>> 0,
        packetCount: sender.packetCount >>> 0,
        octetCount: sender.octetCount >>> 0,
        reports: [],
      });
      this.#lastSr = { packetCount: sender.packetCount >>> 0, wallMs: sender.wallMs };
      this.#srSent++;
    } else {
      packets.push({ type: 'rr', ssrc: this.ssrc, reports: [] });
      this.#rrSent++;
    }
    packets.push({ type: 'sdes', chunks: [{ source: this.ssrc, items: [{ type: SDES_CNAME, text: this.cname }] }] });
    if (byeReason !== undefined) {
      packets.push(byeReason === '' ? { type: 'bye', sources: [this.ssrc] } : { type: 'bye', sources: [this.ssrc], reason: byeReason });
      this.#byeSent++;
    }
    const bytes = encodeCompound(packets);
    this.#bytes += bytes.length;
    return bytes;
  }
}

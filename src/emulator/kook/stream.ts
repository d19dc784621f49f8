/**
 * One emulated KOOK media endpoint: the UDP side of a `voice/join`.
 *
 * Behaviour, after the seed's rules:
 * - Address binding: the first datagram's source ip:port owns the port; datagrams from any other source are dropped
 *   and counted (`droppedFromOtherSources`). With split RTCP the RTCP port binds its own first source the same way.
 * - Bitrate: every accepted RTP datagram's bytes (RTP header + payload, no UDP/IP) enter a sliding window
 *   (default 1 s). When a window exceeds `killRatio` (1.2) x the room bitrate the stream is closed at once: both
 *   sockets close (a connected sender then sees ICMP port-unreachable) and the report records `kicked`. Counting
 *   the RTP header means the reference ffmpeg push (-ab 48k, 20 ms frames) measures about 52.8 kbit/s in a
 *   48 kbit/s room: 110%, inside the limit.
 * - Reclaim: when neither an RTP packet nor a keep-alive arrived for `idleReclaimMs`, the address is reclaimed
 *   (closed, `reclaimed` recorded). RTCP alone does not keep a stream alive: it carries no media.
 * - RTCP: an SR (on the muxed port, or on the RTCP port when split) is answered at once with a compound RR + SDES
 *   (CNAME) to the SR's source, with the RFC 3550 statistics of the expected SSRC and LSR/DLSR for the SR, so the
 *   sender can compute the round-trip time. RTCP sent to the RTP port of a split session is ignored and counted.
 * - On the muxed port RTP and RTCP are told apart by the second byte (RFC 5761 §4).
 * - Packets whose SSRC or payload type differ from the ones join answered are counted (and the values recorded) but
 *   kept out of the sequence statistics and the level meter, as a receiver filtering on SSRC/PT would.
 * - Level: the Opus payloads are decoded (48 kHz stereo) and measured as RMS and peak in dBFS, full scale 32768:
 *   a full-scale square wave is 0 dBFS, a full-scale sine -3.01 dBFS.
 */
import { isIPv6 } from 'node:net';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createOpusDecoder, type OpusFrameDecoder } from '../../media/opus/decoder.js';
import { bindUdpListener, type UdpListener, type UdpPeer } from '../../transport/listener.js';
import { classifyPacket } from '../../wire/demux.js';
import { dlsrFromMs, ntpMiddle32 } from '../../wire/ntp.js';
import { decodeCompound, encodeCompound, validateCompound, type RtcpPacket } from '../../wire/rtcp/compound.js';
import { ReceiverStatistics } from '../../wire/rtcp/receiverStatistics.js';
import { decodeRtpPacket } from '../../wire/rtp/packet.js';
import { randomSsrc, seqDiff } from '../../wire/rtp/sequencer.js';
import { createWavWriter, type WavWriter } from './wav.js';

/** Why a stream ended. */
export type KookStreamCloseReason = 'leave' | 'rejoined' | 'closed' | 'kicked' | 'reclaimed';

/** The bitrate kill, as recorded in the report. */
export interface KookStreamKick {
  readonly reason: 'bitrate';
  /** The window's bitrate that crossed the line, bits/s (RTP header + payload). */
  readonly windowBitrate: number;
  /** The line: room bitrate x killRatio, bits/s. */
  readonly limit: number;
  /** When, Unix ms. */
  readonly atMs: number;
}

/** The idle reclaim, as recorded in the report. */
export interface KookStreamReclaim {
  readonly reason: 'idle';
  /** Time since the last RTP packet or keep-alive, ms. */
  readonly idleMs: number;
  /** When, Unix ms. */
  readonly atMs: number;
}

/** RTCP seen and sent on one stream. */
export interface KookStreamRtcpReport {
  /** Compound RTCP datagrams accepted. */
  readonly packets: number;
  /** Sender reports received. */
  readonly srs: number;
  /** Receiver reports received from the sender. */
  readonly rrs: number;
  /** SDES packets received. */
  readonly sdes: number;
  /** The sender's CNAME, once an SDES carried one. */
  readonly cname: string | null;
  /** BYE packets received. */
  readonly byes: number;
  /** The last BYE's reason, if it gave one. */
  readonly byeReason: string | null;
  /** RR+SDES answers sent. */
  readonly rrsSent: number;
  /** Datagrams that failed to decode as RTCP. */
  readonly malformed: number;
  /** Compounds that broke an RFC 3550 §6.1 rule (e.g. ffmpeg's bare SR without SDES). */
  readonly compoundIssues: number;
  /** RTCP sent to the RTP port of a non-muxed session (ignored). */
  readonly onWrongPort: number;
}

/** The JSON report of one stream; a snapshot while live, final once `endedAt` is set. */
export interface KookStreamReport {
  readonly channelId: string;
  /** The SSRC join answered (what packets must carry). */
  readonly ssrc: number;
  /** The payload type join answered. */
  readonly payloadType: number;
  /** The room bitrate, bits/s, and the kill ratio applied to it. */
  readonly bitrate: number;
  readonly killRatio: number;
  readonly rtcpMux: boolean;
  /** The UDP ports handed out (equal when muxed). */
  readonly port: number;
  readonly rtcpPort: number;
  /** The bound source `ip:port`, null before the first datagram. */
  readonly source: string | null;
  /** The bound RTCP source of a split session. */
  readonly rtcpSource: string | null;
  /** RTP datagrams accepted from the bound source (all SSRCs), and their bytes (header + payload). */
  readonly packets: number;
  readonly bytes: number;
  /** Packets with the expected SSRC and PT that fed the statistics. */
  readonly validPackets: number;
  /** Expected minus distinct packets received (duplicates not credited, unlike the RR's cumulative loss). */
  readonly lost: number;
  /** Packets expected from the lowest to the highest sequence number seen (extended across wrap). */
  readonly expected: number;
  readonly duplicates: number;
  /** Packets older than one already received (and not duplicates). */
  readonly outOfOrder: number;
  /** Interarrival jitter (A.8), ms. */
  readonly jitterMs: number;
  /** Highest bitrate of any sliding window, bits/s. */
  readonly maxBitrate1s: number;
  /** Mean bitrate from first to last packet, bits/s. */
  readonly meanBitrate: number;
  readonly markerPackets: number;
  /** Datagrams that were neither valid RTP nor RTCP. */
  readonly malformed: number;
  readonly rtcp: KookStreamRtcpReport;
  readonly droppedFromOtherSources: number;
  readonly ssrcMismatches: number;
  readonly ptMismatches: number;
  /** Distinct wrong SSRCs / PTs seen (at most 16 each). */
  readonly mismatchedSsrcs: readonly number[];
  readonly mismatchedPts: readonly number[];
  /** RMS level of the decoded audio, dBFS (square-wave reference), floored at -120; null before any audio. */
  readonly levelDbfs: number | null;
  /** Peak sample, dBFS, floored at -120; null before any audio. */
  readonly peakDbfs: number | null;
  readonly decodedFrames: number;
  readonly decodeErrors: number;
  /** The WAV written, when `wavDir` was set. */
  readonly wavPath: string | null;
  readonly keepAlives: number;
  readonly kicked?: KookStreamKick;
  readonly reclaimed?: KookStreamReclaim;
  /** Null while live. */
  readonly closeReason: KookStreamCloseReason | null;
  /** Unix ms. */
  readonly startedAt: number;
  readonly firstPacketAt: number | null;
  readonly lastPacketAt: number | null;
  readonly endedAt: number | null;
}

/** Events a stream emits (each payload carries its channel id). */
export interface KookStreamEvents {
  /** One RTP packet accepted from the bound source. */
  packet: {
    readonly channelId: string;
    readonly sequenceNumber: number;
    readonly timestamp: number;
    readonly ssrc: number;
    readonly payloadType: number;
    readonly marker: boolean;
    readonly bytes: number;
    readonly arrivalMs: number;
  };
  /** An RTCP compound arrived (decoded). */
  rtcp: { readonly channelId: string; readonly packets: readonly RtcpPacket[] };
  /** A BYE arrived. */
  bye: { readonly channelId: string; readonly sources: readonly number[]; readonly reason: string | null };
  /** A datagram from a second source was dropped. */
  dropped: { readonly channelId: string; readonly from: string };
  /** The stream went over the bitrate limit and was closed. */
  kicked: { readonly channelId: string; readonly report: KookStreamReport };
  /** The stream was idle too long and its address reclaimed. */
  reclaimed: { readonly channelId: string; readonly report: KookStreamReport };
  /** The stream ended, for any reason (after `kicked`/`reclaimed`/`leave`). */
  closed: { readonly channelId: string; readonly reason: KookStreamCloseReason; readonly report: KookStreamReport };
}

/** Construction parameters of {@link KookMediaEndpoint}; the emulator fills them from its options. */
export interface KookMediaEndpointConfig {
  readonly channelId: string;
  readonly host: string;
  readonly rtcpMux: boolean;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly bitrate: number;
  readonly killRatio: number;
  readonly windowMs: number;
  readonly idleReclaimMs: number;
  readonly decodeAudio: boolean;
  readonly wavDir?: string;
  /** Event sink. */
  readonly emit: <E extends keyof KookStreamEvents>(event: E, payload: KookStreamEvents[E]) => void;
  /** Called when the stream closes itself (kicked, reclaimed), before the events. */
  readonly onSelfClose: (stream: KookMediaEndpoint) => void;
}

const LEVEL_FLOOR_DBFS = -120;
const MAX_RECORDED_MISMATCHES = 16;

function endpointOf(r: UdpPeer): string {
  return isIPv6(r.address) ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}

function toDbfs(ratio: number, power: boolean): number {
  if (ratio <= 0) return LEVEL_FLOOR_DBFS;
  const db = (power ? 10 : 20) * Math.log10(ratio);
  return Math.max(LEVEL_FLOOR_DBFS, Math.round(db * 100) / 100);
}

/**
 * A UDP media endpoint with its statistics; see the module notes for the rules it enforces.
 */
export class KookMediaEndpoint {
  /** The SSRC packets must carry. */
  readonly ssrc: number;
  readonly #cfg: KookMediaEndpointConfig;
  readonly #receiverSsrc: number;
  readonly #stats = new ReceiverStatistics({ clockRate: 48_000 });
  #bitrate: number;
  #rtp: UdpListener | undefined;
  #rtcpSock: UdpListener | undefined;
  #port = 0;
  #rtcpPort = 0;
  #source: string | null = null;
  #rtcpSource: string | null = null;
  #live = true;
  #closing: Promise<KookStreamReport> | undefined;
  #final: KookStreamReport | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActivity = performance.now();

  // Sliding bitrate window: parallel ring of arrival times and sizes.
  #winTimes: number[] = [];
  #winSizes: number[] = [];
  #winHead = 0;
  #winBytes = 0;

  #packets = 0;
  #bytes = 0;
  #firstBytes = 0;
  #validPackets = 0;
  #outOfOrder = 0;
  #highestSeq: number | undefined;
  /** Extended sequence span seen, relative to the first valid packet (which is 0). */
  #highestExt = 0;
  #lowestExt = 0;
  #maxBitrate = 0;
  #markers = 0;
  #malformed = 0;
  #dropped = 0;
  #ssrcMismatches = 0;
  #ptMismatches = 0;
  #badSsrcs = new Set<number>();
  #badPts = new Set<number>();
  #firstArrival: number | undefined;
  #lastArrival: number | undefined;
  #firstPacketAt: number | null = null;
  #lastPacketAt: number | null = null;
  #keepAlives = 0;
  #kicked: KookStreamKick | undefined;
  #reclaimed: KookStreamReclaim | undefined;
  readonly #startedAt = Date.now();

  #rtcp = {
    packets: 0,
    srs: 0,
    rrs: 0,
    sdes: 0,
    cname: null as string | null,
    byes: 0,
    byeReason: null as string | null,
    rrsSent: 0,
    malformed: 0,
    compoundIssues: 0,
    onWrongPort: 0,
  };
  #lastSr: { middle: number; arrival: number } | undefined;

  #decoder: OpusFrameDecoder | undefined;
  #sumSquares = 0;
  #sampleCount = 0;
  #peak = 0;
  #decodedFrames = 0;
  #decodeErrors = 0;
  #wav: WavWriter | undefined;

  /** @param cfg - see {@link KookMediaEndpointConfig}. */
  constructor(cfg: KookMediaEndpointConfig) {
    this.#cfg = cfg;
    this.ssrc = cfg.ssrc;
    this.#bitrate = cfg.bitrate;
    let mine = randomSsrc();
    while (mine === cfg.ssrc) mine = randomSsrc();
    this.#receiverSsrc = mine;
  }

  /** The RTP port (bound after {@link start}). */
  get port(): number {
    return this.#port;
  }

  /** The RTCP port: the RTP port when muxed. */
  get rtcpPort(): number {
    return this.#rtcpPort;
  }

  /** Binds the socket(s), opens the WAV and arms the idle timer. */
  async start(): Promise<void> {
    const type = isIPv6(this.#cfg.host) ? 'udp6' : 'udp4';
    this.#rtp = await bindUdpListener(type, this.#cfg.host, (msg, r) => this.#onRtpPort(msg, r));
    this.#port = this.#rtp.port;
    if (this.#cfg.rtcpMux) {
      this.#rtcpPort = this.#port;
    } else {
      this.#rtcpSock = await bindUdpListener(type, this.#cfg.host, (msg, r) => this.#onRtcpPort(msg, r));
      this.#rtcpPort = this.#rtcpSock.port;
    }
    if (this.#cfg.decodeAudio) {
      this.#decoder = createOpusDecoder();
      if (this.#cfg.wavDir !== undefined) {
        const name = `kook-${this.#cfg.channelId.replace(/[^\w.-]/g, '_')}-${this.ssrc}-${this.#startedAt}.wav`;
        this.#wav = await createWavWriter(joinPath(this.#cfg.wavDir, name), { sampleRate: 48_000, channels: 2 });
      }
    }
    this.#idleTimer = setTimeout(() => this.#checkIdle(), this.#cfg.idleReclaimMs);
    this.#idleTimer.unref();
  }

  /** A keep-alive call: postpones the reclaim. */
  keepAlive(): void {
    if (!this.#live) return;
    this.#keepAlives++;
    this.#touch();
  }

  /** Changes the room bitrate (the kill line follows). */
  setBitrate(bitrate: number): void {
    this.#bitrate = bitrate;
  }

  /**
   * Closes the endpoint and finalises the report. Idempotent: later calls resolve with the same report.
   *
   * @param reason - why it ends.
   */
  close(reason: KookStreamCloseReason): Promise<KookStreamReport> {
    this.#closing ??= this.#finish(reason);
    return this.#closing;
  }

  /** The report: final once closed, else a snapshot. */
  report(): KookStreamReport {
    return this.#final ?? this.#snapshot(null, null);
  }

  async #finish(reason: KookStreamCloseReason): Promise<KookStreamReport> {
    this.#live = false;
    clearTimeout(this.#idleTimer);
    this.#rtp?.close();
    this.#rtcpSock?.close();
    let wavPath: string | null = null;
    if (this.#wav !== undefined) {
      try {
        await this.#wav.close();
        wavPath = this.#wav.path;
      } catch {
        wavPath = null;
      }
    }
    this.#decoder?.close();
    this.#final = this.#snapshot(reason, Date.now(), wavPath);
    this.#cfg.emit('closed', { channelId: this.#cfg.channelId, reason, report: this.#final });
    return this.#final;
  }

  #selfClose(reason: 'kicked' | 'reclaimed'): void {
    if (this.#closing !== undefined) return;
    this.#cfg.onSelfClose(this);
    this.close(reason)
      .then((report) => {
        this.#cfg.emit(reason, { channelId: this.#cfg.channelId, report });
      })
      .catch(() => {
        // Closing never rejects by design (the WAV close is caught); a throwing event listener must not become an
        // unhandled rejection in the emulator's process.
      });
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }

  #checkIdle(): void {
    if (!this.#live) return;
    const idle = performance.now() - this.#lastActivity;
    const left = this.#cfg.idleReclaimMs - idle;
    if (left > 1) {
      // Activity since the timer was armed: sleep for the rest (cheaper than re-arming per packet).
      this.#idleTimer = setTimeout(() => this.#checkIdle(), left);
      this.#idleTimer.unref();
      return;
    }
    this.#reclaimed = { reason: 'idle', idleMs: Math.round(idle), atMs: Date.now() };
    this.#selfClose('reclaimed');
  }

  /** First-source binding; returns false (and counts) for a datagram from anyone else. */
  #admit(r: UdpPeer, which: 'rtp' | 'rtcp'): boolean {
    const from = endpointOf(r);
    const bound = which === 'rtp' ? this.#source : this.#rtcpSource;
    if (bound === null) {
      if (which === 'rtp') this.#source = from;
      else this.#rtcpSource = from;
      return true;
    }
    if (bound === from) return true;
    this.#dropped++;
    this.#cfg.emit('dropped', { channelId: this.#cfg.channelId, from });
    return false;
  }

  #onRtpPort(msg: Buffer, r: UdpPeer): void {
    if (!this.#live || !this.#admit(r, 'rtp')) return;
    const kind = classifyPacket(msg);
    if (kind === 'rtcp') {
      if (this.#cfg.rtcpMux) this.#onRtcp(msg, r, this.#rtp);
      else this.#rtcp.onWrongPort++;
      return;
    }
    if (kind !== 'rtp') {
      this.#malformed++;
      return;
    }
    this.#onRtp(msg);
  }

  #onRtcpPort(msg: Buffer, r: UdpPeer): void {
    if (!this.#live || !this.#admit(r, 'rtcp')) return;
    this.#onRtcp(msg, r, this.#rtcpSock);
  }

  #onRtp(msg: Buffer): void {
    let packet;
    try {
      packet = decodeRtpPacket(msg);
    } catch {
      this.#malformed++;
      return;
    }
    const arrival = performance.now();
    const wall = Date.now();
    this.#packets++;
    this.#bytes += msg.length;
    if (this.#firstArrival === undefined) {
      this.#firstArrival = arrival;
      this.#firstBytes = msg.length;
      this.#firstPacketAt = wall;
    }
    this.#lastArrival = arrival;
    this.#lastPacketAt = wall;
    this.#touch();
    if (packet.marker) this.#markers++;
    this.#cfg.emit('packet', {
      channelId: this.#cfg.channelId,
      sequenceNumber: packet.sequenceNumber,
      timestamp: packet.timestamp,
      ssrc: packet.ssrc,
      payloadType: packet.payloadType,
      marker: packet.marker,
      bytes: msg.length,
      arrivalMs: wall,
    });
    if (this.#meter(arrival, msg.length)) return;

    let mismatch = false;
    if (packet.ssrc !== this.ssrc) {
      this.#ssrcMismatches++;
      if (this.#badSsrcs.size < MAX_RECORDED_MISMATCHES) this.#badSsrcs.add(packet.ssrc);
      mismatch = true;
    }
    if (packet.payloadType !== this.#cfg.payloadType) {
      this.#ptMismatches++;
      if (this.#badPts.size < MAX_RECORDED_MISMATCHES) this.#badPts.add(packet.payloadType);
      mismatch = true;
    }
    if (mismatch) return;

    this.#validPackets++;
    const dupsBefore = this.#stats.duplicates;
    this.#stats.receive(packet.sequenceNumber, packet.timestamp, arrival);
    const duplicate = this.#stats.duplicates > dupsBefore;
    if (this.#highestSeq === undefined) {
      this.#highestSeq = packet.sequenceNumber;
    } else {
      const d = seqDiff(packet.sequenceNumber, this.#highestSeq);
      if (d > 0) {
        this.#highestSeq = packet.sequenceNumber;
        this.#highestExt += d;
      } else if (d < 0) {
        if (!duplicate) this.#outOfOrder++;
        // A packet older than the first one widens the expected range backwards.
        this.#lowestExt = Math.min(this.#lowestExt, this.#highestExt + d);
      }
    }
    if (!duplicate) this.#measure(packet.payload);
  }

  /** Adds a packet to the sliding window; kicks the stream and returns true when the window passes the line. */
  #meter(arrival: number, size: number): boolean {
    this.#winTimes.push(arrival);
    this.#winSizes.push(size);
    this.#winBytes += size;
    const horizon = arrival - this.#cfg.windowMs;
    while (this.#winHead < this.#winTimes.length && this.#winTimes[this.#winHead]! <= horizon) {
      this.#winBytes -= this.#winSizes[this.#winHead]!;
      this.#winHead++;
    }
    if (this.#winHead > 1024) {
      // Compact now and then instead of shifting per packet.
      this.#winTimes = this.#winTimes.slice(this.#winHead);
      this.#winSizes = this.#winSizes.slice(this.#winHead);
      this.#winHead = 0;
    }
    const windowBitrate = (this.#winBytes * 8 * 1000) / this.#cfg.windowMs;
    if (windowBitrate > this.#maxBitrate) this.#maxBitrate = windowBitrate;
    const limit = this.#bitrate * this.#cfg.killRatio;
    if (windowBitrate > limit) {
      this.#kicked = { reason: 'bitrate', windowBitrate: Math.round(windowBitrate), limit: Math.round(limit), atMs: Date.now() };
      this.#selfClose('kicked');
      return true;
    }
    return false;
  }

  #measure(payload: Uint8Array): void {
    if (this.#decoder === undefined || payload.length === 0) return;
    let pcm: Int16Array;
    try {
      pcm = this.#decoder.decode(payload);
    } catch {
      this.#decodeErrors++;
      return;
    }
    this.#decodedFrames++;
    let sum = 0;
    let peak = this.#peak;
    for (let i = 0; i < pcm.length; i++) {
      const v = pcm[i]!;
      sum += v * v;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
    }
    this.#sumSquares += sum;
    this.#sampleCount += pcm.length;
    this.#peak = peak;
    this.#wav?.write(pcm);
  }

  #onRtcp(msg: Buffer, r: UdpPeer, socket: UdpListener | undefined): void {
    let packets: RtcpPacket[];
    try {
      packets = decodeCompound(msg, { strict: false });
    } catch {
      this.#rtcp.malformed++;
      return;
    }
    this.#rtcp.packets++;
    if (validateCompound(packets).length > 0) this.#rtcp.compoundIssues++;
    this.#cfg.emit('rtcp', { channelId: this.#cfg.channelId, packets });
    let answerSr: { ssrc: number } | undefined;
    for (const p of packets) {
      switch (p.type) {
        case 'sr':
          this.#rtcp.srs++;
          this.#lastSr = { middle: ntpMiddle32(p.ntpTimestamp), arrival: performance.now() };
          answerSr = { ssrc: p.ssrc };
          break;
        case 'rr':
          this.#rtcp.rrs++;
          break;
        case 'sdes': {
          this.#rtcp.sdes++;
          for (const chunk of p.chunks) {
            const cname = chunk.items.find((i) => i.type === 1);
            if (cname !== undefined) this.#rtcp.cname = cname.text;
          }
          break;
        }
        case 'bye':
          this.#rtcp.byes++;
          this.#rtcp.byeReason = p.reason ?? null;
          this.#cfg.emit('bye', { channelId: this.#cfg.channelId, sources: p.sources, reason: p.reason ?? null });
          break;
        default:
          break;
      }
    }
    if (answerSr !== undefined && socket !== undefined) this.#answer(answerSr.ssrc, r, socket);
  }

  /** Sends RR + SDES to the SR's source. */
  #answer(senderSsrc: number, to: UdpPeer, socket: UdpListener): void {
    const sr = this.#lastSr;
    const lsr = sr?.middle ?? 0;
    const dlsr = sr === undefined ? 0 : dlsrFromMs(performance.now() - sr.arrival);
    const block = this.#stats.reportBlock(senderSsrc, lsr, dlsr);
    const bytes = encodeCompound([
      { type: 'rr', ssrc: this.#receiverSsrc, reports: [block] },
      { type: 'sdes', chunks: [{ source: this.#receiverSsrc, items: [{ type: 1, text: `kook-emulator@${this.#cfg.host}` }] }] },
    ]);
    socket.sendTo(bytes, to, (err) => {
      if (err === null) this.#rtcp.rrsSent++;
    });
  }

  #snapshot(reason: KookStreamCloseReason | null, endedAt: number | null, wavPath: string | null = null): KookStreamReport {
    const st = this.#stats;
    // Counted from the first packet: the RFC counters (used in RRs) skip the A.1 probation packet.
    const expected = this.#highestSeq === undefined ? 0 : this.#highestExt - this.#lowestExt + 1;
    const distinct = this.#validPackets - st.duplicates;
    const duration = this.#firstArrival !== undefined && this.#lastArrival !== undefined ? this.#lastArrival - this.#firstArrival : 0;
    // The first packet opens the interval; counting its bytes over (last - first) would overstate the rate.
    const meanBitrate = duration > 0 ? Math.round(((this.#bytes - this.#firstBytes) * 8 * 1000) / duration) : 0;
    const hasAudio = this.#sampleCount > 0;
    return {
      channelId: this.#cfg.channelId,
      ssrc: this.ssrc,
      payloadType: this.#cfg.payloadType,
      bitrate: this.#bitrate,
      killRatio: this.#cfg.killRatio,
      rtcpMux: this.#cfg.rtcpMux,
      port: this.#port,
      rtcpPort: this.#rtcpPort,
      source: this.#source,
      rtcpSource: this.#rtcpSource,
      packets: this.#packets,
      bytes: this.#bytes,
      validPackets: this.#validPackets,
      lost: Math.max(0, expected - distinct),
      expected,
      duplicates: st.duplicates,
      outOfOrder: this.#outOfOrder,
      jitterMs: Math.round(st.jitterMs * 1000) / 1000,
      maxBitrate1s: Math.round(this.#maxBitrate),
      meanBitrate,
      markerPackets: this.#markers,
      malformed: this.#malformed,
      rtcp: { ...this.#rtcp },
      droppedFromOtherSources: this.#dropped,
      ssrcMismatches: this.#ssrcMismatches,
      ptMismatches: this.#ptMismatches,
      mismatchedSsrcs: [...this.#badSsrcs],
      mismatchedPts: [...this.#badPts],
      levelDbfs: hasAudio ? toDbfs(this.#sumSquares / this.#sampleCount / (32768 * 32768), true) : null,
      peakDbfs: hasAudio ? toDbfs(this.#peak / 32768, false) : null,
      decodedFrames: this.#decodedFrames,
      decodeErrors: this.#decodeErrors,
      wavPath: wavPath ?? (this.#wav !== undefined && this.#final === undefined ? this.#wav.path : null),
      keepAlives: this.#keepAlives,
      ...(this.#kicked === undefined ? {} : { kicked: this.#kicked }),
      ...(this.#reclaimed === undefined ? {} : { reclaimed: this.#reclaimed }),
      closeReason: reason,
      startedAt: this.#startedAt,
      firstPacketAt: this.#firstPacketAt,
      lastPacketAt: this.#lastPacketAt,
      endedAt,
    };
  }
}


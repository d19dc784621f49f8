/**
 * Turns what the benchmark receiver recorded (arrival time and parsed header of every RTP datagram) into the
 * figures the comparison prints. Pure: the receiver collects, this computes, the tests check it with made-up
 * streams.
 */
import type { RtcpCounts, RtpSummary } from './packets.js';
import {
  binSums,
  gaps,
  interarrivalJitter,
  IPV4_UDP_OVERHEAD,
  maxWindowSum,
  percentile,
  sequenceStats,
  timestampDelta,
  type SequenceStats,
} from './stats.js';

/** One RTP datagram as the receiver saw it. */
export interface RtpArrival {
  /** Arrival time in nanoseconds, relative to any fixed origin (the receiver uses its first datagram). */
  readonly t: number;
  /** UDP payload length: RTP header + Opus payload (+ padding). */
  readonly length: number;
  readonly rtp: RtpSummary;
}

/** The same figure counted three ways. */
export interface ByLayer {
  /** Opus payload bytes only. */
  readonly payload: number;
  /** RTP datagram bytes: header + payload (what a UDP socket sends). */
  readonly rtp: number;
  /** RTP bytes + 28 (IPv4 + UDP headers): what crosses the wire. */
  readonly ip: number;
}

/** Everything measured about one received RTP stream. */
export interface StreamAnalysis {
  readonly packets: number;
  readonly markers: number;
  readonly ssrcs: readonly number[];
  readonly payloadTypes: readonly number[];
  readonly bytes: ByLayer;
  /** Seconds from the first to the last arrival. */
  readonly spanSeconds: number;
  /** Seconds of audio the RTP timestamps cover (last - first + one frame, at the clock rate). */
  readonly mediaSeconds: number;
  /** Mean bitrate over the arrival span, bits/s. */
  readonly meanBps: ByLayer;
  /** Worst 1 s sliding window, bits/s. */
  readonly worstWindowBps: ByLayer;
  /**
   * Worst 1 s window of RTP bytes over MEDIA time (RTP timestamps) instead of arrival time, bits/s: what the
   * encoder produced, free of pacing bursts and of scheduling noise at the receiver.
   */
  readonly worstMediaWindowRtpBps: number;
  /** When the worst RTP-bytes window closed, seconds after the first arrival. */
  readonly worstWindowAtSeconds: number;
  /** RTP bytes per complete 1 s bin from the first arrival, bits/s (the chart's series). */
  readonly perSecondRtpBps: readonly number[];
  /** Inter-arrival gaps, ms. */
  readonly gapMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly min: number };
  /** RFC 3550 A.8 jitter at the end of the stream, and the largest the running estimate reached, ms. */
  readonly jitterMs: number;
  readonly jitterMaxMs: number;
  readonly sequence: SequenceStats;
}

const NS_PER_S = 1e9;

/**
 * Analyses one received RTP stream.
 *
 * @param arrivals - in arrival order.
 * @param clockRate - RTP clock rate (48000 for Opus).
 * @param windowNs - sliding-window and bin width (1 s by default).
 */
export function analyzeStream(arrivals: readonly RtpArrival[], clockRate = 48_000, windowNs = NS_PER_S): StreamAnalysis {
  const times = arrivals.map((a) => a.t);
  const payload = arrivals.map((a) => a.rtp.payloadLength);
  const rtp = arrivals.map((a) => a.length);
  const ip = arrivals.map((a) => a.length + IPV4_UDP_OVERHEAD);
  const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
  const bytes: ByLayer = { payload: sum(payload), rtp: sum(rtp), ip: sum(ip) };
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const spanSeconds = (last - first) / NS_PER_S;
  const toBps = (b: number, seconds: number): number => (seconds > 0 ? (b * 8) / seconds : Number.NaN);
  const windowSeconds = windowNs / NS_PER_S;
  const worstRtp = maxWindowSum(times, rtp, windowNs);
  const gapList = gaps(times).map((g) => g / 1e6);
  const jitter = interarrivalJitter(
    times.map((t) => t / NS_PER_S),
    arrivals.map((a) => a.rtp.timestamp),
    clockRate,
  );
  // Media span: timestamps extended across a wrap through consecutive deltas, plus the last frame's duration
  // estimated from the most common step.
  let mediaUnits = 0;
  const steps: number[] = [];
  for (let i = 1; i < arrivals.length; i++) {
    const d = (arrivals[i]!.rtp.timestamp - arrivals[i - 1]!.rtp.timestamp) >>> 0;
    if (d < 0x8000_0000) {
      mediaUnits += d;
      steps.push(d);
    }
  }
  const frame = steps.length > 0 ? percentile(steps, 50) : 0;
  // Media time of each packet: its timestamp's signed distance from the first one, in ns; sorted, since a
  // reordered packet arrives out of media order.
  const ts0 = arrivals[0]?.rtp.timestamp ?? 0;
  const byMedia = arrivals
    .map((a) => ({ t: (timestampDelta(a.rtp.timestamp, ts0) / clockRate) * NS_PER_S, bytes: a.length }))
    .sort((p, q) => p.t - q.t);
  const worstMedia = maxWindowSum(byMedia.map((p) => p.t), byMedia.map((p) => p.bytes), windowNs);
  const mediaSeconds = arrivals.length > 0 ? (mediaUnits + frame) / clockRate : 0;
  return {
    packets: arrivals.length,
    markers: arrivals.filter((a) => a.rtp.marker).length,
    ssrcs: [...new Set(arrivals.map((a) => a.rtp.ssrc))],
    payloadTypes: [...new Set(arrivals.map((a) => a.rtp.payloadType))],
    bytes,
    spanSeconds,
    mediaSeconds,
    meanBps: { payload: toBps(bytes.payload, spanSeconds), rtp: toBps(bytes.rtp, spanSeconds), ip: toBps(bytes.ip, spanSeconds) },
    worstWindowBps: {
      payload: (maxWindowSum(times, payload, windowNs).max * 8) / windowSeconds,
      rtp: (worstRtp.max * 8) / windowSeconds,
      ip: (maxWindowSum(times, ip, windowNs).max * 8) / windowSeconds,
    },
    worstMediaWindowRtpBps: (worstMedia.max * 8) / windowSeconds,
    worstWindowAtSeconds: arrivals.length > 0 ? (worstRtp.end - first) / NS_PER_S : Number.NaN,
    perSecondRtpBps: binSums(times, rtp, windowNs, first).map((b) => (b * 8) / windowSeconds),
    gapMs: {
      p50: percentile(gapList, 50),
      p99: percentile(gapList, 99),
      max: gapList.length > 0 ? Math.max(...gapList) : Number.NaN,
      min: gapList.length > 0 ? Math.min(...gapList) : Number.NaN,
    },
    jitterMs: jitter.ms,
    jitterMaxMs: jitter.maxMs,
    sequence: sequenceStats(arrivals.map((a) => a.rtp.sequenceNumber)),
  };
}

/** What the receiver process sends back to the harness at the end. */
export interface ReceiverReport {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** `process.hrtime.bigint()` of the first RTP datagram, as a decimal string (absent when none came). */
  readonly firstRtpArrivalNs?: string;
  /** Same clock, first RTCP datagram. */
  readonly firstRtcpArrivalNs?: string;
  /** Datagrams on the RTP port that did not parse as RTP v2. */
  readonly nonRtp: number;
  readonly rtp: StreamAnalysis;
  readonly rtcp: RtcpCounts;
}

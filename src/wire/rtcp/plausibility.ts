/**
 * Whether a reception report block about our stream can be true. A report block is the far end's word, and a broken
 * or hostile receiver can write anything into it: an LSR that was never ours (a round-trip time of hours), a
 * cumulative loss of -8 388 608 (the field's minimum) for a stream of a few hundred packets. Such figures must be
 * flagged, not shown as loss and delay. Pure: the caller passes what it knows about its own stream.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1 | RFC 3550 §6.4.1} (the block's fields)
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.3 | RFC 3550 A.3} (how loss and extended sequence are counted)
 */
import type { ReportBlock } from './reportBlock.js';

/** Longest round-trip time believed by default, ms: a live stream whose reports take a minute is not live. */
export const DEFAULT_MAX_RTT_MS = 60_000;
/** Largest interarrival jitter believed by default, ms. */
export const DEFAULT_MAX_JITTER_MS = 10_000;

/** What the sender knows about its own stream when a report arrives. Every field is optional. */
export interface ReportPlausibilityContext {
  /** The round-trip time computed from the block's LSR and DLSR (A - LSR - DLSR), ms; undefined without an LSR. */
  readonly rttMs?: number | undefined;
  /**
   * At most how many RTP packets we had sent when the receiver wrote the report (an upper bound is enough).
   * Undefined skips the checks that need it.
   */
  readonly packetsSent?: number | undefined;
  /** RTP clock rate, Hz, to read the jitter. Default 48000 (Opus). */
  readonly clockRate?: number;
  /** Default {@link DEFAULT_MAX_RTT_MS}. */
  readonly maxRttMs?: number;
  /** Default {@link DEFAULT_MAX_JITTER_MS}. */
  readonly maxJitterMs?: number;
}

/** The verdict: `plausible` is true when `reasons` is empty. */
export interface ReportPlausibility {
  readonly plausible: boolean;
  /** One short sentence per field that cannot be true, naming the field and the bound it broke. */
  readonly reasons: readonly string[];
}

/**
 * Checks a report block against what cannot happen.
 *
 * - `rttMs` must be finite, non-negative and at most `maxRttMs`.
 * - Jitter (RTP units) must be at most `maxJitterMs` at `clockRate`.
 * - With `packetsSent`: the cumulative loss cannot exceed the packets sent, nor fall below minus that many (a
 *   negative loss means duplicates, and a receiver cannot see more duplicates than packets); and the extended highest
 *   sequence number cannot have counted more sequence cycles than `packetsSent` packets can make from any start.
 *
 * @param block - the block about our SSRC.
 * @param ctx - see {@link ReportPlausibilityContext}.
 * @returns `{ plausible, reasons }`; never throws.
 */
export function reportBlockPlausibility(block: ReportBlock, ctx: ReportPlausibilityContext = {}): ReportPlausibility {
  const reasons: string[] = [];
  const maxRtt = ctx.maxRttMs ?? DEFAULT_MAX_RTT_MS;
  const maxJitter = ctx.maxJitterMs ?? DEFAULT_MAX_JITTER_MS;
  const clockRate = ctx.clockRate ?? 48000;
  const { rttMs, packetsSent } = ctx;
  if (rttMs !== undefined && !(Number.isFinite(rttMs) && rttMs >= 0 && rttMs <= maxRtt)) {
    reasons.push(`round-trip time ${rttMs} ms is outside [0, ${maxRtt}] ms: the LSR/DLSR fields do not answer one of our SRs`);
  }
  const jitterMs = (block.jitter * 1000) / clockRate;
  if (!(jitterMs <= maxJitter)) {
    reasons.push(`jitter ${block.jitter} (${Math.round(jitterMs)} ms at ${clockRate} Hz) is over ${maxJitter} ms`);
  }
  if (packetsSent !== undefined && Number.isFinite(packetsSent) && packetsSent >= 0) {
    if (block.cumulativeLost > packetsSent) {
      reasons.push(`cumulative loss ${block.cumulativeLost} is more than the ${packetsSent} packets sent`);
    } else if (block.cumulativeLost < -packetsSent) {
      reasons.push(`cumulative loss ${block.cumulativeLost} means more duplicates than the ${packetsSent} packets sent`);
    }
    // From a start anywhere in [0, 65535], n packets reach at most 65535 + n - 1: that many cycles and no more.
    const maxCycles = Math.floor((65535 + Math.max(0, packetsSent - 1)) / 65536);
    const cycles = block.highestSequence >>> 16;
    if (cycles > maxCycles) {
      reasons.push(`extended highest sequence ${block.highestSequence} counts ${cycles} sequence cycles; ${packetsSent} packets make at most ${maxCycles}`);
    }
  }
  return { plausible: reasons.length === 0, reasons };
}

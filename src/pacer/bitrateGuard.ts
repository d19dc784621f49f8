/**
 * The bitrate guard: keeps every sliding 1 s window of sends at or under a ceiling of the room's bitrate.
 *
 * KOOK closes a stream whose rate passes 120% of the room bitrate. The guard combines a token bucket (so a backlog
 * drains smoothly instead of in one burst) with an exact sliding-window meter (a bucket alone lets a full bucket
 * plus one window's refill through in some window; the meter makes the bound exact). A frame that does not fit
 * waits; it is never dropped.
 */

import { KookRtpError } from '../errors.js';
import { SlidingWindowMeter, TokenBucket } from './tokenBucket.js';

/** What the guard counts per packet: RTP header + payload (default), payload only, or IP + UDP + RTP. */
export type GuardCount = 'rtp' | 'payload' | 'ip';

/** Bytes of IPv4 (20) + UDP (8) headers. */
export const IPV4_UDP_OVERHEAD = 28;
/** Bytes of IPv6 (40) + UDP (8) headers. */
export const IPV6_UDP_OVERHEAD = 48;
/** The KOOK server's tolerance: past 120% of the room bitrate it closes the stream. */
export const MAX_GUARD_CEILING = 1.2;

/**
 * The bytes the guard lets through per window: `floor(roomBitrate × ceiling / 8 × windowMs / 1000)`
 * ({@link BitrateGuard.limitBytes}). Probing compares an Opus file's peak 1 s window with it.
 * @param roomBitrate - the room's bitrate in bit/s.
 * @param ceiling - fraction of the room allowed, default 1.
 * @param windowMs - window length, default 1000.
 */
export function guardLimitBytes(roomBitrate: number, ceiling = 1, windowMs = 1000): number {
  return Math.floor((((roomBitrate * ceiling) / 8) * windowMs) / 1000);
}

/** Options of {@link BitrateGuard}. */
export interface BitrateGuardOptions {
  /** The room's bitrate in bits/s (KOOK's `bitrate` from `/voice/join`). */
  roomBitrate: number;
  /** What to count. Default `'rtp'`. */
  count?: GuardCount;
  /** Fraction of `roomBitrate` allowed per window. Default 1.0; at most 1.2. */
  ceiling?: number;
  /** Sliding window length in ms. Default 1000. */
  windowMs?: number;
  /** Token bucket depth, as ms worth of the ceiling rate. Default 200 (a backlog drains at most 200 ms at a time). */
  bucketDepthMs?: number;
  /** Per-packet IP + UDP overhead for `count: 'ip'`: 28 (IPv4, default) or 48 (IPv6). */
  ipOverhead?: number;
  /** RTP header size per packet. Default 12 (no CSRC, no extension). */
  rtpHeaderSize?: number;
}

/**
 * Decides when a packet may go so that no window passes the limit.
 *
 * @remarks Callers ask {@link BitrateGuard.earliest}, send at or after that time, then {@link BitrateGuard.record}.
 */
export class BitrateGuard {
  /** Bytes allowed per window. */
  readonly limitBytes: number;
  /** Window length, ms. */
  readonly windowMs: number;
  /** Bytes counted per packet on top of the payload. */
  readonly overheadBytes: number;
  /** The counting mode. */
  readonly count: GuardCount;
  readonly #bucket: TokenBucket;
  readonly #window: SlidingWindowMeter;
  #delayed = 0;

  /**
   * @param options - see {@link BitrateGuardOptions}.
   * @param now - current clock time in ms (the bucket starts full).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a non-positive bitrate, a ceiling outside (0, 1.2], or an
   *   unknown count mode.
   */
  constructor(options: BitrateGuardOptions, now: number) {
    const { roomBitrate } = options;
    const ceiling = options.ceiling ?? 1;
    if (!(roomBitrate > 0) || !Number.isFinite(roomBitrate)) {
      throw new KookRtpError('INVALID_ARGUMENT', `roomBitrate must be a positive number of bits/s, found ${roomBitrate}`);
    }
    if (!(ceiling > 0 && ceiling <= MAX_GUARD_CEILING)) {
      throw new KookRtpError('INVALID_ARGUMENT', `guard ceiling must be in (0, 1.2] of the room bitrate (KOOK closes streams past 120%), found ${ceiling}`);
    }
    this.count = options.count ?? 'rtp';
    const rtpHeader = options.rtpHeaderSize ?? 12;
    switch (this.count) {
      case 'payload':
        this.overheadBytes = 0;
        break;
      case 'rtp':
        this.overheadBytes = rtpHeader;
        break;
      case 'ip':
        this.overheadBytes = rtpHeader + (options.ipOverhead ?? IPV4_UDP_OVERHEAD);
        break;
      default:
        throw new KookRtpError('INVALID_ARGUMENT', `guard count must be 'rtp', 'payload' or 'ip', found ${String(this.count)}`);
    }
    this.windowMs = options.windowMs ?? 1000;
    const bytesPerSecond = (roomBitrate * ceiling) / 8;
    this.limitBytes = guardLimitBytes(roomBitrate, ceiling, this.windowMs);
    const depthMs = options.bucketDepthMs ?? 200;
    this.#bucket = new TokenBucket(bytesPerSecond, Math.max(1, (bytesPerSecond * depthMs) / 1000), now);
    this.#window = new SlidingWindowMeter(this.windowMs);
  }

  /** Bytes the guard counts for a packet with `payloadBytes` of payload. */
  bytesFor(payloadBytes: number): number {
    return payloadBytes + this.overheadBytes;
  }

  /**
   * The earliest time at or after `now` when a packet with `payloadBytes` of payload may be sent.
   *
   * @param now - current time, ms.
   * @param payloadBytes - the RTP payload size.
   * @returns an absolute time in ms (`now` when it may go at once).
   */
  earliest(now: number, payloadBytes: number): number {
    const bytes = payloadBytes + this.overheadBytes;
    const a = this.#bucket.earliest(now, bytes);
    const b = this.#window.earliest(now, bytes, this.limitBytes);
    return a > b ? a : b;
  }

  /** Records a packet with `payloadBytes` of payload sent at `now`. */
  record(now: number, payloadBytes: number): void {
    const bytes = payloadBytes + this.overheadBytes;
    this.#bucket.take(now, bytes);
    this.#window.record(now, bytes);
  }

  /** Counts a packet that had to wait (statistics only). */
  noteDelayed(): void {
    this.#delayed++;
  }

  /** Packets that had to wait. */
  get delayedPackets(): number {
    return this.#delayed;
  }

  /** Bytes counted in the window ending at `now`. */
  windowBytes(now: number): number {
    return this.#window.sum(now);
  }

  /** The largest counted window seen, in bytes. */
  get maxWindowBytes(): number {
    return this.#window.max;
  }

  /**
   * The encoder bitrate (payload bits/s) that fits under the limit with `packetsPerSecond` packets of overhead.
   *
   * @param packetsPerSecond - packet rate. Default 50 (20 ms frames).
   * @returns bits/s, at least 6000 (Opus's floor).
   */
  fittingBitrate(packetsPerSecond = 50): number {
    const perSecond = (this.limitBytes * 1000) / this.windowMs;
    return Math.max(6000, Math.floor((perSecond - this.overheadBytes * packetsPerSecond) * 8));
  }
}

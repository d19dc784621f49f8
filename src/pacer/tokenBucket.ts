/**
 * The two rate primitives of the bitrate guard: a token bucket (smooths bursts) and an exact sliding-window meter
 * (bounds every window of `windowMs`). Pure, time passed in explicitly.
 */

import { KookRtpError } from '../errors.js';

/** Slack added past a window edge so that a send lands strictly after the old one left the closed window. */
const EDGE_MS = 0.001;

/**
 * Classic token bucket: `rate` bytes per ms flow in up to `depth` bytes; a send takes its size.
 *
 * @remarks A packet larger than the depth can never find enough tokens; it may go when the bucket is full and
 *   leaves it in debt, so the long-run rate still holds and nothing deadlocks.
 */
export class TokenBucket {
  /** Refill rate in bytes per ms. */
  readonly ratePerMs: number;
  /** Capacity in bytes. */
  readonly depth: number;
  #tokens: number;
  #last: number;

  /**
   * @param bytesPerSecond - refill rate, > 0.
   * @param depth - capacity in bytes, > 0.
   * @param now - time of creation (the bucket starts full).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a non-positive rate or depth.
   */
  constructor(bytesPerSecond: number, depth: number, now: number) {
    if (!(bytesPerSecond > 0) || !(depth > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `token bucket needs rate > 0 and depth > 0, found ${bytesPerSecond}, ${depth}`);
    }
    this.ratePerMs = bytesPerSecond / 1000;
    this.depth = depth;
    this.#tokens = depth;
    this.#last = now;
  }

  /** Tokens available at `now` (negative while in debt). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /**
   * The earliest time at or after `now` when `bytes` may be sent.
   *
   * @param now - current time, ms.
   * @param bytes - size of the send.
   * @returns an absolute time in ms.
   */
  earliest(now: number, bytes: number): number {
    this.#refill(now);
    const need = Math.min(bytes, this.depth);
    if (this.#tokens >= need) return now;
    return now + (need - this.#tokens) / this.ratePerMs;
  }

  /** Takes `bytes` at `now` (call after {@link TokenBucket.earliest} allowed it). */
  take(now: number, bytes: number): void {
    this.#refill(now);
    this.#tokens -= bytes;
  }

  #refill(now: number): void {
    if (now > this.#last) {
      this.#tokens = Math.min(this.depth, this.#tokens + (now - this.#last) * this.ratePerMs);
      this.#last = now;
    }
  }
}

/**
 * Exact byte count over the closed window `[now - windowMs, now]`, kept as a ring of (time, bytes) sends.
 *
 * @remarks Times passed in must not decrease. The ring grows (doubling) only when more sends than ever before fall
 *   into one window; in steady state it does not allocate.
 */
export class SlidingWindowMeter {
  /** Window length in ms. */
  readonly windowMs: number;
  #times: Float64Array;
  #bytes: Float64Array;
  #head = 0;
  #size = 0;
  #sum = 0;
  #max = 0;

  /**
   * @param windowMs - window length, > 0. Default 1000.
   * @param capacity - initial ring capacity (sends per window). Default 64.
   */
  constructor(windowMs = 1000, capacity = 64) {
    if (!(windowMs > 0)) throw new KookRtpError('INVALID_ARGUMENT', `window must be > 0 ms, found ${windowMs}`);
    this.windowMs = windowMs;
    this.#times = new Float64Array(Math.max(4, capacity));
    this.#bytes = new Float64Array(Math.max(4, capacity));
  }

  /** Bytes sent within `[now - windowMs, now]`. */
  sum(now: number): number {
    this.#expire(now);
    return this.#sum;
  }

  /** The largest window sum seen at any send (the maximum over all windows of this length). */
  get max(): number {
    return this.#max;
  }

  /**
   * The earliest time at or after `now` when a send of `bytes` keeps the window at or under `limit`.
   *
   * @param now - current time, ms.
   * @param bytes - size of the send.
   * @param limit - bytes allowed per window.
   * @returns an absolute time in ms. A send bigger than `limit` on its own gets the time the window is empty.
   */
  earliest(now: number, bytes: number, limit: number): number {
    this.#expire(now);
    let excess = this.#sum + bytes - limit;
    if (excess <= 0) return now;
    const cap = this.#times.length;
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % cap;
      excess -= this.#bytes[i] as number;
      if (excess <= 0 || k === this.#size - 1) return (this.#times[i] as number) + this.windowMs + EDGE_MS;
    }
    return now;
  }

  /** Records a send of `bytes` at `now`. */
  record(now: number, bytes: number): void {
    this.#expire(now);
    if (this.#size === this.#times.length) this.#grow();
    const cap = this.#times.length;
    const i = (this.#head + this.#size) % cap;
    this.#times[i] = now;
    this.#bytes[i] = bytes;
    this.#size++;
    this.#sum += bytes;
    if (this.#sum > this.#max) this.#max = this.#sum;
  }

  #expire(now: number): void {
    const from = now - this.windowMs;
    const cap = this.#times.length;
    while (this.#size > 0 && (this.#times[this.#head] as number) < from) {
      this.#sum -= this.#bytes[this.#head] as number;
      this.#head = (this.#head + 1) % cap;
      this.#size--;
    }
    if (this.#size === 0) this.#sum = 0; // no float residue once empty
  }

  #grow(): void {
    const cap = this.#times.length;
    const times = new Float64Array(cap * 2);
    const bytes = new Float64Array(cap * 2);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % cap;
      times[k] = this.#times[i] as number;
      bytes[k] = this.#bytes[i] as number;
    }
    this.#times = times;
    this.#bytes = bytes;
    this.#head = 0;
  }
}

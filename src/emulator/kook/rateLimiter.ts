/**
 * The emulator's rate limiter: fixed windows per bucket plus one global window, answering with KOOK's headers.
 *
 * @see https://developer.kookapp.cn/doc/rate-limit
 */

/** A limit of `limit` requests per `windowMs`. */
export interface RateLimitRule {
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window length, ms. The window starts at its first request. */
  readonly windowMs: number;
}

/** What the limiter decided for one request. */
export interface RateDecision {
  /** False: answer 429. */
  readonly allowed: boolean;
  /** True when the global limit (not the bucket) refused it. */
  readonly global: boolean;
  /** The headers to send, names as KOOK spells them. */
  readonly headers: Readonly<Record<string, string>>;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed-window limiter. `X-Rate-Limit-Reset` is whole seconds rounded up, as KOOK sends it ("14"), so a client that
 * sleeps for it never comes back early.
 */
export class RateLimiter {
  readonly #bucketRule: RateLimitRule | undefined;
  readonly #globalRule: RateLimitRule | undefined;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, Window>();
  #global: Window | undefined;
  /** 429 answers given, per bucket name ('global' for the global limit). */
  readonly refusals = new Map<string, number>();

  /**
   * @param bucketRule - per-bucket limit; undefined disables it.
   * @param globalRule - limit across all buckets; undefined disables it.
   * @param clock - ms clock.
   */
  constructor(bucketRule: RateLimitRule | undefined, globalRule: RateLimitRule | undefined, clock: () => number = Date.now) {
    this.#bucketRule = bucketRule;
    this.#globalRule = globalRule;
    this.#clock = clock;
  }

  /**
   * Counts one request against `bucket` and the global window.
   *
   * @param bucket - the bucket name (KOOK uses the route, e.g. `voice/join`).
   * @returns whether it may proceed, and the headers to send either way.
   */
  take(bucket: string): RateDecision {
    const now = this.#clock();
    const headers: Record<string, string> = {};
    if (this.#globalRule !== undefined) {
      this.#global = roll(this.#global, this.#globalRule, now);
      if (this.#global.count >= this.#globalRule.limit) {
        this.#refuse('global');
        return {
          allowed: false,
          global: true,
          headers: {
            'X-Rate-Limit-Limit': String(this.#globalRule.limit),
            'X-Rate-Limit-Remaining': '0',
            'X-Rate-Limit-Reset': resetSeconds(this.#global, this.#globalRule, now),
            'X-Rate-Limit-Bucket': bucket,
            'X-Rate-Limit-Global': '',
          },
        };
      }
    }
    if (this.#bucketRule !== undefined) {
      const w = roll(this.#buckets.get(bucket), this.#bucketRule, now);
      this.#buckets.set(bucket, w);
      headers['X-Rate-Limit-Limit'] = String(this.#bucketRule.limit);
      headers['X-Rate-Limit-Bucket'] = bucket;
      headers['X-Rate-Limit-Reset'] = resetSeconds(w, this.#bucketRule, now);
      if (w.count >= this.#bucketRule.limit) {
        headers['X-Rate-Limit-Remaining'] = '0';
        this.#refuse(bucket);
        return { allowed: false, global: false, headers };
      }
      w.count++;
      headers['X-Rate-Limit-Remaining'] = String(this.#bucketRule.limit - w.count);
    }
    if (this.#global !== undefined) this.#global.count++;
    return { allowed: true, global: false, headers };
  }

  #refuse(name: string): void {
    this.refusals.set(name, (this.refusals.get(name) ?? 0) + 1);
  }
}

function roll(w: Window | undefined, rule: RateLimitRule, now: number): Window {
  return w === undefined || now - w.start >= rule.windowMs ? { start: now, count: 0 } : w;
}

function resetSeconds(w: Window, rule: RateLimitRule, now: number): string {
  return String(Math.max(1, Math.ceil((w.start + rule.windowMs - now) / 1000)));
}

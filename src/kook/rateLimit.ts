/**
 * KOOK's rate limits as the client keeps them: one state per bucket (KOOK names buckets after routes, and the first
 * answer of each endpoint tells its bucket's name) and one global reset time, fed by the `X-Rate-Limit-*` headers of
 * every answer and read before every request.
 *
 * @see https://developer.kookapp.cn/doc/rate-limit
 */
import { redact } from '../util/secrets.js';
import { KookRateLimitError } from './errors.js';

/** Longest `X-Rate-Limit-Reset` taken at its word, ms (one hour); anything longer, NaN or negative is implausible. */
export const MAX_PLAUSIBLE_RESET_MS = 3_600_000;

/** What one answer's rate-limit headers say. */
export interface RateInfo {
  /** Scrubbed of the token and control characters, at most 100 characters. */
  readonly bucket: string | undefined;
  /** The raw `X-Rate-Limit-Reset` (scrubbed, shortened) when it was not a plausible number of seconds. */
  readonly implausibleReset: string | undefined;
  readonly global: boolean;
  readonly remaining: number | undefined;
  readonly resetMs: number | undefined;
}

/**
 * Reads an answer's rate-limit headers.
 * @param headers - the answer's headers.
 * @param secrets - what to scrub: header values are the far side's words, and a server may echo the Authorization
 *   header into any of them.
 */
export function readRateInfo(headers: Headers, secrets: readonly string[]): RateInfo {
  const num = (name: string): number | undefined => {
    const v = headers.get(name);
    if (v === null || v.trim() === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const text = (name: string, max: number): string | undefined => {
    const v = headers.get(name);
    if (v === null) return undefined;
    const clean = redact(v, secrets).replace(/[\u0000-\u001f\u007f]/g, '?');
    return clean.length > max ? `${clean.slice(0, max)}...` : clean;
  };
  const rawReset = headers.get('x-rate-limit-reset');
  let reset = num('x-rate-limit-reset');
  const plausible = reset !== undefined && reset >= 0 && reset * 1000 <= MAX_PLAUSIBLE_RESET_MS;
  if (!plausible) reset = undefined;
  return {
    bucket: text('x-rate-limit-bucket', 100),
    implausibleReset: rawReset !== null && !plausible ? text('x-rate-limit-reset', 40) : undefined,
    // KOOK sends the header bare ("X-Rate-Limit-Global"): presence is the signal, not the value.
    global: headers.has('x-rate-limit-global'),
    remaining: num('x-rate-limit-remaining'),
    resetMs: reset === undefined ? undefined : Math.max(0, reset * 1000),
  };
}

/** A wait the limits ask for before a request. */
export interface RateLimitWait {
  readonly waitMs: number;
  readonly bucket: string | undefined;
  /** True when the global limit is what is waited for. */
  readonly global: boolean;
  /** Call after the wait: a bucket whose window has rolled over is open again until the next answer says otherwise. */
  done(): void;
}

interface BucketState {
  remaining: number;
  resetAt: number;
}

/** The buckets and the global limit of one client. */
export class RateLimits {
  // KOOK names buckets after routes; we learn the name from the first answer of each endpoint.
  readonly #bucketOfEndpoint = new Map<string, string>();
  readonly #buckets = new Map<string, BucketState>();
  #globalResetAt = 0;

  /**
   * @param clock - wall time in ms.
   * @param maxWaitMs - the longest wait accepted; a longer one throws `RATE_LIMITED` at once.
   * @param fallbackResetMs - how long a 429 without a plausible `X-Rate-Limit-Reset` closes its bucket (one backoff step).
   */
  constructor(
    private readonly clock: () => number,
    private readonly maxWaitMs: number,
    private readonly fallbackResetMs: number,
  ) {}

  /**
   * The wait a request to `endpoint` needs now, if any.
   * @throws {@link KookRateLimitError} when the wait is longer than `maxWaitMs`.
   */
  pending(endpoint: string): RateLimitWait | undefined {
    const now = this.clock();
    const bucketName = this.#bucketOfEndpoint.get(endpoint);
    const state = bucketName === undefined ? undefined : this.#buckets.get(bucketName);
    const globalWait = this.#globalResetAt - now;
    const bucketWait = state !== undefined && state.remaining <= 0 ? state.resetAt - now : 0;
    const waitMs = Math.max(globalWait, bucketWait);
    if (waitMs <= 0) return undefined;
    if (waitMs > this.maxWaitMs) {
      throw new KookRateLimitError({ endpoint, bucket: bucketName, global: globalWait >= bucketWait, resetMs: waitMs, attempts: 0 });
    }
    return {
      waitMs,
      bucket: bucketName,
      global: globalWait >= bucketWait && globalWait > 0,
      done: () => {
        // The window has rolled over: the server's next answer tells the real count.
        if (state !== undefined && this.clock() >= state.resetAt) state.remaining = Number.POSITIVE_INFINITY;
      },
    };
  }

  /** Takes in what an answer of `endpoint` with `status` said. */
  record(endpoint: string, info: RateInfo, status: number): void {
    const now = this.clock();
    if (info.bucket !== undefined) this.#bucketOfEndpoint.set(endpoint, info.bucket);
    const name = info.bucket ?? this.#bucketOfEndpoint.get(endpoint) ?? endpoint;
    if (info.bucket === undefined) this.#bucketOfEndpoint.set(endpoint, name);
    if (info.global && info.resetMs !== undefined) {
      this.#globalResetAt = Math.max(this.#globalResetAt, now + info.resetMs);
    }
    if (status === 429) {
      // Out of requests whatever the Remaining header says; without Reset fall back to one backoff step.
      const resetMs = info.resetMs ?? this.fallbackResetMs;
      if (!info.global) this.#buckets.set(name, { remaining: 0, resetAt: now + resetMs });
      else if (info.resetMs === undefined) this.#globalResetAt = Math.max(this.#globalResetAt, now + resetMs);
      return;
    }
    if (info.remaining !== undefined && info.resetMs !== undefined) {
      this.#buckets.set(name, { remaining: info.remaining, resetAt: now + info.resetMs });
    }
  }
}

/**
 * One API call from start to end: wait out the rate limits, send an attempt, map the answer, and decide whether to
 * try again. The pieces are `rateLimit.ts` (the waits), `request.ts` (an attempt) and `envelope.ts` (the answer).
 *
 * Retry policy: a call marked `idempotent` is retried after a 5xx, a timeout or a network error; one marked
 * `unsent-only` (join) only when the request provably never left. A 429 is waited out (up to `rateLimitRetries`
 * times) whatever the mark: the server refused it before doing anything. Backoff of retry n: random in
 * [0, min(maxMs, baseMs · 2^n)] ("full jitter").
 */
import { KookRtpError } from '../errors.js';
import { KookRateLimitError } from './errors.js';
import { envelopeData, envelopeOf, statusError } from './envelope.js';
import { readRateInfo, RateLimits } from './rateLimit.js';
import { attemptFailure, sendRequest, type Answer, type RequestSpec, type RequestTarget } from './request.js';
import type { KookClientEvent } from './client.js';

/** A request and how it may be retried. */
export interface CallSpec extends RequestSpec {
  /** 'idempotent': retry on any transient failure; 'unsent-only': retry only when the request never left. */
  readonly retry: 'idempotent' | 'unsent-only';
}

/** The client's counters, kept by its calls. */
export interface CallStats {
  requests: number;
  responses: number;
  retries: number;
  rateLimited: number;
  rateLimitWaits: number;
  rateLimitWaitMs: number;
  failures: number;
}

/** What a client's calls share. */
export interface CallContext {
  readonly target: RequestTarget;
  readonly secrets: readonly string[];
  readonly limits: RateLimits;
  readonly stats: CallStats;
  readonly retries: number;
  readonly rateLimitRetries: number;
  /** One backoff step, ms: also how long a 429 without a plausible reset waits. */
  readonly backoffBaseMs: number;
  readonly clock: () => number;
  /** The delay before retry `retryIndex` (0-based). */
  backoffDelay(retryIndex: number): number;
  /** Waits `ms`; rejects with `ABORTED` when the call's signal aborts. */
  wait(ms: number, signal: AbortSignal | undefined, endpoint: string): Promise<void>;
  emit(event: KookClientEvent): void;
}

/** The error of a call its caller aborted. */
export const aborted = (endpoint: string): KookRtpError => new KookRtpError('ABORTED', `KOOK ${endpoint} was aborted by the caller`);

/**
 * Runs a call with rate limiting, retries and error mapping.
 * @returns the envelope's `data`, scrubbed of the secrets.
 * @throws `ABORTED`, `TIMEOUT`, `RESPONSE_TOO_LARGE`, {@link KookHttpError}, {@link KookApiError}, {@link KookRateLimitError}
 */
export async function runCall(ctx: CallContext, spec: CallSpec): Promise<unknown> {
  const { endpoint } = spec;
  const { stats } = ctx;
  let failures = 0;
  let limited = 0;
  let attemptNo = 0;
  /** Waits one backoff step before the next try, when `mayRetry` and retries are left. */
  const retryAfter = async (reason: string): Promise<boolean> => {
    if (failures >= ctx.retries) return false;
    const delayMs = ctx.backoffDelay(failures);
    failures++;
    stats.retries++;
    ctx.emit({ type: 'retry', endpoint, attempt: attemptNo, delayMs, reason });
    await ctx.wait(delayMs, spec.signal, endpoint);
    return true;
  };
  try {
    for (;;) {
      if (spec.signal?.aborted) throw aborted(endpoint);
      await awaitRateLimit(ctx, endpoint, spec.signal);
      attemptNo++;
      stats.requests++;
      ctx.emit({ type: 'request', method: spec.method, endpoint, attempt: attemptNo });
      const started = ctx.clock();
      let answer: Answer;
      try {
        answer = await sendRequest(ctx.target, spec);
      } catch (err) {
        if (spec.signal?.aborted) throw aborted(endpoint);
        if (err instanceof KookRtpError && err.code === 'RESPONSE_TOO_LARGE') throw err;
        const { error, unsent } = attemptFailure(err, endpoint, ctx.target, ctx.secrets);
        if ((spec.retry === 'idempotent' || unsent) && (await retryAfter(error.code))) continue;
        throw error;
      }
      stats.responses++;
      const { status } = answer;
      const env = envelopeOf(answer.json, ctx.secrets);
      ctx.emit({ type: 'response', endpoint, status, apiCode: env.apiCode, elapsedMs: ctx.clock() - started });
      const rate = readRateInfo(answer.headers, ctx.secrets);
      ctx.limits.record(endpoint, rate, status);

      if (status === 429) {
        stats.rateLimited++;
        limited++;
        if (limited > ctx.rateLimitRetries) {
          throw new KookRateLimitError({
            endpoint,
            bucket: rate.bucket,
            global: rate.global,
            resetMs: rate.resetMs ?? (rate.implausibleReset === undefined ? 0 : ctx.backoffBaseMs),
            attempts: attemptNo,
            ...(rate.implausibleReset === undefined ? {} : { implausibleReset: rate.implausibleReset }),
          });
        }
        continue; // awaitRateLimit sleeps until the advertised reset
      }
      if (status < 200 || status > 299) {
        const err = statusError(endpoint, status, env, ctx.target.apiBase, ctx.secrets);
        // 401/403 will not heal by repeating; 4xx in general is our fault. Only 5xx is transient.
        if (status >= 500 && spec.retry === 'idempotent' && (await retryAfter(`HTTP ${status}`))) continue;
        throw err;
      }
      return envelopeData(endpoint, answer, env, ctx.secrets);
    }
  } catch (err) {
    stats.failures++;
    throw err;
  }
}

/** Sleeps while the global limit or this endpoint's bucket says we have nothing left. */
async function awaitRateLimit(ctx: CallContext, endpoint: string, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    const pending = ctx.limits.pending(endpoint);
    if (pending === undefined) return;
    ctx.stats.rateLimitWaits++;
    ctx.stats.rateLimitWaitMs += pending.waitMs;
    ctx.emit({ type: 'rate-limit-wait', endpoint, bucket: pending.bucket, global: pending.global, waitMs: pending.waitMs });
    await ctx.wait(pending.waitMs, signal, endpoint);
    pending.done();
  }
}

/**
 * KOOK voice API client: `voice/join`, `voice/list`, `voice/leave`, `voice/keep-alive`.
 *
 * What it adds over a bare `fetch`:
 * - the `{code, message, data}` envelope unwrapped into typed results or typed errors ({@link KookApiError},
 *   {@link KookHttpError}, {@link KookRateLimitError}, `TIMEOUT`);
 * - KOOK's rate-limit headers honoured before and after each request, per bucket and globally;
 * - retries with exponential backoff and full jitter for the calls that are safe to repeat;
 * - a timeout per HTTP attempt;
 * - the bot token kept out of every error, `cause` chain, event and statistic.
 *
 * Retry policy (why each call is or is not retried):
 * - `list` (GET) and `keep-alive` are idempotent: repeating them changes nothing. Retried on 5xx, timeouts and
 *   network errors.
 * - `leave` is idempotent in effect: leaving twice leaves the bot out of the channel either way. Retried like the
 *   above.
 * - `join` is NOT idempotent: every join allocates a fresh ip:port and takes one of the bot's limited pushes. If a
 *   join may have reached the server (timeout, connection reset, any 5xx) a blind retry could allocate a second
 *   address and leak the first until KOOK reclaims it. So `join` is retried only when the request provably never
 *   left (connection refused, DNS failure, connect timeout) and after a 429 (refused before processing). With
 *   `joinRecovery: 'leave-and-retry'` an ambiguous failure is followed by `leave(channelId)`, which releases
 *   whatever the lost join created for that channel, and then a new join.
 *
 * This file holds the options and the endpoints; one call runs through `call.ts` (rate limits, attempt, retries),
 * which uses `rateLimit.ts` (buckets and the global limit), `request.ts` (one HTTP attempt and what its failure means)
 * and `envelope.ts` (the answer's envelope and each endpoint's `data`). Read them in that order.
 *
 * @see https://developer.kookapp.cn/doc/http/voice
 * @see https://developer.kookapp.cn/doc/rate-limit
 */
import { KookRtpError } from '../errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../util/body.js';
import { sleep } from '../util/clock.js';
import { redact } from '../util/secrets.js';
import { aborted, runCall, type CallContext, type CallSpec } from './call.js';
import { parseJoin, parseListPage, type KookVoiceChannel, type KookVoiceJoin, type KookVoiceListPage } from './envelope.js';
import { KookHttpError } from './errors.js';
import { RateLimits } from './rateLimit.js';

export { parseJoin, parseListPage } from './envelope.js';
export type { KookJoinRaw, KookPageMeta, KookVoiceChannel, KookVoiceJoin, KookVoiceListPage } from './envelope.js';
export { MAX_PLAUSIBLE_RESET_MS } from './rateLimit.js';

/** KOOK's production API base. */
export const KOOK_API_BASE = 'https://www.kookapp.cn/api/v3';

/** Options of {@link createKookClient}. */
export interface KookClientOptions {
  /** The bot token (developer centre); sent as `Authorization: Bot <token>`, never logged. */
  readonly token: string;
  /** API base URL, default {@link KOOK_API_BASE}; point it at the emulator's `apiBase` in tests. */
  readonly apiBase?: string;
  /** Timeout of one HTTP attempt (request and body), ms. Default 10 000. Rate-limit waits are not counted. */
  readonly timeoutMs?: number;
  /** Largest answer body read, bytes; a larger one fails with `RESPONSE_TOO_LARGE` (not retried). Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Retries after a 5xx, timeout or network error, for the calls that may be retried. Default 3. */
  readonly retries?: number;
  /** How many 429 answers a call absorbs (waiting for the reset each time) before it throws. Default 5. */
  readonly rateLimitRetries?: number;
  /**
   * Longest rate-limit wait the client accepts, ms; a longer reset throws `RATE_LIMITED` at once. Default 60 000.
   * A reset that cannot be true (not a number, negative, or over {@link MAX_PLAUSIBLE_RESET_MS}) is not waited for:
   * the client waits one `backoff.baseMs` step per 429 instead, and the final `RATE_LIMITED` error says so.
   */
  readonly maxRateLimitWaitMs?: number;
  /** Backoff of retry n (0-based): random in [0, min(maxMs, baseMs * 2^n)] ("full jitter"). Defaults 250 and 8000. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** What `join` does after an ambiguous failure (see the module notes). Default `'fail'`. */
  readonly joinRecovery?: 'fail' | 'leave-and-retry';
  /** Sent as `Accept-Language` (KOOK localises its messages); omitted when unset. */
  readonly acceptLanguage?: string;
  /** The fetch to use; default the global (undici) fetch. */
  readonly fetch?: typeof fetch;
  /** Wall clock in ms, for the rate-limit bookkeeping. Default `Date.now`. */
  readonly clock?: () => number;
  /** Sleeps `ms` (rejecting when `signal` aborts). Default a timer. Inject to make tests instantaneous. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Receives one event per request, answer, retry and rate-limit wait. Events never carry the token. */
  readonly onEvent?: (event: KookClientEvent) => void;
}

/** Diagnostic events of the client (for logs and metrics). */
export type KookClientEvent =
  | { readonly type: 'request'; readonly method: 'GET' | 'POST'; readonly endpoint: string; readonly attempt: number }
  | {
      readonly type: 'response';
      readonly endpoint: string;
      readonly status: number;
      readonly apiCode: number | undefined;
      readonly elapsedMs: number;
    }
  | {
      readonly type: 'rate-limit-wait';
      readonly endpoint: string;
      readonly bucket: string | undefined;
      readonly global: boolean;
      readonly waitMs: number;
    }
  | {
      readonly type: 'retry';
      readonly endpoint: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
    };

/** Counters kept by the client; never contain the token. */
export interface KookClientStats {
  /** HTTP attempts started. */
  readonly requests: number;
  /** Attempts that got an HTTP answer. */
  readonly responses: number;
  /** Retries after a 5xx / timeout / network error. */
  readonly retries: number;
  /** 429 answers received. */
  readonly rateLimited: number;
  /** Waits made because of rate-limit headers (before a request or after a 429). */
  readonly rateLimitWaits: number;
  /** Total time spent in those waits, ms. */
  readonly rateLimitWaitMs: number;
  /** Calls that ended in an error. */
  readonly failures: number;
}

/** Common per-call options. */
export interface KookCallOptions {
  /** Aborts the call (HTTP attempt, waits and retries); the call then rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Arguments of {@link KookClient.join}. */
export interface KookJoinOptions extends KookCallOptions {
  /** The voice channel to push to. */
  readonly channelId: string;
  /** Requested SSRC (KOOK default 1111). KOOK answers the final one: use the answer. */
  readonly audioSsrc?: number;
  /** Requested payload type (KOOK default 111). KOOK answers the final one: use the answer. */
  readonly audioPt?: number;
  /** RTCP on the RTP port (RFC 5761); KOOK default true. */
  readonly rtcpMux?: boolean;
  /** Password of a protected room. */
  readonly password?: string;
}

/** The client returned by {@link createKookClient}. */
export interface KookClient {
  /**
   * Asks KOOK for a push address in a voice channel.
   *
   * @returns the typed answer; use its `audioSsrc`/`audioPt`, they may differ from the ones requested.
   * @throws {@link KookApiError} when KOOK refuses (unknown channel, wrong password, no quota...);
   *   {@link KookHttpError}, {@link KookRateLimitError}, `TIMEOUT`, `ABORTED`, `VALIDATION_FAILED` (malformed answer),
   *   `INVALID_ARGUMENT` (bad SSRC/PT).
   * @remarks Not blindly retried: see the module notes.
   */
  join(options: KookJoinOptions): Promise<KookVoiceJoin>;
  /**
   * Every voice channel the bot is in, following `meta.page_total` through all pages.
   *
   * @param options - `pageSize` (default 50, KOOK's maximum) and `signal`.
   */
  list(options?: KookCallOptions & { readonly pageSize?: number }): Promise<KookVoiceChannel[]>;
  /** One page of `voice/list` (1-based `page`). */
  listPage(page: number, pageSize?: number, options?: KookCallOptions): Promise<KookVoiceListPage>;
  /** Leaves the channel and releases the push address. */
  leave(channelId: string, options?: KookCallOptions): Promise<void>;
  /** Keeps the push address from being reclaimed; KOOK asks for one call every 45 s. */
  keepAlive(channelId: string, options?: KookCallOptions): Promise<void>;
  /** A snapshot of the counters. */
  stats(): KookClientStats;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => sleep(ms, { signal });

/**
 * Creates a KOOK voice API client.
 *
 * @param options - see {@link KookClientOptions}; only `token` is required.
 * @returns the client.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an empty token or a malformed `apiBase`.
 * @example
 * ```ts
 * const kook = createKookClient({ token: process.env.KOOK_TOKEN! });
 * const target = await kook.join({ channelId: '123' });
 * // push Opus RTP to target.ip:target.port with SSRC target.audioSsrc, PT target.audioPt
 * ```
 */
export function createKookClient(options: KookClientOptions): KookClient {
  const token = options.token;
  if (typeof token !== 'string' || token.trim().length === 0) {
    throw new KookRtpError('INVALID_ARGUMENT', 'KOOK client needs the bot token (developer centre > bot > token); got an empty value');
  }
  const secrets = [token];
  const apiBase = (options.apiBase ?? KOOK_API_BASE).replace(/\/+$/, '');
  try {
    new URL(apiBase);
  } catch {
    throw new KookRtpError('INVALID_ARGUMENT', `apiBase must be an absolute URL such as ${KOOK_API_BASE}; got ${redact(apiBase, secrets)}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const rateLimitRetries = options.rateLimitRetries ?? 5;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
  const backoffBase = options.backoff?.baseMs ?? 250;
  const backoffMax = options.backoff?.maxMs ?? 8_000;
  const joinRecovery = options.joinRecovery ?? 'fail';
  const doFetch = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? Date.now;
  const sleepFn = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const onEvent = options.onEvent;

  const stats = { requests: 0, responses: 0, retries: 0, rateLimited: 0, rateLimitWaits: 0, rateLimitWaitMs: 0, failures: 0 };
  const ctx: CallContext = {
    target: { apiBase, token, acceptLanguage: options.acceptLanguage, timeoutMs, maxResponseBytes, fetch: doFetch },
    secrets,
    limits: new RateLimits(clock, maxRateLimitWaitMs, backoffBase),
    stats,
    retries,
    rateLimitRetries,
    backoffBaseMs: backoffBase,
    clock,
    backoffDelay: (retryIndex) => Math.floor(random() * Math.min(backoffMax, backoffBase * 2 ** retryIndex)),
    async wait(ms, signal, endpoint) {
      try {
        await sleepFn(ms, signal);
      } catch (err) {
        if (signal?.aborted) throw aborted(endpoint);
        throw err;
      }
    },
    emit(event) {
      if (onEvent === undefined) return;
      try {
        onEvent(event);
      } catch {
        // A broken listener must not break the API call.
      }
    },
  };
  const call = (spec: CallSpec): Promise<unknown> => runCall(ctx, spec);

  const isAmbiguous = (err: unknown): boolean =>
    (err instanceof KookRtpError && err.code === 'TIMEOUT') ||
    (err instanceof KookHttpError && (err.status === 0 || err.status >= 500));

  const joinOnce = async (opts: KookJoinOptions): Promise<KookVoiceJoin> => {
    const body: Record<string, unknown> = { channel_id: opts.channelId };
    if (opts.audioSsrc !== undefined) body['audio_ssrc'] = String(opts.audioSsrc);
    if (opts.audioPt !== undefined) body['audio_pt'] = String(opts.audioPt);
    if (opts.rtcpMux !== undefined) body['rtcp_mux'] = opts.rtcpMux;
    if (opts.password !== undefined) body['password'] = opts.password;
    const data = await call({ method: 'POST', endpoint: 'voice/join', body, retry: 'unsent-only', signal: opts.signal });
    try {
      return parseJoin(data);
    } catch (err) {
      // parseJoin quotes the offending value: a server that echoes the token in a field must not get it into the error.
      if (err instanceof KookRtpError) throw new KookRtpError(err.code, redact(err.message, secrets));
      throw err;
    }
  };

  const client: KookClient = {
    async join(opts) {
      checkChannelId(opts.channelId);
      if (opts.audioSsrc !== undefined && !(Number.isInteger(opts.audioSsrc) && opts.audioSsrc >= 0 && opts.audioSsrc <= 0xffffffff)) {
        throw new KookRtpError('INVALID_ARGUMENT', `audioSsrc must be an integer in [0, 4294967295], found ${opts.audioSsrc}`);
      }
      if (opts.audioPt !== undefined && !(Number.isInteger(opts.audioPt) && opts.audioPt >= 0 && opts.audioPt <= 127)) {
        throw new KookRtpError('INVALID_ARGUMENT', `audioPt must be an integer in [0, 127], found ${opts.audioPt}`);
      }
      let recoveries = 0;
      for (;;) {
        try {
          return await joinOnce(opts);
        } catch (err) {
          if (joinRecovery === 'leave-and-retry' && recoveries < retries && isAmbiguous(err) && !opts.signal?.aborted) {
            recoveries++;
            stats.retries++;
            const delayMs = ctx.backoffDelay(recoveries - 1);
            ctx.emit({ type: 'retry', endpoint: 'voice/join', attempt: recoveries, delayMs, reason: 'ambiguous join: leave, then join again' });
            await ctx.wait(delayMs, opts.signal, 'voice/join');
            const leaveOpts: KookCallOptions = opts.signal === undefined ? {} : { signal: opts.signal };
            await client.leave(opts.channelId, leaveOpts);
            continue;
          }
          throw err;
        }
      }
    },

    async listPage(page, pageSize = 50, opts = {}) {
      if (!Number.isInteger(page) || page < 1) throw new KookRtpError('INVALID_ARGUMENT', `page is 1-based, found ${page}`);
      if (!Number.isInteger(pageSize) || pageSize < 1) {
        throw new KookRtpError('INVALID_ARGUMENT', `pageSize must be a positive integer (KOOK caps it at 50), found ${pageSize}`);
      }
      const data = await call({
        method: 'GET',
        endpoint: 'voice/list',
        query: { page: String(page), page_size: String(pageSize) },
        retry: 'idempotent',
        signal: opts.signal,
      });
      return parseListPage(data);
    },

    async list(opts = {}) {
      const pageSize = opts.pageSize ?? 50;
      const callOpts: KookCallOptions = opts.signal === undefined ? {} : { signal: opts.signal };
      const all: KookVoiceChannel[] = [];
      // Guard against a server whose page_total never converges.
      for (let page = 1; page <= 10_000; page++) {
        const result = await client.listPage(page, pageSize, callOpts);
        all.push(...result.items);
        if (page >= result.meta.pageTotal || result.items.length === 0) break;
      }
      return all;
    },

    async leave(channelId, opts = {}) {
      checkChannelId(channelId);
      await call({ method: 'POST', endpoint: 'voice/leave', body: { channel_id: channelId }, retry: 'idempotent', signal: opts.signal });
    },

    async keepAlive(channelId, opts = {}) {
      checkChannelId(channelId);
      await call({ method: 'POST', endpoint: 'voice/keep-alive', body: { channel_id: channelId }, retry: 'idempotent', signal: opts.signal });
    },

    stats() {
      return { ...stats };
    },
  };
  return client;
}

function checkChannelId(channelId: unknown): void {
  if (typeof channelId !== 'string' || channelId.length === 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `channelId must be a non-empty string (KOOK ids are strings), found ${typeof channelId}`);
  }
}

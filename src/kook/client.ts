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
 * @see https://developer.kookapp.cn/doc/http/voice
 * @see https://developer.kookapp.cn/doc/rate-limit
 */
import { KookRtpError } from '../errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readAnswerText } from '../util/body.js';
import { KookApiError, KookHttpError, KookRateLimitError } from './errors.js';
import { redact, redactDeep, scrubError } from '../util/secrets.js';
import { isPlainObject } from '../util/object.js';
import { sleep as sleepOn } from '../util/clock.js';
import { apiPathHint, describeNetworkFailure, errorChainCodes, hostPort } from './netFailure.js';

/** KOOK's production API base. */
export const KOOK_API_BASE = 'https://www.kookapp.cn/api/v3';

/** Longest `X-Rate-Limit-Reset` taken at its word, ms (one hour); anything longer, NaN or negative is implausible. */
export const MAX_PLAUSIBLE_RESET_MS = 3_600_000;

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

/** The raw `data` of a `voice/join` answer, as KOOK sends it. */
export interface KookJoinRaw {
  readonly ip: string;
  readonly port: string | number;
  readonly rtcp_mux: boolean;
  readonly rtcp_port: number | string;
  readonly bitrate: number | string;
  readonly audio_ssrc: string | number;
  readonly audio_pt: string | number;
  readonly [key: string]: unknown;
}

/** A typed `voice/join` answer: where and how to push. */
export interface KookVoiceJoin {
  /** Media server address. */
  readonly ip: string;
  /** RTP port. */
  readonly port: number;
  /** True when RTCP shares the RTP port. */
  readonly rtcpMux: boolean;
  /** Where RTCP goes: the answer's `rtcp_port`, or `port` itself when `rtcpMux` (KOOK says to ignore rtcp_port then). */
  readonly rtcpPort: number;
  /** The bitrate the room demands, bits/s. Pushing over 120% of it gets the stream closed. */
  readonly bitrate: number;
  /** The final SSRC to put in every RTP packet. */
  readonly audioSsrc: number;
  /** The final payload type. */
  readonly audioPt: number;
  /** The answer as received (strings untouched). */
  readonly raw: KookJoinRaw;
}

/** One voice channel the bot is in (`voice/list` item). */
export interface KookVoiceChannel {
  readonly id: string;
  readonly guildId: string;
  readonly parentId: string;
  readonly name: string;
}

/** KOOK's list paging block. */
export interface KookPageMeta {
  readonly page: number;
  readonly pageTotal: number;
  readonly pageSize: number;
  readonly total: number;
}

/** One page of `voice/list`. */
export interface KookVoiceListPage {
  readonly items: readonly KookVoiceChannel[];
  readonly meta: KookPageMeta;
  /** The `data` as received. */
  readonly raw: unknown;
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

interface BucketState {
  remaining: number;
  resetAt: number;
}

interface RateInfo {
  /** Scrubbed of the token and control characters, at most 100 characters. */
  readonly bucket: string | undefined;
  /** The raw `X-Rate-Limit-Reset` (scrubbed, shortened) when it was not a plausible number of seconds. */
  readonly implausibleReset: string | undefined;
  readonly global: boolean;
  readonly remaining: number | undefined;
  readonly resetMs: number | undefined;
}

interface CallSpec {
  readonly method: 'GET' | 'POST';
  readonly endpoint: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
  /** 'idempotent': retry on any transient failure; 'unsent-only': retry only when the request never left. */
  readonly retry: 'idempotent' | 'unsent-only';
  readonly signal: AbortSignal | undefined;
}

/** Node / undici error codes proving the request never reached the server. */
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => sleepOn(ms, { signal });

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
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const onEvent = options.onEvent;

  const stats = { requests: 0, responses: 0, retries: 0, rateLimited: 0, rateLimitWaits: 0, rateLimitWaitMs: 0, failures: 0 };
  // KOOK names buckets after routes; we learn the name from the first answer of each endpoint.
  const bucketOfEndpoint = new Map<string, string>();
  const buckets = new Map<string, BucketState>();
  let globalResetAt = 0;

  const emit = (event: KookClientEvent): void => {
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // A broken listener must not break the API call.
    }
  };

  const backoffDelay = (retryIndex: number): number =>
    Math.floor(random() * Math.min(backoffMax, backoffBase * 2 ** retryIndex));

  const aborted = (endpoint: string): KookRtpError => new KookRtpError('ABORTED', `KOOK ${endpoint} was aborted by the caller`);

  const wait = async (ms: number, signal: AbortSignal | undefined, endpoint: string): Promise<void> => {
    try {
      await sleep(ms, signal);
    } catch (err) {
      if (signal?.aborted) throw aborted(endpoint);
      throw err;
    }
  };

  /** Sleeps while the global limit or this endpoint's bucket says we have nothing left. */
  const awaitRateLimit = async (endpoint: string, signal: AbortSignal | undefined): Promise<void> => {
    for (;;) {
      const now = clock();
      const bucketName = bucketOfEndpoint.get(endpoint);
      const state = bucketName === undefined ? undefined : buckets.get(bucketName);
      const globalWait = globalResetAt - now;
      const bucketWait = state !== undefined && state.remaining <= 0 ? state.resetAt - now : 0;
      const waitMs = Math.max(globalWait, bucketWait);
      if (waitMs <= 0) return;
      if (waitMs > maxRateLimitWaitMs) {
        throw new KookRateLimitError({ endpoint, bucket: bucketName, global: globalWait >= bucketWait, resetMs: waitMs, attempts: 0 });
      }
      stats.rateLimitWaits++;
      stats.rateLimitWaitMs += waitMs;
      emit({ type: 'rate-limit-wait', endpoint, bucket: bucketName, global: globalWait >= bucketWait && globalWait > 0, waitMs });
      await wait(waitMs, signal, endpoint);
      if (state !== undefined && clock() >= state.resetAt) {
        // The window has rolled over: the server's next answer tells the real count.
        state.remaining = Number.POSITIVE_INFINITY;
      }
    }
  };

  const readRateInfo = (headers: Headers): RateInfo => {
    const num = (name: string): number | undefined => {
      const v = headers.get(name);
      if (v === null || v.trim() === '') return undefined;
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    };
    // Header values are the far side's words: a server may echo the Authorization header into any of them.
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
  };

  const recordRateInfo = (endpoint: string, info: RateInfo, status: number): void => {
    const now = clock();
    if (info.bucket !== undefined) bucketOfEndpoint.set(endpoint, info.bucket);
    const name = info.bucket ?? bucketOfEndpoint.get(endpoint) ?? endpoint;
    if (info.bucket === undefined) bucketOfEndpoint.set(endpoint, name);
    if (info.global && info.resetMs !== undefined) {
      globalResetAt = Math.max(globalResetAt, now + info.resetMs);
    }
    if (status === 429) {
      // Out of requests whatever the Remaining header says; without Reset fall back to one backoff step.
      const resetMs = info.resetMs ?? backoffBase;
      if (!info.global) buckets.set(name, { remaining: 0, resetAt: now + resetMs });
      else if (info.resetMs === undefined) globalResetAt = Math.max(globalResetAt, now + resetMs);
      return;
    }
    if (info.remaining !== undefined && info.resetMs !== undefined) {
      buckets.set(name, { remaining: info.remaining, resetAt: now + info.resetMs });
    }
  };

  /** One HTTP attempt; resolves with the status, headers and parsed body (or the raw text). */
  const attempt = async (
    spec: CallSpec,
  ): Promise<{ status: number; headers: Headers; json: unknown; text: string }> => {
    const url = new URL(`${apiBase}/${spec.endpoint}`);
    for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Authorization: `Bot ${token}`, Accept: 'application/json' };
    if (options.acceptLanguage !== undefined) headers['Accept-Language'] = options.acceptLanguage;
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = spec.signal === undefined ? timeout : AbortSignal.any([timeout, spec.signal]);
    const init: RequestInit = { method: spec.method, headers, signal };
    if (body !== undefined) init.body = body;
    const res = await doFetch(url, init);
    const text = await readAnswerText(res, maxResponseBytes, `KOOK ${spec.endpoint} (HTTP ${res.status})`);
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };

  /** Runs a call with rate limiting, retries and error mapping; resolves with the envelope's `data`. */
  const call = async (spec: CallSpec): Promise<unknown> => {
    const { endpoint } = spec;
    let failures = 0;
    let limited = 0;
    let attemptNo = 0;
    try {
      for (;;) {
        if (spec.signal?.aborted) throw aborted(endpoint);
        await awaitRateLimit(endpoint, spec.signal);
        attemptNo++;
        stats.requests++;
        emit({ type: 'request', method: spec.method, endpoint, attempt: attemptNo });
        const started = clock();
        let answer: Awaited<ReturnType<typeof attempt>>;
        try {
          answer = await attempt(spec);
        } catch (err) {
          if (spec.signal?.aborted) throw aborted(endpoint);
          if (err instanceof KookRtpError && err.code === 'RESPONSE_TOO_LARGE') throw err;
          const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
          const unsent = !timedOut && errorChainCodes(err).some((c) => UNSENT_CODES.has(c));
          const mapped = timedOut
            ? new KookRtpError('TIMEOUT', `KOOK ${endpoint} at ${redact(hostPort(new URL(apiBase)), secrets)} gave no answer within ${timeoutMs} ms (timeout); check that the server is up, raise timeoutMs or retry later`, {
                cause: scrubError(err, secrets),
              })
            : new KookHttpError(
                { endpoint, status: 0, detail: redact(`${describeNetworkFailure(err, new URL(apiBase))}${unsent ? ' (request not sent)' : ''}`, secrets) },
                { cause: scrubError(err, secrets) },
              );
          const mayRetry = spec.retry === 'idempotent' || unsent;
          if (mayRetry && failures < retries) {
            const delayMs = backoffDelay(failures);
            failures++;
            stats.retries++;
            emit({ type: 'retry', endpoint, attempt: attemptNo, delayMs, reason: mapped.code });
            await wait(delayMs, spec.signal, endpoint);
            continue;
          }
          throw mapped;
        }
        stats.responses++;
        const { status, headers, json, text } = answer;
        const envelope = isPlainObject(json) && typeof json['code'] === 'number' ? json : undefined;
        const apiCode = envelope === undefined ? undefined : (envelope['code'] as number);
        const apiMessage =
          envelope === undefined ? undefined : redact(typeof envelope['message'] === 'string' ? envelope['message'] : '', secrets);
        emit({ type: 'response', endpoint, status, apiCode, elapsedMs: clock() - started });
        const rate = readRateInfo(headers);
        recordRateInfo(endpoint, rate, status);

        if (status === 429) {
          stats.rateLimited++;
          limited++;
          if (limited > rateLimitRetries) {
            throw new KookRateLimitError({
              endpoint,
              bucket: rate.bucket,
              global: rate.global,
              resetMs: rate.resetMs ?? (rate.implausibleReset === undefined ? 0 : backoffBase),
              attempts: attemptNo,
              ...(rate.implausibleReset === undefined ? {} : { implausibleReset: rate.implausibleReset }),
            });
          }
          continue; // awaitRateLimit sleeps until the advertised reset
        }
        if (status < 200 || status > 299) {
          const err = new KookHttpError({
            endpoint,
            status,
            apiCode,
            apiMessage,
            detail:
              `HTTP ${status}` +
              (envelope !== undefined ? ` with code ${String(apiCode)}: ${apiMessage ?? ''}` : '') +
              (status === 401 || status === 403 ? '; check the bot token and its permissions' : '') +
              redact(apiPathHint(apiBase, status), secrets),
          });
          // 401/403 will not heal by repeating; 4xx in general is our fault. Only 5xx is transient.
          if (status >= 500 && spec.retry === 'idempotent' && failures < retries) {
            const delayMs = backoffDelay(failures);
            failures++;
            stats.retries++;
            emit({ type: 'retry', endpoint, attempt: attemptNo, delayMs, reason: `HTTP ${status}` });
            await wait(delayMs, spec.signal, endpoint);
            continue;
          }
          throw err;
        }
        if (envelope === undefined) {
          throw new KookHttpError({
            endpoint,
            status,
            detail: `HTTP ${status} but the body is not KOOK's {code, message, data} envelope (${JSON.stringify(redact(text.slice(0, 120), secrets))})`,
          });
        }
        if (apiCode !== 0) {
          throw new KookApiError({ endpoint, status, apiCode: apiCode ?? -1, apiMessage: apiMessage ?? '' });
        }
        // The data is the far side's too (join's `raw`, channel names): no echo of the token survives into it.
        return redactDeep(envelope['data'], secrets);
      }
    } catch (err) {
      stats.failures++;
      throw err;
    }
  };

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
            const delayMs = backoffDelay(recoveries - 1);
            emit({ type: 'retry', endpoint: 'voice/join', attempt: recoveries, delayMs, reason: 'ambiguous join: leave, then join again' });
            await wait(delayMs, opts.signal, 'voice/join');
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

function invalidAnswer(field: string, expected: string, found: unknown): KookRtpError {
  return new KookRtpError('VALIDATION_FAILED', `KOOK voice/join answered ${field} = ${describeValue(found)}, expected ${expected}; the API may have changed`);
}

/**
 * A short description of an answer value for an error message. Never throws: `JSON.stringify` does on bigints and
 * cycles (and `String` on null-prototype objects), and an error built while reporting bad input must not fail itself.
 */
function describeValue(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? typeof v;
  } catch {
    text = typeof v === 'bigint' ? `${v.toString()}n` : `(${typeof v})`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** Accepts an integer sent as a number or a decimal string (KOOK's own example sends rtcp_port as a string). */
function toInt(field: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalidAnswer(field, `an integer in [${min}, ${max}]`, value);
  return n;
}

/**
 * Converts a `voice/join` `data` into {@link KookVoiceJoin}.
 *
 * @param data - the envelope's `data`.
 * @returns the typed answer, `raw` holding the original.
 * @throws {@link KookRtpError} `VALIDATION_FAILED` when a field is missing or malformed.
 */
export function parseJoin(data: unknown): KookVoiceJoin {
  if (!isPlainObject(data)) throw invalidAnswer('data', 'an object', data);
  const ip = data['ip'];
  if (typeof ip !== 'string' || ip.length === 0) throw invalidAnswer('ip', 'a non-empty string', ip);
  const port = toInt('port', data['port'], 1, 65535);
  const muxRaw = data['rtcp_mux'];
  // Booleans per the table; tolerate 0/1 and "true"/"false" that loosely typed backends emit.
  const rtcpMux = muxRaw === undefined ? true : muxRaw === true || muxRaw === 1 || muxRaw === 'true';
  if (muxRaw !== undefined && !rtcpMux && !(muxRaw === false || muxRaw === 0 || muxRaw === 'false')) {
    throw invalidAnswer('rtcp_mux', 'a boolean', muxRaw);
  }
  const rtcpPort = rtcpMux ? port : toInt('rtcp_port', data['rtcp_port'], 1, 65535);
  const bitrate = toInt('bitrate', data['bitrate'], 1, 10_000_000);
  const audioSsrc = toInt('audio_ssrc', data['audio_ssrc'], 0, 0xffffffff);
  const audioPt = toInt('audio_pt', data['audio_pt'], 0, 127);
  return { ip, port, rtcpMux, rtcpPort, bitrate, audioSsrc, audioPt, raw: data as KookJoinRaw };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/**
 * Converts a `voice/list` `data` into {@link KookVoiceListPage}.
 *
 * @param data - the envelope's `data`.
 * @returns the typed page.
 * @throws {@link KookRtpError} `VALIDATION_FAILED` when `items` is not an array.
 */
export function parseListPage(data: unknown): KookVoiceListPage {
  if (!isPlainObject(data) || !Array.isArray(data['items'])) {
    throw new KookRtpError('VALIDATION_FAILED', 'KOOK voice/list answered without an items array; the API may have changed');
  }
  const items = (data['items'] as unknown[]).filter(isPlainObject).map((it) => ({
    id: str(it['id']),
    guildId: str(it['guild_id']),
    parentId: str(it['parent_id']),
    name: str(it['name']),
  }));
  const meta = isPlainObject(data['meta']) ? data['meta'] : {};
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : dflt);
  return {
    items,
    meta: {
      page: num(meta['page'], 1),
      // No meta means one page: stop rather than loop.
      pageTotal: num(meta['page_total'], 1),
      pageSize: num(meta['page_size'], items.length),
      total: num(meta['total'], items.length),
    },
    raw: data,
  };
}

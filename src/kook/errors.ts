/**
 * Errors raised by the KOOK API client. The scrubbing that keeps the bot token out of them is `util/secrets.ts`.
 *
 * Three failure shapes callers need to tell apart:
 * - the server answered the `{code, message, data}` envelope with `code != 0` ({@link KookApiError}, `KOOK_API`);
 * - the HTTP exchange failed: a non-2xx status, a body that is not the envelope, or no answer at all
 *   ({@link KookHttpError}, `HTTP_ERROR`);
 * - the rate limit still refused us after the allowed waits ({@link KookRateLimitError}, `RATE_LIMITED`).
 * A call that ran out of time is a plain {@link KookRtpError} with code `TIMEOUT`.
 */
import { KookRtpError } from '../errors.js';

/**
 * The envelope said `code != 0`: KOOK understood the request and refused it.
 *
 * @remarks `apiMessage` is KOOK's own text (language per `Accept-Language`), scrubbed of the token.
 */
export class KookApiError extends KookRtpError {
  /** HTTP status of the answer (KOOK sends most business errors with 200). */
  readonly status: number;
  /** The envelope's `code` (e.g. 40000 for a refused request, 401 for a bad token). */
  readonly apiCode: number;
  /** The envelope's `message`. */
  readonly apiMessage: string;
  /** The API path called, relative to the base URL (e.g. `voice/join`). Never contains the token. */
  readonly endpoint: string;

  constructor(init: { endpoint: string; status: number; apiCode: number; apiMessage: string }) {
    super(
      'KOOK_API',
      `KOOK ${init.endpoint} refused the request: code ${init.apiCode} (HTTP ${init.status}): ${init.apiMessage}. ` +
        'Check the arguments and the bot permissions; the code and message are KOOK\'s own.',
    );
    this.name = 'KookApiError';
    this.status = init.status;
    this.apiCode = init.apiCode;
    this.apiMessage = init.apiMessage;
    this.endpoint = init.endpoint;
  }
}

/**
 * The HTTP exchange failed: a non-2xx status, an answer that is not the JSON envelope, or no answer
 * (`status` 0: connection refused or reset, DNS failure).
 *
 * @remarks When the failed answer still carried an envelope (KOOK's 401 does: `{code: 401, ...}`), `apiCode` and
 * `apiMessage` hold it. `cause` is a scrubbed copy of the underlying error: same names, codes and messages, the
 * token replaced by `[REDACTED]`.
 */
export class KookHttpError extends KookRtpError {
  /** HTTP status, or 0 when no answer arrived. */
  readonly status: number;
  /** The envelope's `code` when the error answer carried one. */
  readonly apiCode: number | undefined;
  /** The envelope's `message` when the error answer carried one. */
  readonly apiMessage: string | undefined;
  /** The API path called, relative to the base URL. */
  readonly endpoint: string;

  constructor(
    init: { endpoint: string; status: number; apiCode?: number | undefined; apiMessage?: string | undefined; detail: string },
    options?: { cause?: unknown },
  ) {
    super('HTTP_ERROR', `KOOK ${init.endpoint} failed: ${init.detail}`, options);
    this.name = 'KookHttpError';
    this.status = init.status;
    this.apiCode = init.apiCode;
    this.apiMessage = init.apiMessage;
    this.endpoint = init.endpoint;
  }
}

/** KOOK kept answering 429 after the client waited for the advertised reset as many times as allowed. */
export class KookRateLimitError extends KookRtpError {
  /** Always 429. */
  readonly status: number;
  /** The `X-Rate-Limit-Bucket` of the last answer, if any. */
  readonly bucket: string | undefined;
  /** True when the last answer carried `X-Rate-Limit-Global`. */
  readonly global: boolean;
  /** Milliseconds until the bucket refills, per the last answer. */
  readonly resetMs: number;
  /** The API path called. */
  readonly endpoint: string;

  /**
   * @param init - `implausibleReset`: the server's `X-Rate-Limit-Reset` when it was not a plausible number of seconds
   *   (the client then waited `resetMs`, one backoff step, instead); `bucket` must already be scrubbed.
   */
  constructor(init: { endpoint: string; bucket: string | undefined; global: boolean; resetMs: number; attempts: number; implausibleReset?: string }) {
    super(
      'RATE_LIMITED',
      `KOOK ${init.endpoint} is still rate limited after ${init.attempts} attempts ` +
        `(bucket ${init.bucket ?? 'unknown'}${init.global ? ', global limit' : ''}, reset in ${init.resetMs} ms). ` +
        (init.implausibleReset === undefined
          ? ''
          : `The server sent an implausible X-Rate-Limit-Reset ${JSON.stringify(init.implausibleReset)} (not 0-3600 s), so the client waited ${init.resetMs} ms between tries instead. `) +
        'Slow down the calls or raise rateLimitRetries.',
    );
    this.name = 'KookRateLimitError';
    this.status = 429;
    this.bucket = init.bucket;
    this.global = init.global;
    this.resetMs = init.resetMs;
    this.endpoint = init.endpoint;
  }
}

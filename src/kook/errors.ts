/**
 * Errors raised by the KOOK API client, and the scrubbing that keeps the bot token out of them.
 *
 * Three failure shapes callers need to tell apart:
 * - the server answered the `{code, message, data}` envelope with `code != 0` ({@link KookApiError}, `KOOK_API`);
 * - the HTTP exchange failed: a non-2xx status, a body that is not the envelope, or no answer at all
 *   ({@link KookHttpError}, `HTTP_ERROR`);
 * - the rate limit still refused us after the allowed waits ({@link KookRateLimitError}, `RATE_LIMITED`).
 * A call that ran out of time is a plain {@link KookRtpError} with code `TIMEOUT`.
 */
import { KookRtpError } from '../errors.js';

/** Placeholder written wherever a secret was found. */
export const REDACTED = '[REDACTED]';

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

/**
 * Replaces every occurrence of each secret in `text` with `[REDACTED]`.
 *
 * @param text - any text (message, stack, URL).
 * @param secrets - the strings to hide; empty strings are ignored.
 * @returns the scrubbed text.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * Copies an error (and its `cause` chain) with every secret scrubbed from names, messages, stacks and string
 * fields.
 *
 * @remarks Why a copy: fetch implementations may put the request URL or headers into their errors, and an error is
 * shared state we must not mutate. Non-error values become an `Error` describing their type only.
 * @param err - the original error.
 * @param secrets - the strings to hide.
 * @param depth - recursion guard for cyclic cause chains.
 * @returns a fresh `Error` safe to log or serialize.
 */
export function scrubError(err: unknown, secrets: readonly string[], depth = 0): Error {
  if (!(err instanceof Error)) {
    return new Error(`non-error value thrown (${typeof err})`);
  }
  const copy = new Error(redact(err.message, secrets));
  copy.name = redact(err.name, secrets);
  if (err.stack !== undefined) copy.stack = redact(err.stack, secrets);
  const source = err as unknown as Record<string, unknown>;
  const target = copy as unknown as Record<string, unknown>;
  // Keep the diagnostic fields Node and undici put on errors (code, errno, syscall, address, port).
  for (const key of ['code', 'errno', 'syscall', 'address', 'port']) {
    const value = source[key];
    if (typeof value === 'string') target[key] = redact(value, secrets);
    else if (typeof value === 'number') target[key] = value;
  }
  if (err.cause !== undefined && depth < 8) {
    copy.cause = scrubError(err.cause, secrets, depth + 1);
  }
  return copy;
}

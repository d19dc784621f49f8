/**
 * The HTTP edge shared by the service clients and servers: JSON POST with a timeout, bounded body reads, and
 * an injectable clock. Errors never include request bodies (they hold access keys and signatures).
 */
import type { IncomingMessage } from 'node:http';
import { KookRtpError } from '../errors.js';
import { redact, scrubError } from '../kook/errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readAnswerText, type ReadableAnswer } from '../util/body.js';
import { ServiceError, type ServiceProvider } from './errors.js';

/** A `fetch`-compatible function, injectable for tests. */
export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number } & ReadableAnswer>;

/** Time source and timers, injectable so rate limiters and retries run on a fake clock in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Schedules `fn` after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from {@link Clock.setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * POSTs `body` as JSON and returns the status and the parsed answer (or the raw text when it is not JSON).
 * @throws ServiceError `TIMEOUT` after `timeoutMs`, `HTTP_ERROR` when the connection fails, `RESPONSE_TOO_LARGE` when
 *   the answer is over `maxResponseBytes` (default {@link DEFAULT_MAX_RESPONSE_BYTES}; the rest is not read)
 */
export async function postJson(
  provider: ServiceProvider,
  url: string,
  body: unknown,
  opts: { timeoutMs: number; fetch?: FetchLike | undefined; secrets?: readonly string[] | undefined; maxResponseBytes?: number | undefined },
): Promise<{ status: number; text: string; json: unknown }> {
  // Secrets (access keys, tokens) are scrubbed from everything that comes back: a fetch error may quote the request,
  // and a server may echo a credential in its message; both end up in error messages and `cause` chains.
  const secrets = opts.secrets ?? [];
  const f: FetchLike = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal,
    });
    status = res.status;
    text = await readAnswerText(res, opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, `${provider} ${safeUrl(url)}`);
  } catch (err) {
    if (err instanceof KookRtpError && err.code === 'RESPONSE_TOO_LARGE') {
      throw new ServiceError('RESPONSE_TOO_LARGE', provider, err.message.replace(`${provider} `, ''));
    }
    if (signal.aborted) {
      throw new ServiceError('TIMEOUT', provider, `no answer from ${safeUrl(url)} within ${opts.timeoutMs} ms; retry later or raise the timeout`);
    }
    const reason = err instanceof Error ? err.message : typeof err;
    throw new ServiceError('HTTP_ERROR', provider, `request to ${safeUrl(url)} failed: ${redact(reason, secrets)}`, { cause: scrubError(err, secrets) });
  }
  text = redact(text, secrets);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, text, json };
}

/** The URL without its query string (queries may carry ids; never secrets, but keep messages short). */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Reads a request body up to `limit` bytes.
 * @throws KookRtpError `VALIDATION_FAILED` (with `status` 413) over the limit; the request is drained, not buffered
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
    req.on('aborted', () => {
      if (!failed) {
        failed = true;
        reject(new KookRtpError('STREAM_CLOSED', 'the client closed the request before its body was complete'));
      }
    });
  });
}

/** A request body over the configured limit. */
export class BodyTooLargeError extends KookRtpError {
  constructor(limit: number) {
    super('VALIDATION_FAILED', `request body exceeds the ${limit}-byte limit`);
    this.name = 'BodyTooLargeError';
  }
}

/** True when `v` is a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `v` as a finite number (numeric strings accepted), else undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

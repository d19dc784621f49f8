/**
 * The HTTP edge shared by the service clients: JSON POST with a timeout and a bounded answer, and the readers of
 * loosely typed answer fields. Errors never include request bodies (they hold access keys and signatures).
 */
import { KookRtpError } from '../errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readAnswerText, type ReadableAnswer } from '../util/body.js';
import { redact, scrubError } from '../util/secrets.js';
import { ServiceError, type ServiceProvider } from './errors.js';

/** A `fetch`-compatible function, injectable for tests. */
export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number } & ReadableAnswer>;

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

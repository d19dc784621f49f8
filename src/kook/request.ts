/**
 * One HTTP attempt at the KOOK API: the request (token in `Authorization`, JSON body, a timeout per attempt), the
 * bounded answer, and what a failed attempt (no answer at all) means: `TIMEOUT`, or a {@link KookHttpError} with
 * status 0 that says whether the request provably never left (the only case in which a `join` may be repeated).
 */
import { KookRtpError } from '../errors.js';
import { readAnswerText } from '../util/body.js';
import { redact, scrubError } from '../util/secrets.js';
import { KookHttpError } from './errors.js';
import { describeNetworkFailure, errorChainCodes, hostPort } from './netFailure.js';

/** What one call asks for. */
export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** The API path relative to the base URL (`voice/join`). */
  readonly endpoint: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal | undefined;
}

/** Where and how requests go: fixed for a client. */
export interface RequestTarget {
  /** The base URL without a trailing slash. */
  readonly apiBase: string;
  readonly token: string;
  readonly acceptLanguage: string | undefined;
  /** Timeout of one attempt (request and body), ms. */
  readonly timeoutMs: number;
  /** Largest answer body read, bytes. */
  readonly maxResponseBytes: number;
  readonly fetch: typeof fetch;
}

/** An HTTP answer: status, headers, the body as text and, when it parses, as JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
  readonly text: string;
}

/**
 * Sends one attempt and reads its answer.
 * @throws what fetch throws (network errors, the timeout's `TimeoutError`, the caller's abort), `RESPONSE_TOO_LARGE`.
 */
export async function sendRequest(target: RequestTarget, spec: RequestSpec): Promise<Answer> {
  const url = new URL(`${target.apiBase}/${spec.endpoint}`);
  for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { Authorization: `Bot ${target.token}`, Accept: 'application/json' };
  if (target.acceptLanguage !== undefined) headers['Accept-Language'] = target.acceptLanguage;
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(spec.body);
  }
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = spec.signal === undefined ? timeout : AbortSignal.any([timeout, spec.signal]);
  const init: RequestInit = { method: spec.method, headers, signal };
  if (body !== undefined) init.body = body;
  const res = await target.fetch(url, init);
  const text = await readAnswerText(res, target.maxResponseBytes, `KOOK ${spec.endpoint} (HTTP ${res.status})`);
  let json: unknown;
  try {
    json = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Node / undici error codes proving the request never reached the server. */
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What an attempt that got no answer means, as our error (scrubbed of the secrets, its cause too).
 * @param err - what {@link sendRequest} threw (not an abort by the caller, not `RESPONSE_TOO_LARGE`).
 * @returns the error, and whether the request provably never left (refused, DNS, connect timeout).
 */
export function attemptFailure(err: unknown, endpoint: string, target: RequestTarget, secrets: readonly string[]): { error: KookRtpError; unsent: boolean } {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  const unsent = !timedOut && errorChainCodes(err).some((c) => UNSENT_CODES.has(c));
  const base = new URL(target.apiBase);
  const error = timedOut
    ? new KookRtpError('TIMEOUT', `KOOK ${endpoint} at ${redact(hostPort(base), secrets)} gave no answer within ${target.timeoutMs} ms (timeout); check that the server is up, raise timeoutMs or retry later`, {
        cause: scrubError(err, secrets),
      })
    : new KookHttpError({ endpoint, status: 0, detail: redact(`${describeNetworkFailure(err, base)}${unsent ? ' (request not sent)' : ''}`, secrets) }, { cause: scrubError(err, secrets) });
  return { error, unsent };
}

/**
 * Bounded reading of HTTP bodies, both ways. A server (or anything in the middle) can answer with megabytes where a
 * few hundred bytes of JSON are expected; reading it whole with `res.text()` once took a process to 300 MB on a
 * 50 MB answer. A client can post as much to our servers. These helpers stop at a cap and throw a typed error.
 */
import type { IncomingMessage } from 'node:http';
import { KookRtpError } from '../errors.js';

/** Default cap of an API answer body, bytes (1 MiB): KOOK's and the services' answers are a few KiB at most. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** The parts of a fetch `Response` the reader uses; an injected fetch may offer only `text()`. */
export interface ReadableAnswer {
  readonly headers?: { get(name: string): string | null } | undefined;
  readonly body?: ReadableStream<Uint8Array> | null | undefined;
  text(): Promise<string>;
}

/**
 * Reads an answer body as UTF-8 text, at most `limit` bytes.
 *
 * @param res - the answer: its stream is read chunk by chunk when it has one (a declared `content-length` over the
 *   cap fails before any byte is read); otherwise `text()` is called and its size checked.
 * @param limit - the cap in bytes (a non-negative integer).
 * @param what - what was asked, for the message (e.g. `KOOK voice/join`); never a URL with secrets.
 * @returns the text.
 * @throws {@link KookRtpError} `RESPONSE_TOO_LARGE` over the cap (the rest of the body is cancelled, never buffered);
 *   the stream's own errors (aborts, resets) pass through unchanged.
 */
export async function readAnswerText(res: ReadableAnswer, limit: number, what: string): Promise<string> {
  const tooLarge = (size: string): KookRtpError =>
    new KookRtpError('RESPONSE_TOO_LARGE', `${what} answered with ${size}, over the ${limit}-byte limit; the answer was dropped (raise maxResponseBytes if it is genuine)`);
  const declared = Number(res.headers?.get('content-length') ?? Number.NaN);
  const body = res.body;
  if (Number.isFinite(declared) && declared > limit) {
    await body?.cancel().catch(() => undefined);
    throw tooLarge(`a body of ${declared} bytes (content-length)`);
  }
  if (body === undefined || body === null) {
    const text = await res.text();
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limit) throw tooLarge(`${size} bytes`);
    return text;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks, size));
}

/** A request body over the configured limit (`VALIDATION_FAILED`; servers answer it with 413). */
export class BodyTooLargeError extends KookRtpError {
  constructor(limit: number) {
    super('VALIDATION_FAILED', `request body exceeds the ${limit}-byte limit`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body (our servers: the callback server, the emulators), at most `limit` bytes.
 *
 * @param req - the incoming request.
 * @param limit - the cap in bytes.
 * @returns the body.
 * @throws (rejects) {@link BodyTooLargeError} over the limit (a declared `content-length` over it fails before any
 *   byte is read; the rest of the request is drained, not buffered); `STREAM_CLOSED` when the client hangs up before
 *   the body is complete; the request's own errors.
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
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        fail(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', fail);
    // A client that hangs up mid-body: without this the handler would wait for 'end' forever.
    req.on('close', () => {
      if (!req.complete) fail(new KookRtpError('STREAM_CLOSED', 'the client closed the request before its body was complete'));
    });
  });
}

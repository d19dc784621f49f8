/**
 * The callback server: one real HTTP server receiving Shumei, Tupu and anyRTC callbacks, each under an unguessable
 * path token (`/cb/<token>/shumei`), since Shumei and anyRTC callbacks carry no signature of their own.
 *
 * Hostile input (unknown path, wrong method or content type, oversized or malformed body, bad Tupu signature, slow
 * body) gets a 4xx answer and a `rejected` event, never an exception. Shumei re-sends a callback until it gets
 * HTTP 200, so Shumei callbacks are deduplicated (the re-sends are answered 200 and reported as `duplicate`).
 */
import { createHash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KookRtpError } from '../errors.js';
import {
  parseAnyRtcCallback,
  parseShumeiCallback,
  parseTupuCallback,
  type AnyRtcCallbackEvent,
  type ShumeiCallbackEvent,
  type TupuCallbackEvent,
} from './callbacks.js';
import type { ServiceProvider } from './errors.js';
import { TypedEmitter } from './events.js';
import { BodyTooLargeError, readBody } from '../util/body.js';
import { loadPublicKey, unwrapTupuSigned } from './tupu.js';

/** Why a request was refused. */
export type RejectReason =
  | 'unknown-path'
  | 'method-not-allowed'
  | 'unsupported-media-type'
  | 'body-too-large'
  | 'malformed-json'
  | 'invalid-payload'
  | 'bad-signature'
  | 'not-configured'
  | 'timeout';

/** A refused request. Never includes the body or the path token. */
export interface RejectedEvent {
  readonly provider: ServiceProvider | undefined;
  readonly status: number;
  readonly reason: RejectReason;
  readonly remoteAddress: string | undefined;
}

/** Events of the callback server. */
export type CallbackServerEvents = {
  shumei: [ShumeiCallbackEvent];
  tupu: [TupuCallbackEvent];
  anyrtc: [AnyRtcCallbackEvent];
  /** A Shumei re-send already seen (answered 200, not re-emitted). */
  duplicate: [{ provider: 'shumei'; requestId: string }];
  rejected: [RejectedEvent];
};

/** Options of {@link createCallbackServer}. */
export interface CallbackServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The path token; default a random 128-bit hex string. At least 16 characters of [A-Za-z0-9_-]. */
  pathToken?: string;
  /** Tupu's public key (PEM). Without it the Tupu route refuses every callback (it could not verify them). */
  tupuPublicKey?: string | KeyObject;
  /** Largest accepted body, default 256 KiB. */
  bodyLimit?: number;
  /** Timeouts: headers (default 5000 ms) and the whole request body (default 10000 ms). */
  timeouts?: { headersMs?: number; requestMs?: number };
  /** Base URL the services should call, when behind a proxy or NAT (default `http://host:port`). */
  publicBaseUrl?: string;
  /** Shumei dedupe memory, default 10 000 callbacks. */
  dedupeCapacity?: number;
}

/** Counters. */
export interface CallbackServerStats {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** A running callback server. */
export interface CallbackServer extends TypedEmitter<CallbackServerEvents> {
  /** The callback URL per provider, to put in submits. */
  readonly urls: { readonly shumei: string; readonly tupu: string; readonly anyrtc: string };
  /** The bound port. */
  readonly port: number;
  stats(): CallbackServerStats;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

class CallbackServerImpl extends TypedEmitter<CallbackServerEvents> implements CallbackServer {
  urls = { shumei: '', tupu: '', anyrtc: '' };
  port = 0;
  private readonly counters: CallbackServerStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0 };
  private readonly seen = new Set<string>();

  constructor(
    readonly server: Server,
    private readonly token: Buffer,
    private readonly tupuKey: KeyObject | undefined,
    private readonly bodyLimit: number,
    private readonly requestMs: number,
    private readonly dedupeCapacity: number,
  ) {
    super();
  }

  stats(): CallbackServerStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private reject(res: ServerResponse, req: IncomingMessage, provider: ServiceProvider | undefined, status: number, reason: RejectReason): void {
    this.counters.rejected++;
    if (!res.headersSent && !res.writableEnded) {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ code: status, message: reason }));
    }
    this.safeEmit('rejected', { provider, status, reason, remoteAddress: req.socket.remoteAddress });
  }

  private ok(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private tokenMatches(t: string): boolean {
    const b = Buffer.from(t, 'utf8');
    return b.length === this.token.length && timingSafeEqual(b, this.token);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.received++;
    const path = (req.url ?? '').split('?')[0] ?? '';
    const m = /^\/cb\/([^/]+)\/(shumei|tupu|anyrtc)\/?$/.exec(path);
    if (!m || m[1] === undefined || !this.tokenMatches(m[1])) {
      req.resume();
      this.reject(res, req, undefined, 404, 'unknown-path');
      return;
    }
    const provider = m[2] as ServiceProvider;
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      this.reject(res, req, provider, 405, 'method-not-allowed');
      return;
    }
    const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (ct !== 'application/json') {
      req.resume();
      this.reject(res, req, provider, 415, 'unsupported-media-type');
      return;
    }
    if (provider === 'tupu' && this.tupuKey === undefined) {
      req.resume();
      this.reject(res, req, provider, 503, 'not-configured');
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.reject(res, req, provider, 408, 'timeout');
      req.destroy();
    }, this.requestMs);
    let body: Buffer;
    try {
      body = await readBody(req, this.bodyLimit);
    } catch (err) {
      clearTimeout(timer);
      if (timedOut) return;
      if (err instanceof BodyTooLargeError) this.reject(res, req, provider, 413, 'body-too-large');
      else req.destroy();
      return;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) return;
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      this.reject(res, req, provider, 400, 'malformed-json');
      return;
    }
    if (provider === 'shumei') this.onShumei(req, res, json, body);
    else if (provider === 'tupu') this.onTupu(req, res, json);
    else this.onAnyRtc(req, res, json);
  }

  private onShumei(req: IncomingMessage, res: ServerResponse, json: unknown, body: Buffer): void {
    const ev = parseShumeiCallback(json);
    if (ev === undefined) {
      this.reject(res, req, 'shumei', 400, 'invalid-payload');
      return;
    }
    // The raw requestId keeps the segment suffix; the content hash separates segments that reuse an id.
    const key = `${ev.rawRequestId}|${createHash('sha256').update(body).digest('hex')}`;
    this.ok(res, { code: 0, message: 'ok' });
    if (this.seen.has(key)) {
      this.counters.duplicates++;
      this.safeEmit('duplicate', { provider: 'shumei', requestId: ev.rawRequestId });
      return;
    }
    this.seen.add(key);
    if (this.seen.size > this.dedupeCapacity) {
      const first = this.seen.values().next().value;
      if (first !== undefined) this.seen.delete(first);
    }
    this.counters.accepted++;
    this.safeEmit('shumei', ev);
  }

  private onTupu(req: IncomingMessage, res: ServerResponse, json: unknown): void {
    let inner: Record<string, unknown>;
    // Callbacks must be signed: a plain object is refused even though plain sync answers are accepted.
    if (typeof json !== 'object' || json === null || typeof (json as { signature?: unknown }).signature !== 'string' || typeof (json as { json?: unknown }).json !== 'string') {
      this.reject(res, req, 'tupu', 400, 'invalid-payload');
      return;
    }
    try {
      inner = unwrapTupuSigned(json, this.tupuKey);
    } catch (err) {
      if (err instanceof KookRtpError && err.code === 'SIGNATURE_INVALID') this.reject(res, req, 'tupu', 401, 'bad-signature');
      else this.reject(res, req, 'tupu', 400, 'malformed-json');
      return;
    }
    const ev = parseTupuCallback(inner);
    if (ev === undefined) {
      this.reject(res, req, 'tupu', 400, 'invalid-payload');
      return;
    }
    this.ok(res, { code: 0, message: 'ok' });
    this.counters.accepted++;
    this.safeEmit('tupu', ev);
  }

  private onAnyRtc(req: IncomingMessage, res: ServerResponse, json: unknown): void {
    const ev = parseAnyRtcCallback(json);
    if (ev === undefined) {
      this.reject(res, req, 'anyrtc', 400, 'invalid-payload');
      return;
    }
    this.ok(res, { code: 0, success: true, message: 'received' });
    this.counters.accepted++;
    this.safeEmit('anyrtc', ev);
  }
}

/**
 * Starts the callback server.
 * @throws KookRtpError `INVALID_ARGUMENT` for a short path token, `SOCKET_ERROR` when the port cannot be bound
 */
export async function createCallbackServer(options: CallbackServerOptions = {}): Promise<CallbackServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.pathToken ?? randomBytes(16).toString('hex');
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token)) {
    throw new KookRtpError('INVALID_ARGUMENT', 'pathToken must be at least 16 characters of A-Z a-z 0-9 _ -; leave it unset for a random one');
  }
  const headersMs = options.timeouts?.headersMs ?? 5000;
  const requestMs = options.timeouts?.requestMs ?? 10_000;
  const tupuKey = options.tupuPublicKey === undefined ? undefined : loadPublicKey(options.tupuPublicKey);
  const server = createServer({ headersTimeout: headersMs, requestTimeout: Math.max(headersMs, requestMs) + 1000, connectionsCheckingInterval: Math.min(1000, headersMs) });
  const impl = new CallbackServerImpl(server, Buffer.from(token, 'utf8'), tupuKey, options.bodyLimit ?? 256 * 1024, requestMs, options.dedupeCapacity ?? 10_000);
  server.on('request', (req, res) => {
    impl.handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new KookRtpError('SOCKET_ERROR', `callback server cannot listen on ${host}:${options.port ?? 0}: ${e.message}`, { cause: e })));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = (options.publicBaseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  impl.port = port;
  impl.urls = { shumei: `${base}/cb/${token}/shumei`, tupu: `${base}/cb/${token}/tupu`, anyrtc: `${base}/cb/${token}/anyrtc` };
  return impl;
}

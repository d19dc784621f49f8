/**
 * The live dashboard: an HTTP server in the bot's own process with a page (one row per stream or emulated stream,
 * a uPlot chart of each second's bitrate against the room's limit and the 120% kick line, and the figures beside
 * it), live updates by Server-Sent Events, and Prometheus metrics at `/metrics`.
 *
 * Cost to the streams: one read of each object's public counters per second (`sender.stats()`, a player's getters,
 * an emulator's `reports()`), on a timer that does not keep the process alive. Nothing runs per packet. JSON is
 * built only while a page is connected; /metrics reads fresh counters when scraped.
 *
 * Security: binds 127.0.0.1 by default, tokenless, answering only requests addressed to the loopback. Any other host
 * needs an access token (see `auth.ts`); the token is never printed, logged, served or exported.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { KookRtpError } from '../errors.js';
import { createAuth, isLoopbackHostHeader, LOOPBACK_HOST, SESSION_COOKIE, type DashboardAuth } from './auth.js';
import { createDashboardMetrics, type DashboardMetrics } from './metrics.js';
import { PAGE_CSS, PAGE_JS, loginHtml, pageHtml } from './page.js';
import { DashboardSampler, type DashboardRow, type DashboardTick } from './sampler.js';
import type { DashboardAddOptions, DashboardSource } from './sources.js';

/** Options of {@link createDashboard}. Every field is optional. */
export interface DashboardOptions {
  /**
   * Interface to bind. Default 127.0.0.1 (this machine only). Anything else (`0.0.0.0`, a LAN address, `::`) needs
   * `token`.
   */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one (read it back from {@link Dashboard.url}). */
  readonly port?: number;
  /**
   * Access token, at least 16 characters; required unless `host` is 127.0.0.1. Browsers type it into the page's
   * login form; scrapers send `Authorization: Bearer TOKEN`. Never shown or logged.
   */
  readonly token?: string;
  /** Page title. Default `kook-rtp`. */
  readonly title?: string;
  /** Sampling interval, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Points kept per row for a page that connects later. Default 300. */
  readonly historyLength?: number;
  /** Include prom-client's default Node metrics in /metrics. Default true. */
  readonly defaultMetrics?: boolean;
  /** Page clients at once. Default 16. */
  readonly maxClients?: number;
  /** Shown from the start (each also accepted by {@link Dashboard.add}). */
  readonly senders?: readonly DashboardSource[];
  readonly players?: readonly DashboardSource[];
  readonly sessions?: readonly DashboardSource[];
  readonly emulators?: readonly DashboardSource[];
}

/** The handle returned by {@link createDashboard}. */
export interface Dashboard {
  /** `http://HOST:PORT/` (the token is not in it). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The dashboard's own prom-client registry (add your metrics to it if you like). */
  readonly registry: Registry;
  /** Pages connected now. */
  readonly clients: number;
  /**
   * Shows a sender, player, voice session or emulator.
   * @returns the row's name (the `stream` label in /metrics; an emulator's streams are named `NAME/CHANNEL#N`).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for another kind of object, one already shown, or a name taken.
   */
  add(source: DashboardSource, options?: DashboardAddOptions): string;
  /** Stops showing a source (the object, or the name `add` returned). @returns whether it was shown. */
  remove(sourceOrName: DashboardSource | string): boolean;
  /** Samples now (as the timer does every second) and sends the result to the pages. */
  sample(): DashboardTick;
  /** The rows as of the last sample. */
  rows(): DashboardRow[];
  /** Takes a last sample, sends it, tells the pages the dashboard ended, and closes the server. Idempotent. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
let uplotAssets: { js: Buffer; css: Buffer } | undefined;

/** uPlot's browser build, from node_modules (no CDN: the page works offline). */
function loadUplot(): { js: Buffer; css: Buffer } {
  uplotAssets ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css')),
  };
  return uplotAssets;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

/** A page connected to /events. */
interface Client {
  readonly res: ServerResponse;
}

/** Bytes a slow page may have queued before it is dropped (it reconnects and gets the history again). */
const MAX_CLIENT_BACKLOG = 1 << 20;
const MAX_LOGIN_BODY = 4096;

/**
 * Starts a dashboard server.
 *
 * @example
 * const dashboard = await createDashboard({ players: [session.player] });
 * console.log(`dashboard: ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 *
 * @param options - see {@link DashboardOptions}.
 * @returns the running dashboard.
 * @throws {@link KookRtpError} `TOKEN_REQUIRED` when binding beyond 127.0.0.1 without a token (or with one shorter
 *   than 16 characters); `INVALID_ARGUMENT` for bad options or sources; `SOCKET_ERROR` when the port cannot be bound.
 */
export async function createDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? LOOPBACK_HOST;
  const auth = createAuth(host, options.token);
  const intervalMs = options.intervalMs ?? 1000;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 50)) {
    throw new KookRtpError('INVALID_ARGUMENT', `intervalMs must be at least 50 ms, found ${String(intervalMs)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KookRtpError('INVALID_ARGUMENT', `port must be 0-65535, found ${String(port)}`);
  const sampler = new DashboardSampler(options.historyLength === undefined ? {} : { historyLength: options.historyLength });
  try {
    for (const s of [...(options.senders ?? []), ...(options.players ?? []), ...(options.sessions ?? []), ...(options.emulators ?? [])]) sampler.add(s);
  } catch (err) {
    sampler.clear();
    throw err;
  }
  const metrics = createDashboardMetrics(options.defaultMetrics ?? true);
  const server = new DashboardServer({
    host,
    auth,
    title: options.title ?? 'kook-rtp',
    sampler,
    metrics,
    maxClients: options.maxClients ?? 16,
  });
  try {
    await server.listen(port);
  } catch (err) {
    // Nothing left listening to the sources' events.
    sampler.clear();
    throw err;
  }
  server.start(intervalMs);
  return server;
}

interface ServerOptions {
  readonly host: string;
  readonly auth: DashboardAuth;
  readonly title: string;
  readonly sampler: DashboardSampler;
  readonly metrics: DashboardMetrics;
  readonly maxClients: number;
}

class DashboardServer implements Dashboard {
  readonly #o: ServerOptions;
  readonly #server: Server;
  readonly #clients = new Set<Client>();
  #port = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #lastT = 0;

  constructor(o: ServerOptions) {
    this.#o = o;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) this.#send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
  }

  get host(): string {
    return this.#o.host;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const h = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    return `http://${h}:${this.#port}/`;
  }

  get registry(): Registry {
    return this.#o.metrics.registry;
  }

  get clients(): number {
    return this.#clients.size;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new KookRtpError('SOCKET_ERROR', `the dashboard cannot listen on ${this.#o.host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      };
      this.#server.once('error', onError);
      this.#server.listen(port, this.#o.host, () => {
        this.#server.off('error', onError);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  start(intervalMs: number): void {
    this.sample();
    this.#timer = setInterval(() => {
      try {
        this.sample();
      } catch (err) {
        process.emitWarning(`kook-rtp dashboard: ${err instanceof Error ? err.message : String(err)}`, { code: 'KOOK_RTP_DASHBOARD' });
      }
    }, intervalMs);
    // The dashboard watches; it must not keep a finished bot alive.
    this.#timer.unref();
  }

  add(source: DashboardSource, options?: DashboardAddOptions): string {
    return this.#o.sampler.add(source, options);
  }

  remove(sourceOrName: DashboardSource | string): boolean {
    return this.#o.sampler.remove(sourceOrName);
  }

  rows(): DashboardRow[] {
    return this.#o.sampler.rows();
  }

  sample(): DashboardTick {
    const tick = this.#o.sampler.sample();
    this.#lastT = tick.t;
    if (this.#clients.size > 0) this.#broadcast('tick', JSON.stringify(tick));
    return tick;
  }

  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    try {
      this.sample();
    } catch {
      // A source that fails to read now still lets the server close.
    }
    this.#broadcast('end', '{}');
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    this.#o.sampler.clear();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      // Whatever is still open after the last bytes had a moment to leave.
      setTimeout(() => this.#server.closeAllConnections(), 100).unref();
    });
  }

  #broadcast(event: string, data: string): void {
    const frame = `event: ${event}\ndata: ${data}\n\n`;
    for (const c of this.#clients) {
      if (c.res.writableLength > MAX_CLIENT_BACKLOG) {
        this.#clients.delete(c);
        c.res.destroy();
        continue;
      }
      c.res.write(frame);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = this.#o.auth;
    if (!auth.required && !isLoopbackHostHeader(req.headers.host, this.#port)) {
      this.#send(res, 421, 'text/plain; charset=utf-8', 'this dashboard answers requests to 127.0.0.1 only\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const method = req.method ?? 'GET';
    // Static files the login page needs as well.
    if (method === 'GET' && path === '/app.css') return this.#send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
    if (method === 'POST' && path === '/login' && auth.required) return this.#login(req, res);
    if (!auth.check(req)) {
      if (method === 'GET' && path === '/') return this.#send(res, 200, 'text/html; charset=utf-8', loginHtml(this.#o.title, false));
      res.setHeader('www-authenticate', 'Bearer realm="kook-rtp dashboard"');
      return this.#send(res, 401, 'text/plain; charset=utf-8', 'unauthorized: send Authorization: Bearer <token>\n');
    }
    if (method !== 'GET' && method !== 'HEAD') return this.#send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    switch (path) {
      case '/':
        return this.#send(res, 200, 'text/html; charset=utf-8', pageHtml(this.#o.title));
      case '/app.js':
        return this.#send(res, 200, 'text/javascript; charset=utf-8', PAGE_JS);
      case '/assets/uPlot.iife.min.js':
        return this.#send(res, 200, 'text/javascript; charset=utf-8', loadUplot().js);
      case '/assets/uPlot.min.css':
        return this.#send(res, 200, 'text/css; charset=utf-8', loadUplot().css);
      case '/events':
        return this.#events(req, res);
      case '/api/state':
        return this.#send(res, 200, 'application/json', JSON.stringify(this.#hello()));
      case '/metrics': {
        const text = await this.#o.metrics.render(this.#o.sampler.scrape());
        return this.#send(res, 200, this.#o.metrics.registry.contentType, text);
      }
      default:
        return this.#send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  #hello(): { t: number; rows: DashboardRow[]; history: ReturnType<DashboardSampler['history']> } {
    return { t: this.#lastT, rows: this.#o.sampler.rows(), history: this.#o.sampler.history() };
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closing !== undefined) return this.#send(res, 503, 'text/plain; charset=utf-8', 'closing\n');
    if (this.#clients.size >= this.#o.maxClients) return this.#send(res, 503, 'text/plain; charset=utf-8', 'too many pages open\n');
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(this.#hello())}\n\n`);
    const client: Client = { res };
    this.#clients.add(client);
    const drop = (): void => {
      this.#clients.delete(client);
    };
    req.on('close', drop);
    res.on('error', drop);
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length > MAX_LOGIN_BODY) return this.#send(res, 413, 'text/plain; charset=utf-8', 'too large\n');
    }
    const token = new URLSearchParams(body).get('token') ?? '';
    if (!this.#o.auth.matches(token)) return this.#send(res, 401, 'text/html; charset=utf-8', loginHtml(this.#o.title, true));
    res.setHeader('set-cookie', `${SESSION_COOKIE}=${this.#o.auth.cookieValue}; HttpOnly; SameSite=Strict; Path=/`);
    res.setHeader('location', './');
    this.#send(res, 303, 'text/plain; charset=utf-8', '');
  }

  #send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}

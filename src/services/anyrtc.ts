/**
 * anyRTC recording client: start/stop a room recording and query recordings.
 *
 * The two query endpoints allow at most 5 calls per minute, counted by the service when each call ARRIVES. A built-in
 * rolling-window limiter queues calls so the client never has more than 5 calls in any window, each slot counted
 * from the moment its answer came back (never earlier than the service saw the request: a slow first request and a
 * quick sixth on a warm connection cannot land inside one window). Should the service still answer 299 (another
 * client on the same app, a clock of its own), the call waits a whole window and is sent again, up to
 * `rateLimitRetries` times. Queries are signed with `md5(appId + timestamp + vodToken + random)` over exactly the
 * text that is sent.
 * @see /work/shared/seeds/anyrtc-recording.zh.md
 */
import { createHash, randomInt } from 'node:crypto';
import { ServiceError } from './errors.js';
import { num, postJson, str, type FetchLike } from './http.js';
import { systemClock, type WallClock } from '../util/clock.js';
import { isPlainObject } from '../util/object.js';

/** Documented query result codes. */
export const AnyRtcCode = {
  ok: 200,
  missingParameter: 400,
  unknownApp: 247,
  badSignature: 281,
  badTimestamp: 282,
  appInvalid: 284,
  tooFrequent: 299,
  internal: 501,
} as const;

/** Default hosts. */
export const ANYRTC_RECORD_BASE = 'https://www.anyrtc.io';
/** Default query host. */
export const ANYRTC_QUERY_BASE = 'https://vdn.anyrtc.cc';

/** The signature: md5 of appId, timestamp, vodToken and random concatenated in that order, lowercase hex. */
export function anyRtcSignature(appId: string, timestamp: number | string, vodToken: string, random: string): string {
  return createHash('md5').update(`${appId}${String(timestamp)}${vodToken}${random}`, 'utf8').digest('hex');
}

/**
 * A rolling-window limiter: at most `maxCalls` calls in any `windowMs`; callers beyond that wait their turn (FIFO).
 * A call holds its slot from the grant until it calls `release()`, and the slot then counts until strictly more than
 * `windowMs` after that moment: measured from the answer, the window covers the request's arrival at the service
 * whatever the latency.
 */
export class RollingWindowLimiter {
  /** When each finished call's slot was stamped (its release time), oldest first. */
  private readonly sent: number[] = [];
  private readonly waiting: ((release: () => void) => void)[] = [];
  private inFlight = 0;
  private heldUntil = 0;
  private timer: unknown;

  constructor(
    private readonly maxCalls: number,
    private readonly windowMs: number,
    private readonly clock: WallClock = systemClock,
  ) {}

  /**
   * Resolves when a call may be sent, with the function to call once its answer (or failure) arrived. The slot counts
   * from that call; a slot never released blocks for good, so release in a `finally`.
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  /** Grants nothing before `at` (clock ms): after the service refused a call for frequency. */
  holdUntil(at: number): void {
    this.heldUntil = Math.max(this.heldUntil, at);
    this.drain();
  }

  /** Calls queued behind the limit. */
  get queued(): number {
    return this.waiting.length;
  }

  private drain(): void {
    const now = this.clock.now();
    // Strictly: a call exactly windowMs after a stamp is still inside that window (the service counts it so).
    while (this.sent.length > 0 && (this.sent[0] ?? 0) + this.windowMs < now) this.sent.shift();
    while (this.waiting.length > 0 && now >= this.heldUntil && this.sent.length + this.inFlight < this.maxCalls) {
      this.inFlight++;
      let released = false;
      this.waiting.shift()?.(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        // Stamps stay sorted: a release is never earlier than one before it on the same clock.
        this.sent.push(Math.max(this.clock.now(), this.sent[this.sent.length - 1] ?? 0));
        this.drain();
      });
    }
    // Wake up when the oldest stamp leaves the window or the hold ends; in-flight calls wake us on release.
    if (this.waiting.length > 0 && this.timer === undefined) {
      const at = now < this.heldUntil ? this.heldUntil : this.sent.length + this.inFlight >= this.maxCalls && this.sent.length > 0 ? (this.sent[0] ?? now) + this.windowMs + 1 : undefined;
      if (at !== undefined) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.drain();
        }, Math.max(1, at - now));
      }
    }
  }
}

/** One recording in a query answer. */
export interface AnyRtcRecording {
  fileid?: string;
  filesize: number;
  /** 0 not transcoded, 1 transcoding, 2 done, 3 failed. */
  filestatus: number;
  filetype: string;
  upload_time: string;
  upload_timestamp: number;
  room_id?: string;
  download_url: string;
  start_time: number;
  end_time: number;
  file_duration: number;
}

/** A query answer. */
export interface AnyRtcListResult {
  readonly requestId: string;
  readonly files: AnyRtcRecording[];
  readonly count: number;
}

/** Options of {@link createAnyRtcClient}. */
export interface AnyRtcClientOptions {
  appId: string;
  /** From the console; signs queries. Never logged nor put in errors. */
  vodToken: string;
  /** Default {@link ANYRTC_RECORD_BASE}. */
  recordBaseUrl?: string;
  /** Default {@link ANYRTC_QUERY_BASE}. */
  queryBaseUrl?: string;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Largest answer body read, bytes; a larger one fails with `RESPONSE_TOO_LARGE`. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Query limit, default 5 per 60 000 ms (the documented rule; the window length is an option for tests). */
  queryLimit?: { maxCalls: number; windowMs: number };
  /** How many times a query answered 299 (too frequent) is sent again, each after a whole window. Default 2. */
  rateLimitRetries?: number;
  fetch?: FetchLike;
  clock?: WallClock;
  /** Random string source (6..10 characters), injectable for test vectors. */
  random?: () => string;
}

/** Start-record options. */
export interface AnyRtcStartOptions {
  roomId: string;
  /** Default `Meet` (case-sensitive). */
  type?: string;
  /** Private cloud only. */
  path?: string;
  /** A string, or an object that is sent stringified. */
  userData?: string | Record<string, unknown>;
  /** Private cloud only, e.g. `ar_{roomid}_{date}_{random}`. */
  nameRule?: string;
}

/** The anyRTC client. */
export interface AnyRtcClient {
  /** @throws ServiceError `SERVICE_API` unless the answer is `{"result":"ok"}`; `HTTP_ERROR`, `TIMEOUT` */
  startRecord(o: AnyRtcStartOptions): Promise<void>;
  /** @throws ServiceError as for startRecord */
  stopRecord(o: { roomId: string; type?: string }): Promise<void>;
  /** Recordings uploaded between two ms timestamps, paged. Rate limited. @throws ServiceError (see {@link anyRtcError}) */
  listByTime(o: { begTime: number; endTime: number; pageNum: number; pageMax: number }): Promise<AnyRtcListResult>;
  /** Recordings of a room between two ms timestamps. Rate limited. @throws ServiceError */
  listByRoom(o: { roomId: string; begTime: number; endTime: number }): Promise<AnyRtcListResult>;
  /** Query calls waiting for the limiter. */
  readonly queuedQueries: number;
}

/** Maps a query error code to a typed error. */
export function anyRtcError(code: number | undefined, message: string, requestId?: string): ServiceError {
  const f = { ...(code === undefined ? {} : { apiCode: code }), ...(requestId ? { requestId } : {}) };
  switch (code) {
    case AnyRtcCode.missingParameter:
      return new ServiceError('VALIDATION_FAILED', 'anyrtc', `400 missing parameter (${message})`, f);
    case AnyRtcCode.unknownApp:
      return new ServiceError('PERMISSION_DENIED', 'anyrtc', `247 unknown appId (${message})`, f);
    case AnyRtcCode.badSignature:
      return new ServiceError('SIGNATURE_INVALID', 'anyrtc', `281 bad signature (${message}); check the vodToken`, f);
    case AnyRtcCode.badTimestamp:
      return new ServiceError('VALIDATION_FAILED', 'anyrtc', `282 bad timestamp (${message}); check the clock (ms)`, f);
    case AnyRtcCode.appInvalid:
      return new ServiceError('PERMISSION_DENIED', 'anyrtc', `284 app invalid or deleted (${message})`, f);
    case AnyRtcCode.tooFrequent:
      return new ServiceError('RATE_LIMITED', 'anyrtc', `299 more than 5 calls in a minute (${message})`, f);
    case AnyRtcCode.internal:
      return new ServiceError('SERVICE_API', 'anyrtc', `501 internal error (${message}); retry later`, f);
    default:
      return new ServiceError('SERVICE_API', 'anyrtc', `unexpected code ${String(code)} (${message})`, f);
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Creates an anyRTC client. @throws ServiceError `VALIDATION_FAILED` for a missing appId or vodToken */
export function createAnyRtcClient(options: AnyRtcClientOptions): AnyRtcClient {
  if (typeof options.appId !== 'string' || options.appId === '') {
    throw new ServiceError('VALIDATION_FAILED', 'anyrtc', 'appId is required', { field: 'appId' });
  }
  if (typeof options.vodToken !== 'string' || options.vodToken === '') {
    throw new ServiceError('VALIDATION_FAILED', 'anyrtc', 'vodToken is required', { field: 'vodToken' });
  }
  const clock = options.clock ?? systemClock;
  const limit = options.queryLimit ?? { maxCalls: 5, windowMs: 60_000 };
  const limiter = new RollingWindowLimiter(limit.maxCalls, limit.windowMs, clock);
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const recordBase = (options.recordBaseUrl ?? ANYRTC_RECORD_BASE).replace(/\/+$/, '');
  const queryBase = (options.queryBaseUrl ?? ANYRTC_QUERY_BASE).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const random = options.random ?? (() => Array.from({ length: 8 }, () => ALNUM[randomInt(ALNUM.length)]).join(''));
  const { appId, vodToken } = options;

  async function record(action: 'startrecord' | 'stoprecord', roomId: string, type: string, body: Record<string, unknown>): Promise<void> {
    if (typeof roomId !== 'string' || roomId === '') {
      throw new ServiceError('VALIDATION_FAILED', 'anyrtc', 'roomId is required', { field: 'roomId' });
    }
    const q = new URLSearchParams({ AppID: appId, ArRoomID: roomId, Type: type });
    const res = await postJson('anyrtc', `${recordBase}/anyapi/v1/${action}?${q.toString()}`, body, { timeoutMs, fetch: options.fetch, secrets: [vodToken], maxResponseBytes: options.maxResponseBytes });
    const result = isPlainObject(res.json) ? str(res.json.result) : undefined;
    if (result !== 'ok') {
      throw new ServiceError(res.status >= 400 ? 'HTTP_ERROR' : 'SERVICE_API', 'anyrtc', `${action} failed: result ${JSON.stringify(result ?? null)} (HTTP ${res.status}); the server must be on anyRTC's IP whitelist`, {
        httpStatus: res.status,
      });
    }
  }

  async function query(path: string, fields: Record<string, unknown>): Promise<AnyRtcListResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await queryOnce(path, fields);
      } catch (err) {
        if (!(err instanceof ServiceError && err.apiCode === AnyRtcCode.tooFrequent) || attempt >= rateLimitRetries) throw err;
        // The service counted more calls than we did: wait a whole window from its refusal before the next try.
        limiter.holdUntil(clock.now() + limit.windowMs);
      }
    }
  }

  async function queryOnce(path: string, fields: Record<string, unknown>): Promise<AnyRtcListResult> {
    const release = await limiter.acquire();
    let res: Awaited<ReturnType<typeof postJson>>;
    try {
      const timestamp = clock.now();
      const r = random();
      if (r.length < 6 || r.length > 10) throw new ServiceError('VALIDATION_FAILED', 'anyrtc', 'random must be 6..10 characters', { field: 'random' });
      const body = { appId, random: r, signature: anyRtcSignature(appId, timestamp, vodToken, r), timestamp, ...fields };
      res = await postJson('anyrtc', `${queryBase}/oauth/anyapi/v1/videoInfo/${path}`, body, { timeoutMs, fetch: options.fetch, secrets: [vodToken], maxResponseBytes: options.maxResponseBytes });
    } finally {
      // The answer (or the failure) is here: the service saw the request no later than now.
      release();
    }
    if (!isPlainObject(res.json)) throw new ServiceError('HTTP_ERROR', 'anyrtc', `${path} answered HTTP ${res.status} without JSON`, { httpStatus: res.status });
    const a = res.json;
    const code = num(a.code);
    const requestId = a.requestid === undefined ? '' : String(a.requestid);
    // Real answers say message/content; the document's table says msg/conent.
    const message = str(a.message) ?? str(a.msg) ?? '';
    if (code !== AnyRtcCode.ok) throw anyRtcError(code, message, requestId);
    const content = isPlainObject(a.content) ? a.content : isPlainObject(a.conent) ? a.conent : {};
    const files = Array.isArray(content.data) ? (content.data.filter(isPlainObject) as unknown as AnyRtcRecording[]) : [];
    const count = isPlainObject(content.cnt) ? (num(content.cnt.cnt) ?? files.length) : files.length;
    return { requestId, files, count };
  }

  const intField = (name: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ServiceError('VALIDATION_FAILED', 'anyrtc', `${name} must be a non-negative integer (ms)`, { field: name });
    }
  };

  return {
    get queuedQueries() {
      return limiter.queued;
    },
    async startRecord(o) {
      const body: Record<string, unknown> = {};
      if (o.path !== undefined) body.Path = o.path;
      if (o.userData !== undefined) body.UserData = typeof o.userData === 'string' ? o.userData : JSON.stringify(o.userData);
      if (o.nameRule !== undefined) body.NameRule = o.nameRule;
      await record('startrecord', o.roomId, o.type ?? 'Meet', body);
    },
    async stopRecord(o) {
      await record('stoprecord', o.roomId, o.type ?? 'Meet', {});
    },
    async listByTime(o) {
      intField('begTime', o.begTime);
      intField('endTime', o.endTime);
      intField('pageNum', o.pageNum);
      intField('pageMax', o.pageMax);
      return query('getVodListByTime', { begTime: o.begTime, endTime: o.endTime, pageNum: o.pageNum, pageMax: o.pageMax });
    },
    async listByRoom(o) {
      if (typeof o.roomId !== 'string' || o.roomId === '') throw new ServiceError('VALIDATION_FAILED', 'anyrtc', 'roomId is required', { field: 'roomId' });
      intField('begTime', o.begTime);
      intField('endTime', o.endTime);
      return query('getVodInfoByRoomId', { roomId: o.roomId, begTime: o.begTime, endTime: o.endTime });
    },
  };
}

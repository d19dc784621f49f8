/**
 * A KOOK voice emulator: the four `voice/*` HTTP endpoints and, for each join, a UDP media endpoint that behaves
 * like KOOK's media server (first-source binding, the 120% bitrate kill, idle reclaim, RTCP receiver reports).
 *
 * Product code: the CLI, the tests and bot developers use it to run a bot against something that fails the way
 * KOOK does. It follows the voice document (`seeds/kook-voice-api.zh.md`) and KOOK's API introduction and
 * rate-limit pages. Where those documents are silent the choices are listed here, each made to be strict:
 * - Business errors (unknown channel, wrong password, no quota, malformed body) answer HTTP 200 with envelope code
 *   40000, KOOK's generic refusal code; a bad token answers HTTP 401 with `{code: 401, message: '你的用户凭证不正确',
 *   data: {name: 'Unauthorized', status: 401}}` as KOOK does; a rate-limited call HTTP 429 with code 429.
 * - `voice/list` lists the channels the bot has JOINED (the seed: 获取机器人加入的语音频道列表), paged with `page` and
 *   `page_size` (default 50, capped at 50 like every KOOK list).
 * - Joining a channel again replaces its stream: the old address is closed and a new one answered (the seed: call
 *   join again "重新生成ip地址和端口").
 * - The requested `audio_ssrc` is the final one unless another live stream already uses it; then a fresh random
 *   SSRC is answered (the seed calls the answered values "最终的ssrc"/"最终的payload_type"). A payload type
 *   outside 0-127 or colliding with RTCP on a muxed port (RFC 5761 §4: 64-95) is refused with 40000.
 * - `leave` of a channel the bot is not in succeeds (leaving is idempotent); `keep-alive` of one answers 40000,
 *   so a bot learns its address was reclaimed.
 * - Each bot has a limited number of pushes (the seed: 每个机器人还是有限额的): `maxStreams`, default 10.
 * - Join answers `rtcp_port` as an int (the seed's table) even though the seed's example shows a string.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { KookRtpError } from '../../errors.js';
import { BodyTooLargeError, readBody } from '../../util/body.js';
import { isPlainObject } from '../../util/object.js';
import { RateLimiter, type RateLimitRule } from './rateLimiter.js';
import { KookMediaEndpoint, type KookStreamEvents, type KookStreamReport } from './stream.js';

/** A voice channel known to the emulator, with KOOK's field names. */
export interface KookEmulatorChannelConfig {
  readonly id: string;
  readonly guild_id?: string;
  readonly name?: string;
  readonly parent_id?: string;
  /** The room's bitrate, bits/s; default the emulator's `bitrate`. */
  readonly bitrate?: number;
  /** Set to make the room require this password on join. */
  readonly password?: string;
}

/** Options of {@link startKookEmulator}. Every field is optional. */
export interface KookEmulatorOptions {
  /** Interface for HTTP and UDP; default 127.0.0.1. */
  readonly host?: string;
  /** HTTP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** The `ip` answered by join; default `host` (127.0.0.1 when `host` is 0.0.0.0). */
  readonly mediaHost?: string;
  /** The bot token it accepts; random when unset (read it back from the handle). */
  readonly token?: string;
  /** Default room bitrate, bits/s. Default 48 000 (the seed's example). */
  readonly bitrate?: number;
  /** Voice channels. Default: three channels `1001`, `1002`, `1003` in guild `2001`. */
  readonly channels?: readonly KookEmulatorChannelConfig[];
  /**
   * Silence after which a stream's address is reclaimed unless keep-alive is called, ms. Default 60 000: KOOK does
   * not publish its threshold but asks for keep-alive every 45 s, so a bot following that rule never sees a reclaim
   * and a bot that forgets it sees one within a minute of silence.
   */
  readonly idleReclaimMs?: number;
  /** Kill threshold as a multiple of the room bitrate. Default 1.2 (the seed's 120%). */
  readonly killRatio?: number;
  /** Sliding window of the bitrate check, ms. Default 1000. */
  readonly bitrateWindowMs?: number;
  /** Per-bucket limit; default 60 per 60 s. `false` disables it. */
  readonly rateLimit?: RateLimitRule | false;
  /** Global limit across buckets; default 300 per 60 s. `false` disables it. */
  readonly globalRateLimit?: RateLimitRule | false;
  /** Live streams one bot may hold. Default 10. */
  readonly maxStreams?: number;
  /** Decode the Opus to measure level (and write WAVs). Default true. */
  readonly decodeAudio?: boolean;
  /** When set, each stream's decoded audio is written there as a WAV (48 kHz stereo 16-bit). */
  readonly wavDir?: string;
}

/** An injected HTTP failure, for testing a client's error handling. */
export interface KookEmulatorFault {
  /** Which endpoint; `'*'` for any. */
  readonly endpoint: 'join' | 'list' | 'leave' | 'keep-alive' | '*';
  /** How many requests it hits. Default 1. */
  readonly times?: number;
  /** Hold the answer this long first, ms. */
  readonly delayMs?: number;
  /** Answer with this HTTP status and envelope `{code: status}`. */
  readonly status?: number;
  /** Answer HTTP 200 with this envelope code (non-zero). */
  readonly apiCode?: number;
  /** The envelope message with `status`/`apiCode`. */
  readonly message?: string;
  /** Destroy the connection instead of answering. */
  readonly dropConnection?: boolean;
  /** Run the real handler first (state changes happen), then fail: the "did my join happen?" case. */
  readonly afterProcessing?: boolean;
}

/** One HTTP request as the emulator saw it (the token is never recorded). */
export interface KookEmulatorRequestLog {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly apiCode: number | undefined;
  readonly atMs: number;
}

/** Events of the emulator; stream events carry the channel id. */
export interface KookEmulatorEvents extends KookStreamEvents {
  /** A join created a stream. */
  join: { readonly channelId: string; readonly port: number; readonly rtcpPort: number; readonly ssrc: number; readonly payloadType: number };
  /** A leave closed a stream. */
  leave: { readonly channelId: string; readonly report: KookStreamReport };
  /** One HTTP request was answered. */
  request: KookEmulatorRequestLog;
}

/** A channel as seen through the emulator handle. */
export interface KookEmulatorChannelView {
  /** The channel's configuration. */
  readonly config: Required<Omit<KookEmulatorChannelConfig, 'password'>> & { readonly password: string | undefined };
  /** The live stream's report (a snapshot), if the bot is in the channel. */
  readonly stream: KookStreamReport | undefined;
  /** Reports of this channel's streams, oldest first, the live one last. */
  reports(): KookStreamReport[];
  /** Changes the room bitrate for future joins (and the live stream's kill threshold). */
  setBitrate(bitrate: number): void;
}

/** The handle returned by {@link startKookEmulator}. */
export interface KookEmulator {
  /** Base URL to give the client, e.g. `http://127.0.0.1:40123/api/v3`. */
  readonly apiBase: string;
  /** The bot token it accepts. */
  readonly token: string;
  /** Stops HTTP and every media endpoint (reports are finalised with reason `closed`). */
  close(): Promise<void>;
  /** A channel's view; throws `INVALID_ARGUMENT` for an unknown id. */
  channel(id: string): KookEmulatorChannelView;
  /** Every stream report (finished ones, then snapshots of live ones). */
  reports(): KookStreamReport[];
  /** HTTP requests answered so far. */
  requests(): KookEmulatorRequestLog[];
  /** 429 answers given per bucket (`global` for the global limit). */
  rateLimitRefusals(): Record<string, number>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof KookEmulatorEvents>(event: E, listener: (payload: KookEmulatorEvents[E]) => void): () => void;
  /** Resolves with the next `event` payload matching `predicate`; rejects with `TIMEOUT` after `timeoutMs` (10 s). */
  waitFor<E extends keyof KookEmulatorEvents>(
    event: E,
    predicate?: (payload: KookEmulatorEvents[E]) => boolean,
    timeoutMs?: number,
  ): Promise<KookEmulatorEvents[E]>;
  /** Queues an HTTP failure (see {@link KookEmulatorFault}). */
  injectFault(fault: KookEmulatorFault): void;
}

interface ChannelState {
  config: { id: string; guild_id: string; name: string; parent_id: string; bitrate: number; password: string | undefined };
  stream: KookMediaEndpoint | undefined;
  reports: KookStreamReport[];
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly message: string,
    readonly data: unknown,
  ) {}
}

const DEFAULT_CHANNELS: readonly KookEmulatorChannelConfig[] = [
  { id: '1001', guild_id: '2001', name: 'Voice 1', parent_id: '3001' },
  { id: '1002', guild_id: '2001', name: 'Voice 2', parent_id: '3001' },
  { id: '1003', guild_id: '2001', name: 'Voice 3', parent_id: '3001' },
];

const MAX_BODY_BYTES = 64 * 1024;
const LIST_PAGE_MAX = 50;

/** KOOK's messages in its default zh-CN, and English for `Accept-Language: en*`. */
const MESSAGES = {
  ok: ['操作成功', 'Success'],
  unauthorized: ['你的用户凭证不正确', 'Your credentials are incorrect'],
  tooMany: ['请求过于频繁，请稍后再试', 'Too many requests, please try again later'],
  notFound: ['接口不存在', 'Not found'],
  methodNotAllowed: ['请求方式不被允许', 'Method not allowed'],
  badJson: ['请求体不是合法的JSON', 'The body is not valid JSON'],
  tooLarge: ['请求体过大', 'The body is too large'],
  channelRequired: ['channel_id 不能为空', 'channel_id is required'],
  noChannel: ['频道不存在', 'The channel does not exist'],
  badPassword: ['频道密码错误', 'Wrong channel password'],
  quota: ['推流额度不足，请在开发者中心联系管理员', 'Push quota exhausted; contact the administrators in the developer centre'],
  badSsrc: ['audio_ssrc 参数错误', 'audio_ssrc is invalid'],
  badPt: ['audio_pt 参数错误', 'audio_pt is invalid'],
  badMux: ['rtcp_mux 参数错误', 'rtcp_mux is invalid'],
  notJoined: ['机器人不在该语音频道中', 'The bot is not in this voice channel'],
  server: ['服务器内部错误', 'Internal server error'],
  badPage: ['分页参数错误', 'Invalid paging parameters'],
} as const;

type MessageKey = keyof typeof MESSAGES;

/**
 * Starts the emulator.
 *
 * @param options - see {@link KookEmulatorOptions}.
 * @returns the handle, once the HTTP server listens.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for bad options; `SOCKET_ERROR` when the port cannot be bound.
 * @example
 * ```ts
 * const kook = await startKookEmulator({ idleReclaimMs: 5000 });
 * const client = createKookClient({ token: kook.token, apiBase: kook.apiBase });
 * const target = await client.join({ channelId: '1001' });
 * ```
 */
export async function startKookEmulator(options: KookEmulatorOptions = {}): Promise<KookEmulator> {
  const host = options.host ?? '127.0.0.1';
  const mediaHost = options.mediaHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const defaultBitrate = options.bitrate ?? 48_000;
  const idleReclaimMs = options.idleReclaimMs ?? 60_000;
  const killRatio = options.killRatio ?? 1.2;
  const bitrateWindowMs = options.bitrateWindowMs ?? 1000;
  const maxStreams = options.maxStreams ?? 10;
  const decodeAudio = options.decodeAudio ?? true;
  for (const [name, v] of [
    ['bitrate', defaultBitrate],
    ['idleReclaimMs', idleReclaimMs],
    ['killRatio', killRatio],
    ['bitrateWindowMs', bitrateWindowMs],
  ] as const) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new KookRtpError('INVALID_ARGUMENT', `emulator option ${name} must be a positive number, found ${String(v)}`);
    }
  }
  if (token.length === 0) throw new KookRtpError('INVALID_ARGUMENT', 'emulator token must not be empty');
  const tokenBytes = Buffer.from(token, 'utf8');
  const limiter = new RateLimiter(
    options.rateLimit === false ? undefined : (options.rateLimit ?? { limit: 60, windowMs: 60_000 }),
    options.globalRateLimit === false ? undefined : (options.globalRateLimit ?? { limit: 300, windowMs: 60_000 }),
  );

  const channels = new Map<string, ChannelState>();
  for (const c of options.channels ?? DEFAULT_CHANNELS) {
    if (typeof c.id !== 'string' || c.id.length === 0) throw new KookRtpError('INVALID_ARGUMENT', 'every emulator channel needs a string id');
    channels.set(c.id, {
      config: {
        id: c.id,
        guild_id: c.guild_id ?? '2001',
        name: c.name ?? `Voice ${c.id}`,
        parent_id: c.parent_id ?? '',
        bitrate: c.bitrate ?? defaultBitrate,
        password: c.password,
      },
      stream: undefined,
      reports: [],
    });
  }
  const joinOrder: string[] = [];
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const faults: Array<KookEmulatorFault & { left: number }> = [];
  const requestLog: KookEmulatorRequestLog[] = [];
  const sockets = new Set<Socket>();
  let closing = false;

  const emit = <E extends keyof KookEmulatorEvents>(event: E, payload: KookEmulatorEvents[E]): void => {
    emitter.emit(event, payload);
  };

  const liveStreams = (): KookMediaEndpoint[] => [...channels.values()].flatMap((c) => (c.stream === undefined ? [] : [c.stream]));

  /** Called by a stream when it ends on its own (kicked, reclaimed) so the channel forgets it. */
  const detach = (state: ChannelState, stream: KookMediaEndpoint): void => {
    if (state.stream !== stream) return;
    state.stream = undefined;
    const i = joinOrder.indexOf(state.config.id);
    if (i >= 0) joinOrder.splice(i, 1);
  };

  const closeStream = async (state: ChannelState, reason: 'leave' | 'rejoined' | 'closed'): Promise<KookStreamReport | undefined> => {
    const stream = state.stream;
    if (stream === undefined) return undefined;
    detach(state, stream);
    return stream.close(reason);
  };

  const lang = (req: IncomingMessage): 0 | 1 => (/^\s*en/i.test(req.headers['accept-language'] ?? '') ? 1 : 0);
  const refuse = (req: IncomingMessage, key: MessageKey, code = 40000, status = 200, data: unknown = []): HttpAnswer =>
    new HttpAnswer(status, code, MESSAGES[key][lang(req)], data);

  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization ?? '';
    const match = /^Bot (.+)$/.exec(header);
    if (match === null) return false;
    const given = Buffer.from(match[1] ?? '', 'utf8');
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };

  // --- endpoint handlers: each returns the answer; throwing is a bug (answered 500) ---

  const handleJoin = async (req: IncomingMessage, body: Record<string, unknown>): Promise<HttpAnswer> => {
    const channelId = idOf(body['channel_id']);
    if (channelId === undefined) return refuse(req, 'channelRequired');
    const state = channels.get(channelId);
    if (state === undefined) return refuse(req, 'noChannel');
    if (state.config.password !== undefined && body['password'] !== state.config.password) return refuse(req, 'badPassword');
    const mux = parseBool(body['rtcp_mux'], true);
    if (mux === undefined) return refuse(req, 'badMux');
    const ptRequested = parseUint(body['audio_pt'], 111, 127);
    if (ptRequested === undefined || (mux && ptRequested >= 64 && ptRequested <= 95)) return refuse(req, 'badPt');
    const ssrcRequested = parseUint(body['audio_ssrc'], 1111, 0xffffffff);
    if (ssrcRequested === undefined) return refuse(req, 'badSsrc');
    // A rejoin releases the old stream first, so it neither counts against the quota nor holds its SSRC.
    if (state.stream !== undefined) {
      const report = await closeStream(state, 'rejoined');
      if (report !== undefined) state.reports.push(report);
    }
    const live = liveStreams();
    if (live.length >= maxStreams) return refuse(req, 'quota');
    const taken = new Set(live.map((s) => s.ssrc));
    let ssrc = ssrcRequested;
    while (taken.has(ssrc)) ssrc = randomInt(1, 0xffffffff);
    const stream = new KookMediaEndpoint({
      channelId,
      host,
      rtcpMux: mux,
      ssrc,
      payloadType: ptRequested,
      bitrate: state.config.bitrate,
      killRatio,
      windowMs: bitrateWindowMs,
      idleReclaimMs,
      decodeAudio,
      ...(options.wavDir === undefined ? {} : { wavDir: options.wavDir }),
      emit: (event, payload) => emitter.emit(event, payload),
      onSelfClose: (s) => {
        detach(state, s);
      },
    });
    try {
      await stream.start();
    } catch (err) {
      await stream.close('closed');
      throw err;
    }
    state.stream = stream;
    joinOrder.push(channelId);
    emit('join', { channelId, port: stream.port, rtcpPort: stream.rtcpPort, ssrc, payloadType: ptRequested });
    return new HttpAnswer(200, 0, MESSAGES.ok[lang(req)], {
      ip: mediaHost,
      port: String(stream.port),
      rtcp_port: stream.rtcpPort,
      rtcp_mux: mux,
      bitrate: state.config.bitrate,
      audio_ssrc: String(ssrc),
      audio_pt: String(ptRequested),
    });
  };

  const handleList = (req: IncomingMessage, query: URLSearchParams): HttpAnswer => {
    const page = parseUint(query.get('page') ?? undefined, 1, 1_000_000);
    const sizeRequested = parseUint(query.get('page_size') ?? undefined, LIST_PAGE_MAX, 1_000_000);
    if (page === undefined || page < 1 || sizeRequested === undefined || sizeRequested < 1) return refuse(req, 'badPage');
    const pageSize = Math.min(LIST_PAGE_MAX, sizeRequested);
    const joined = joinOrder.flatMap((id) => {
      const c = channels.get(id);
      return c === undefined ? [] : [{ id: c.config.id, guild_id: c.config.guild_id, parent_id: c.config.parent_id, name: c.config.name }];
    });
    const items = joined.slice((page - 1) * pageSize, page * pageSize);
    return new HttpAnswer(200, 0, MESSAGES.ok[lang(req)], {
      items,
      meta: { page, page_total: Math.ceil(joined.length / pageSize), page_size: pageSize, total: joined.length },
      sort: {},
    });
  };

  const handleLeave = async (req: IncomingMessage, body: Record<string, unknown>): Promise<HttpAnswer> => {
    const channelId = idOf(body['channel_id']);
    if (channelId === undefined) return refuse(req, 'channelRequired');
    const state = channels.get(channelId);
    if (state === undefined) return refuse(req, 'noChannel');
    const report = await closeStream(state, 'leave');
    if (report !== undefined) {
      state.reports.push(report);
      emit('leave', { channelId, report });
    }
    return new HttpAnswer(200, 0, MESSAGES.ok[lang(req)], {});
  };

  const handleKeepAlive = (req: IncomingMessage, body: Record<string, unknown>): HttpAnswer => {
    const channelId = idOf(body['channel_id']);
    if (channelId === undefined) return refuse(req, 'channelRequired');
    const state = channels.get(channelId);
    if (state === undefined) return refuse(req, 'noChannel');
    if (state.stream === undefined) return refuse(req, 'notJoined');
    state.stream.keepAlive();
    return new HttpAnswer(200, 0, MESSAGES.ok[lang(req)], {});
  };

  const ROUTES: Record<string, { method: 'GET' | 'POST'; endpoint: KookEmulatorFault['endpoint'] }> = {
    '/api/v3/voice/join': { method: 'POST', endpoint: 'join' },
    '/api/v3/voice/list': { method: 'GET', endpoint: 'list' },
    '/api/v3/voice/leave': { method: 'POST', endpoint: 'leave' },
    '/api/v3/voice/keep-alive': { method: 'POST', endpoint: 'keep-alive' },
  };

  const takeFault = (endpoint: KookEmulatorFault['endpoint']): KookEmulatorFault | undefined => {
    const i = faults.findIndex((f) => f.endpoint === endpoint || f.endpoint === '*');
    if (i < 0) return undefined;
    const f = faults[i]!;
    f.left--;
    if (f.left <= 0) faults.splice(i, 1);
    return f;
  };

  const send = (req: IncomingMessage, res: ServerResponse, answer: HttpAnswer, headers: Readonly<Record<string, string>> = {}): void => {
    const payload = JSON.stringify({ code: answer.code, message: answer.message, data: answer.data });
    res.writeHead(answer.status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(payload),
    });
    res.end(payload);
    const entry: KookEmulatorRequestLog = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      status: answer.status,
      apiCode: answer.code,
      atMs: Date.now(),
    };
    requestLog.push(entry);
    emit('request', entry);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = parseRequestUrl(req.url);
    const route = url === undefined ? undefined : ROUTES[url.pathname];
    if (url === undefined || route === undefined) return send(req, res, refuse(req, 'notFound', 404, 404, {}));
    if (!authorized(req)) {
      return send(req, res, new HttpAnswer(401, 401, MESSAGES.unauthorized[lang(req)], { name: 'Unauthorized', status: 401 }));
    }
    if (req.method !== route.method) return send(req, res, refuse(req, 'methodNotAllowed', 405, 405, {}));
    const bucket = `voice/${route.endpoint}`;
    const decision = limiter.take(bucket);
    if (!decision.allowed) return send(req, res, refuse(req, 'tooMany', 429, 429, {}), decision.headers);

    let body: Record<string, unknown> = {};
    if (route.method === 'POST') {
      const raw = await readBody(req, MAX_BODY_BYTES).then(
        (b) => b.toString('utf8'),
        (err: unknown) => {
          if (err instanceof BodyTooLargeError) return undefined;
          throw err;
        },
      );
      if (raw === undefined) return send(req, res, refuse(req, 'tooLarge', 40000, 413, []), decision.headers);
      if (raw.length > 0) {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (!isPlainObject(parsed)) throw new Error('not an object');
          body = parsed;
        } catch {
          return send(req, res, refuse(req, 'badJson'), decision.headers);
        }
      }
    }
    const fault = takeFault(route.endpoint);
    if (fault?.delayMs !== undefined) await delay(fault.delayMs);
    if (res.destroyed) return; // the client gave up while we waited
    if (fault?.dropConnection === true && fault.afterProcessing !== true) {
      req.socket.destroy();
      return;
    }
    const failing = fault !== undefined && (fault.status !== undefined || fault.apiCode !== undefined || fault.dropConnection === true);
    if (failing && fault.afterProcessing !== true) return send(req, res, faultAnswer(req, fault), decision.headers);

    let answer: HttpAnswer;
    switch (route.endpoint) {
      case 'join':
        answer = await handleJoin(req, body);
        break;
      case 'list':
        answer = handleList(req, url.searchParams);
        break;
      case 'leave':
        answer = await handleLeave(req, body);
        break;
      default:
        answer = handleKeepAlive(req, body);
    }
    if (failing) {
      if (fault.dropConnection === true) {
        req.socket.destroy();
        return;
      }
      answer = faultAnswer(req, fault);
    }
    send(req, res, answer, decision.headers);
  };

  const faultAnswer = (req: IncomingMessage, fault: KookEmulatorFault): HttpAnswer => {
    if (fault.status !== undefined) {
      return new HttpAnswer(fault.status, fault.status, fault.message ?? MESSAGES.server[lang(req)], {});
    }
    return new HttpAnswer(200, fault.apiCode ?? 40000, fault.message ?? MESSAGES.server[lang(req)], []);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) send(req, res, new HttpAnswer(500, 500, MESSAGES.server[lang(req)], {}));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new KookRtpError('SOCKET_ERROR', `KOOK emulator cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const apiBase = `http://${urlHost}:${address.port}/api/v3`;

  const channelView = (state: ChannelState): KookEmulatorChannelView => ({
    config: { ...state.config },
    stream: state.stream?.report(),
    reports: () => [...state.reports, ...(state.stream === undefined ? [] : [state.stream.report()])],
    setBitrate: (bitrate: number) => {
      if (!(Number.isFinite(bitrate) && bitrate > 0)) throw new KookRtpError('INVALID_ARGUMENT', `bitrate must be positive, found ${bitrate}`);
      state.config.bitrate = bitrate;
      state.stream?.setBitrate(bitrate);
    },
  });

  // Streams that end by themselves (kicked, reclaimed) land in their channel's history.
  emitter.on('kicked', (p: { channelId: string; report: KookStreamReport }) => channels.get(p.channelId)?.reports.push(p.report));
  emitter.on('reclaimed', (p: { channelId: string; report: KookStreamReport }) => channels.get(p.channelId)?.reports.push(p.report));

  return {
    apiBase,
    token,
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all(
        [...channels.values()].map(async (state) => {
          const report = await closeStream(state, 'closed');
          if (report !== undefined) state.reports.push(report);
        }),
      );
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    channel(id) {
      const state = channels.get(id);
      if (state === undefined) throw new KookRtpError('INVALID_ARGUMENT', `the emulator has no channel ${id}; configure it in options.channels`);
      return channelView(state);
    },
    reports() {
      const done = [...channels.values()].flatMap((c) => c.reports);
      const live = liveStreams().map((s) => s.report());
      return [...done.sort((a, b) => a.startedAt - b.startedAt), ...live];
    },
    requests() {
      return [...requestLog];
    },
    rateLimitRefusals() {
      return Object.fromEntries(limiter.refusals);
    },
    on(event, listener) {
      emitter.on(event, listener as (p: unknown) => void);
      return () => emitter.off(event, listener as (p: unknown) => void);
    },
    waitFor(event, predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          emitter.off(event, listener);
          reject(new KookRtpError('TIMEOUT', `no ${String(event)} event within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (payload: KookEmulatorEvents[typeof event]): void => {
          if (predicate !== undefined && !predicate(payload)) return;
          clearTimeout(timer);
          emitter.off(event, listener);
          resolve(payload);
        };
        emitter.on(event, listener);
      });
    },
    injectFault(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
  };
}

/** The request target as a URL; undefined for targets `new URL` refuses (`//`, `//[`), which no route matches. */
function parseRequestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://emulator');
  } catch {
    return undefined;
  }
}

function idOf(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  // Loosely typed clients send numeric ids; KOOK ids are strings of digits either way.
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return undefined;
}

/** A non-negative integer sent as a number or decimal string; `dflt` when absent, undefined when malformed. */
function parseUint(v: unknown, dflt: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= max ? n : undefined;
}

function parseBool(v: unknown, dflt: boolean): boolean | undefined {
  if (v === undefined || v === null) return dflt;
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  return undefined;
}

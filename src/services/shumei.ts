/**
 * Shumei (数美) audio-stream moderation v4 client: submit a stream URL for review, close it.
 *
 * Both document revisions are supported (rev2 adds the AUDIOPOLITICAL, BANEDAUDIO, VOICE and AUDIOSCENE labels and
 * `detail.dupRequestId`). Every documented rule is checked before sending, so a bad request fails fast with
 * `VALIDATION_FAILED` and the failing `field` instead of a round trip ending in 1902.
 * @see /work/shared/seeds/shumei-audiostream-v4.zh.md, shumei-audiostream-v4-rev2.zh.md
 */
import { ServiceError } from './errors.js';
import { num, postJson, str, type FetchLike } from './http.js';
import { sleep, systemClock, type WallClock } from '../util/clock.js';
import { isPlainObject } from '../util/object.js';

/** Shumei's clusters. Shanghai reviews Chinese only. */
export const SHUMEI_CLUSTERS = {
  xjp: 'http://api-audiostream-xjp.fengkongcloud.com',
  gg: 'http://api-audiostream-gg.fengkongcloud.com',
  sh: 'http://api-audiostream-sh.fengkongcloud.com',
} as const;

/** A cluster name. */
export type ShumeiCluster = keyof typeof SHUMEI_CLUSTERS;

/** Documented result codes. */
export const ShumeiCode = {
  ok: 1100,
  qpsLimit: 1901,
  badParameter: 1902,
  serviceFailure: 1903,
  pullFailed: 1904,
  noPermission: 9101,
  /** `detail.errorCode`: duplicate push. */
  duplicatePush: 1001,
} as const;

/** `eventId` values. */
export const SHUMEI_EVENT_IDS = ['audiobook', 'education', 'game', 'live', 'ecommerce', 'voiceroom', 'private', 'default', 'other'] as const;
/** `type` labels: both revisions, plus POLITICAL, which the documents' own request example sends. */
export const SHUMEI_TYPE_LABELS = [
  'POLITICS', 'PORN', 'AD', 'MOAN', 'ANTHEN', 'GENDER', 'TIMBRE', 'ABUSE', 'SING', 'LANGUAGE', 'MINOR',
  'AUDIOPOLITICAL', 'BANEDAUDIO', 'VOICE', 'AUDIOSCENE', 'POLITICAL',
] as const;
/** `businessType` labels, both revisions. */
export const SHUMEI_BUSINESS_LABELS = ['GENDER', 'TIMBRE', 'SING', 'LANGUAGE', 'MINOR', 'VOICE', 'AUDIOSCENE'] as const;
/** `data.streamType` values. */
export const SHUMEI_STREAM_TYPES = ['NORMAL', 'ZEGO', 'AGORA', 'TRTC'] as const;
/** `data.lang` values. */
export const SHUMEI_LANGS = ['zh', 'en', 'ar'] as const;
/** `data.role` values. */
export const SHUMEI_ROLES = ['ADMIN', 'HOST', 'SYSTEM', 'USER'] as const;
/** Schemes Shumei pulls from (rtmp, rtmps, HLS and HTTP-FLV over http/https). */
export const SHUMEI_URL_SCHEMES = ['rtmp:', 'rtmps:', 'http:', 'https:'] as const;
/** `data` is at most 1 MB. */
export const SHUMEI_MAX_DATA_BYTES = 1024 * 1024;
/** `btId` is at most 128 characters. */
export const SHUMEI_MAX_BTID = 128;

/** `data.zegoParam`. */
export interface ShumeiZegoParam { tokenId?: string; streamId?: string; roomId?: string; testEnv?: boolean }
/** `data.agoraParam`. */
export interface ShumeiAgoraParam { appId?: string; channel?: string; token?: string; uid?: number; isMixingEnabled?: boolean; channelProfile?: 0 | 1 }
/** `data.trtcParam`. */
export interface ShumeiTrtcParam { sdkAppId: number; demoSences: 2 | 4; userId: string; userSig: string; roomId?: number; strRoomId?: string }

/** The `data` object of a submit. */
export interface ShumeiStreamData {
  /** User account id (required). */
  tokenId: string;
  /** Stream id, at most 128 characters (required). */
  btId: string;
  /** Default `NORMAL`. */
  streamType?: (typeof SHUMEI_STREAM_TYPES)[number];
  /** Required when `streamType` is NORMAL. */
  url?: string;
  /** Default `zh`. */
  lang?: (typeof SHUMEI_LANGS)[number];
  zegoParam?: ShumeiZegoParam;
  initDomain?: 1 | 2;
  trtcParam?: ShumeiTrtcParam;
  agoraParam?: ShumeiAgoraParam;
  room?: string;
  role?: (typeof SHUMEI_ROLES)[number];
  returnAllText?: 0 | 1;
  returnPreText?: 0 | 1;
  returnPreAudio?: 0 | 1;
  /** `passThrough` comes back in every callback. */
  extra?: { passThrough?: Record<string, unknown> };
  liveTitle?: string;
  anchorName?: string;
}

/** What {@link ShumeiClient.submit} takes. */
export interface ShumeiSubmitOptions {
  /** Default: the client's `appId`, else `default`. */
  appId?: string;
  /** Default `default`. */
  eventId?: (typeof SHUMEI_EVENT_IDS)[number];
  /** Risk labels joined with `_`, e.g. `POLITICS_PORN_MOAN`. `type` or `businessType` is required. */
  type?: string;
  /** Business labels joined with `_`. */
  businessType?: string;
  /** Where Shumei POSTs results (http or https). */
  callback: string;
  /** The stream. */
  data: ShumeiStreamData;
}

/** A successful submit. */
export interface ShumeiSubmitResult {
  /** Use it to close the stream and to match callbacks. */
  readonly requestId: string;
  readonly code: number;
  readonly message: string;
}

/** Options of {@link createShumeiClient}. */
export interface ShumeiClientOptions {
  /** The company key. Never logged nor put in errors. */
  accessKey: string;
  /** Default appId for submits. */
  appId?: string;
  /** Cluster, default `xjp`. Ignored when `baseUrl` is set. */
  cluster?: ShumeiCluster;
  /** Base URL (emulators, proxies). */
  baseUrl?: string;
  /** Submit timeout, default 5000 ms. */
  submitTimeoutMs?: number;
  /** Close timeout, default 1000 ms (the documented suggestion). */
  closeTimeoutMs?: number;
  /** Attempts on 1901 (QPS limit), default 3. */
  maxAttempts?: number;
  /** First backoff after 1901, doubled per attempt with jitter; default 200 ms. */
  backoffMs?: number;
  /** Largest answer body read, bytes; a larger one fails with `RESPONSE_TOO_LARGE`. Default 1 MiB. */
  maxResponseBytes?: number;
  fetch?: FetchLike;
  clock?: WallClock;
}

/** The Shumei client. */
export interface ShumeiClient {
  /**
   * Validates and submits a stream for review.
   * @throws ServiceError `VALIDATION_FAILED` (before sending, with `field`), `DUPLICATE_STREAM` (with `dupRequestId`),
   *   `RATE_LIMITED` (1901 after the retries), `PERMISSION_DENIED` (9101), `SERVICE_API` (1903, 1904, others),
   *   `HTTP_ERROR`, `TIMEOUT`
   */
  submit(options: ShumeiSubmitOptions): Promise<ShumeiSubmitResult>;
  /** Closes a stream under review. @throws ServiceError as for submit */
  close(requestId: string): Promise<{ requestId: string; code: number; message: string }>;
  /** The base URL in use. */
  readonly baseUrl: string;
}

/** Creates a Shumei client. @throws ServiceError `VALIDATION_FAILED` for a missing accessKey or bad cluster */
export function createShumeiClient(options: ShumeiClientOptions): ShumeiClient {
  if (typeof options.accessKey !== 'string' || options.accessKey === '') {
    throw new ServiceError('VALIDATION_FAILED', 'shumei', 'accessKey is required', { field: 'accessKey' });
  }
  const cluster = options.cluster ?? 'xjp';
  if (!(cluster in SHUMEI_CLUSTERS)) {
    throw new ServiceError('VALIDATION_FAILED', 'shumei', `cluster must be one of xjp, gg, sh, got "${String(cluster)}"`, { field: 'cluster' });
  }
  const baseUrl = (options.baseUrl ?? SHUMEI_CLUSTERS[cluster]).replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const backoffMs = options.backoffMs ?? 200;
  const accessKey = options.accessKey;

  async function call(path: string, body: Record<string, unknown>, timeoutMs: number) {
    for (let attempt = 1; ; attempt++) {
      const res = await postJson('shumei', baseUrl + path, body, { timeoutMs, fetch: options.fetch, secrets: [accessKey], maxResponseBytes: options.maxResponseBytes });
      if (res.status < 200 || res.status >= 300) {
        throw new ServiceError('HTTP_ERROR', 'shumei', `${path} answered HTTP ${res.status}`, { httpStatus: res.status });
      }
      if (!isPlainObject(res.json)) {
        throw new ServiceError('SERVICE_API', 'shumei', `${path} answered with something that is not a JSON object`, { httpStatus: res.status });
      }
      const answer = res.json;
      const code = num(answer.code);
      if (code === ShumeiCode.qpsLimit && attempt < maxAttempts) {
        // 1901 is transient: back off (exponential, with jitter so parallel bots do not retry in step).
        await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), { clock });
        continue;
      }
      return checkShumeiAnswer(answer);
    }
  }

  return {
    baseUrl,
    async submit(opts) {
      const body = buildShumeiSubmitBody(accessKey, opts, options.appId);
      const a = await call('/audiostream/v4', body, options.submitTimeoutMs ?? 5000);
      return { requestId: a.requestId, code: a.code, message: a.message };
    },
    async close(requestId) {
      if (typeof requestId !== 'string' || requestId === '') {
        throw new ServiceError('VALIDATION_FAILED', 'shumei', 'close needs the requestId from submit', { field: 'requestId' });
      }
      const a = await call('/finish_audiostream/v4', { accessKey, requestId }, options.closeTimeoutMs ?? 1000);
      return { requestId: a.requestId || requestId, code: a.code, message: a.message };
    },
  };
}

/**
 * Maps a Shumei answer to a result or a typed error.
 * @throws ServiceError for every code but 1100, and for a duplicate push whatever the code
 */
export function checkShumeiAnswer(answer: Record<string, unknown>): { requestId: string; code: number; message: string } {
  const code = num(answer.code) ?? -1;
  const requestId = str(answer.requestId) ?? '';
  const message = str(answer.message) ?? '';
  const detail = isPlainObject(answer.detail) ? answer.detail : {};
  // Both spellings occur in the wild.
  const errorCode = num(detail.errorCode) ?? num(detail.errorcode);
  const fields = { apiCode: code, ...(requestId ? { requestId } : {}) };
  if (errorCode === ShumeiCode.duplicatePush) {
    const dup = str(detail.dupRequestId) ?? str(detail.duprequestid);
    throw new ServiceError('DUPLICATE_STREAM', 'shumei', `duplicate push (detail.errorCode 1001): this stream is already under review${dup ? '; close dupRequestId to restart it' : ''}`, {
      ...fields,
      ...(dup ? { dupRequestId: dup } : {}),
    });
  }
  switch (code) {
    case ShumeiCode.ok:
      return { requestId, code, message };
    case ShumeiCode.qpsLimit:
      throw new ServiceError('RATE_LIMITED', 'shumei', `1901 QPS limit (${message}); slow down or ask Shumei for a higher quota`, fields);
    case ShumeiCode.badParameter:
      throw new ServiceError('VALIDATION_FAILED', 'shumei', `1902 invalid parameter (${message})`, fields);
    case ShumeiCode.serviceFailure:
      throw new ServiceError('SERVICE_API', 'shumei', `1903 service failure (${message}); retry later`, fields);
    case ShumeiCode.pullFailed:
      throw new ServiceError('SERVICE_API', 'shumei', `1904 pull failed (${message}); check that the stream URL is reachable from the internet`, fields);
    case ShumeiCode.noPermission:
      throw new ServiceError('PERMISSION_DENIED', 'shumei', `9101 no permission (${message}); check the accessKey, appId and the product on the account`, fields);
    default:
      throw new ServiceError('SERVICE_API', 'shumei', `unexpected code ${code} (${message})`, fields);
  }
}

function fail(field: string, message: string): never {
  throw new ServiceError('VALIDATION_FAILED', 'shumei', `${field}: ${message}`, { field });
}

function oneOf<T extends string | number>(field: string, v: unknown, allowed: readonly T[]): void {
  if (v !== undefined && !allowed.includes(v as T)) fail(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

function labels(field: string, v: unknown, allowed: readonly string[]): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty string of labels joined with "_"');
  for (const l of v.split('_')) {
    if (!allowed.includes(l)) fail(field, `unknown label "${l}"; allowed: ${allowed.join(', ')}`);
  }
}

function isUrl(v: unknown, schemes: readonly string[]): boolean {
  if (typeof v !== 'string') return false;
  try {
    return schemes.includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

function nonEmpty(field: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') fail(field, 'is required (non-empty string)');
}

function intIn(field: string, v: unknown, min: number, max: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
    fail(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
}

/**
 * Validates a submit against every documented rule and builds the body sent.
 * @throws ServiceError `VALIDATION_FAILED` naming the first failing field
 */
export function buildShumeiSubmitBody(accessKey: string, o: ShumeiSubmitOptions, defaultAppId?: string): Record<string, unknown> {
  if (!isPlainObject(o)) fail('options', 'must be an object');
  const appId = o.appId ?? defaultAppId ?? 'default';
  nonEmpty('appId', appId);
  const eventId = o.eventId ?? 'default';
  oneOf('eventId', eventId, SHUMEI_EVENT_IDS);
  if (o.type === undefined && o.businessType === undefined) fail('type', 'type or businessType is required (at least one)');
  labels('type', o.type, SHUMEI_TYPE_LABELS);
  labels('businessType', o.businessType, SHUMEI_BUSINESS_LABELS);
  if (!isUrl(o.callback, ['http:', 'https:'])) fail('callback', 'must be an http or https URL');
  const d = o.data;
  if (!isPlainObject(d)) fail('data', 'is required (object)');
  nonEmpty('data.tokenId', d.tokenId);
  nonEmpty('data.btId', d.btId);
  if ([...d.btId].length > SHUMEI_MAX_BTID) fail('data.btId', `is at most ${SHUMEI_MAX_BTID} characters, got ${[...d.btId].length}`);
  const streamType = d.streamType ?? 'NORMAL';
  oneOf('data.streamType', streamType, SHUMEI_STREAM_TYPES);
  const lang = d.lang ?? 'zh';
  oneOf('data.lang', lang, SHUMEI_LANGS);
  oneOf('data.role', d.role, SHUMEI_ROLES);
  oneOf('data.returnAllText', d.returnAllText, [0, 1]);
  oneOf('data.returnPreText', d.returnPreText, [0, 1]);
  oneOf('data.returnPreAudio', d.returnPreAudio, [0, 1]);
  oneOf('data.initDomain', d.initDomain, [1, 2]);
  if (streamType === 'NORMAL' && !isUrl(d.url, SHUMEI_URL_SCHEMES)) {
    fail('data.url', 'is required for streamType NORMAL: an rtmp, rtmps, http or https URL');
  } else if (d.url !== undefined && !isUrl(d.url, SHUMEI_URL_SCHEMES)) {
    fail('data.url', 'must be an rtmp, rtmps, http or https URL');
  }
  if (streamType === 'ZEGO') {
    if (!isPlainObject(d.zegoParam)) fail('data.zegoParam', 'is required for streamType ZEGO');
    if (d.zegoParam.streamId === undefined && d.zegoParam.roomId === undefined) fail('data.zegoParam', 'needs streamId or roomId');
  }
  if (streamType === 'AGORA' && !isPlainObject(d.agoraParam)) fail('data.agoraParam', 'is required for streamType AGORA');
  if (d.agoraParam !== undefined) {
    intIn('data.agoraParam.uid', d.agoraParam.uid, 0, 0xffffffff);
    oneOf('data.agoraParam.channelProfile', d.agoraParam.channelProfile, [0, 1]);
  }
  if (streamType === 'TRTC') {
    const t = d.trtcParam;
    if (!isPlainObject(t)) fail('data.trtcParam', 'is required for streamType TRTC');
    if (typeof t.sdkAppId !== 'number' || !Number.isInteger(t.sdkAppId)) fail('data.trtcParam.sdkAppId', 'is required (integer)');
    oneOf('data.trtcParam.demoSences', t.demoSences, [2, 4]);
    if (t.demoSences === undefined) fail('data.trtcParam.demoSences', 'is required (2 split, 4 mixed)');
    if (typeof t.userId !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(t.userId)) fail('data.trtcParam.userId', 'is required: 1..32 of a-z A-Z 0-9 _ -');
    nonEmpty('data.trtcParam.userSig', t.userSig);
    if (t.roomId === undefined && t.strRoomId === undefined) fail('data.trtcParam', 'needs roomId or strRoomId');
    intIn('data.trtcParam.roomId', t.roomId, 1, 4294967294);
    if (t.strRoomId !== undefined && !/^[A-Za-z0-9_-]+$/.test(t.strRoomId)) fail('data.trtcParam.strRoomId', 'only a-z A-Z 0-9 _ -');
  }
  const data: Record<string, unknown> = { ...d, streamType, lang };
  const dataBytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
  if (dataBytes > SHUMEI_MAX_DATA_BYTES) fail('data', `is at most 1 MB, got ${dataBytes} bytes`);
  const body: Record<string, unknown> = { accessKey, appId, eventId, callback: o.callback, data };
  if (o.type !== undefined) body.type = o.type;
  if (o.businessType !== undefined) body.businessType = o.businessType;
  return body;
}

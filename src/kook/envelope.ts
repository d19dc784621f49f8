/**
 * KOOK's answer envelope, `{code, message, data}`, mapped to the data or to a typed error, and the `data` of each
 * voice endpoint checked and typed. Pure: no I/O.
 *
 * @see https://developer.kookapp.cn/doc/reference
 */
import { KookRtpError } from '../errors.js';
import { isPlainObject } from '../util/object.js';
import { redact, redactDeep } from '../util/secrets.js';
import { KookApiError, KookHttpError } from './errors.js';
import { apiPathHint } from './netFailure.js';
import type { Answer } from './request.js';

/** The envelope of an answer, when its body is one; `apiMessage` scrubbed of the secrets. */
export interface Envelope {
  readonly body: Record<string, unknown> | undefined;
  readonly apiCode: number | undefined;
  readonly apiMessage: string | undefined;
}

/** Finds the envelope in a parsed answer body (an object with a numeric `code`). */
export function envelopeOf(json: unknown, secrets: readonly string[]): Envelope {
  const body = isPlainObject(json) && typeof json['code'] === 'number' ? json : undefined;
  return {
    body,
    apiCode: body === undefined ? undefined : (body['code'] as number),
    apiMessage: body === undefined ? undefined : redact(typeof body['message'] === 'string' ? body['message'] : '', secrets),
  };
}

/** The error of a non-2xx answer (not 429, which the caller waits out), with the envelope it carried if any. */
export function statusError(endpoint: string, status: number, env: Envelope, apiBase: string, secrets: readonly string[]): KookHttpError {
  return new KookHttpError({
    endpoint,
    status,
    apiCode: env.apiCode,
    apiMessage: env.apiMessage,
    detail:
      `HTTP ${status}` +
      (env.body !== undefined ? ` with code ${String(env.apiCode)}: ${env.apiMessage ?? ''}` : '') +
      (status === 401 || status === 403 ? '; check the bot token and its permissions' : '') +
      redact(apiPathHint(apiBase, status), secrets),
  });
}

/**
 * The `data` of a 2xx answer, scrubbed of the secrets (join's `raw` and channel names are the far side's words).
 * @throws {@link KookHttpError} when the body is not the envelope; {@link KookApiError} when its `code` is not 0.
 */
export function envelopeData(endpoint: string, answer: Answer, env: Envelope, secrets: readonly string[]): unknown {
  if (env.body === undefined) {
    throw new KookHttpError({
      endpoint,
      status: answer.status,
      detail: `HTTP ${answer.status} but the body is not KOOK's {code, message, data} envelope (${JSON.stringify(redact(answer.text.slice(0, 120), secrets))})`,
    });
  }
  if (env.apiCode !== 0) {
    throw new KookApiError({ endpoint, status: answer.status, apiCode: env.apiCode ?? -1, apiMessage: env.apiMessage ?? '' });
  }
  return redactDeep(env.body['data'], secrets);
}

/** The raw `data` of a `voice/join` answer, as KOOK sends it. */
export interface KookJoinRaw {
  readonly ip: string;
  readonly port: string | number;
  readonly rtcp_mux: boolean;
  readonly rtcp_port: number | string;
  readonly bitrate: number | string;
  readonly audio_ssrc: string | number;
  readonly audio_pt: string | number;
  readonly [key: string]: unknown;
}

/** A typed `voice/join` answer: where and how to push. */
export interface KookVoiceJoin {
  /** Media server address. */
  readonly ip: string;
  /** RTP port. */
  readonly port: number;
  /** True when RTCP shares the RTP port. */
  readonly rtcpMux: boolean;
  /** Where RTCP goes: the answer's `rtcp_port`, or `port` itself when `rtcpMux` (KOOK says to ignore rtcp_port then). */
  readonly rtcpPort: number;
  /** The bitrate the room demands, bits/s. Pushing over 120% of it gets the stream closed. */
  readonly bitrate: number;
  /** The final SSRC to put in every RTP packet. */
  readonly audioSsrc: number;
  /** The final payload type. */
  readonly audioPt: number;
  /** The answer as received (strings untouched). */
  readonly raw: KookJoinRaw;
}

/** One voice channel the bot is in (`voice/list` item). */
export interface KookVoiceChannel {
  readonly id: string;
  readonly guildId: string;
  readonly parentId: string;
  readonly name: string;
}

/** KOOK's list paging block. */
export interface KookPageMeta {
  readonly page: number;
  readonly pageTotal: number;
  readonly pageSize: number;
  readonly total: number;
}

/** One page of `voice/list`. */
export interface KookVoiceListPage {
  readonly items: readonly KookVoiceChannel[];
  readonly meta: KookPageMeta;
  /** The `data` as received. */
  readonly raw: unknown;
}

function invalidAnswer(field: string, expected: string, found: unknown): KookRtpError {
  return new KookRtpError('VALIDATION_FAILED', `KOOK voice/join answered ${field} = ${describeValue(found)}, expected ${expected}; the API may have changed`);
}

/**
 * A short description of an answer value for an error message. Never throws: `JSON.stringify` does on bigints and
 * cycles (and `String` on null-prototype objects), and an error built while reporting bad input must not fail itself.
 */
function describeValue(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? typeof v;
  } catch {
    text = typeof v === 'bigint' ? `${v.toString()}n` : `(${typeof v})`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** Accepts an integer sent as a number or a decimal string (KOOK's own example sends rtcp_port as a string). */
function toInt(field: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalidAnswer(field, `an integer in [${min}, ${max}]`, value);
  return n;
}

/**
 * Converts a `voice/join` `data` into {@link KookVoiceJoin}.
 *
 * @param data - the envelope's `data`.
 * @returns the typed answer, `raw` holding the original.
 * @throws {@link KookRtpError} `VALIDATION_FAILED` when a field is missing or malformed.
 */
export function parseJoin(data: unknown): KookVoiceJoin {
  if (!isPlainObject(data)) throw invalidAnswer('data', 'an object', data);
  const ip = data['ip'];
  if (typeof ip !== 'string' || ip.length === 0) throw invalidAnswer('ip', 'a non-empty string', ip);
  const port = toInt('port', data['port'], 1, 65535);
  const muxRaw = data['rtcp_mux'];
  // Booleans per the table; tolerate 0/1 and "true"/"false" that loosely typed backends emit.
  const rtcpMux = muxRaw === undefined ? true : muxRaw === true || muxRaw === 1 || muxRaw === 'true';
  if (muxRaw !== undefined && !rtcpMux && !(muxRaw === false || muxRaw === 0 || muxRaw === 'false')) {
    throw invalidAnswer('rtcp_mux', 'a boolean', muxRaw);
  }
  const rtcpPort = rtcpMux ? port : toInt('rtcp_port', data['rtcp_port'], 1, 65535);
  const bitrate = toInt('bitrate', data['bitrate'], 1, 10_000_000);
  const audioSsrc = toInt('audio_ssrc', data['audio_ssrc'], 0, 0xffffffff);
  const audioPt = toInt('audio_pt', data['audio_pt'], 0, 127);
  return { ip, port, rtcpMux, rtcpPort, bitrate, audioSsrc, audioPt, raw: data as KookJoinRaw };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/**
 * Converts a `voice/list` `data` into {@link KookVoiceListPage}.
 *
 * @param data - the envelope's `data`.
 * @returns the typed page.
 * @throws {@link KookRtpError} `VALIDATION_FAILED` when `items` is not an array.
 */
export function parseListPage(data: unknown): KookVoiceListPage {
  if (!isPlainObject(data) || !Array.isArray(data['items'])) {
    throw new KookRtpError('VALIDATION_FAILED', 'KOOK voice/list answered without an items array; the API may have changed');
  }
  const items = (data['items'] as unknown[]).filter(isPlainObject).map((it) => ({
    id: str(it['id']),
    guildId: str(it['guild_id']),
    parentId: str(it['parent_id']),
    name: str(it['name']),
  }));
  const meta = isPlainObject(data['meta']) ? data['meta'] : {};
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : dflt);
  return {
    items,
    meta: {
      page: num(meta['page'], 1),
      // No meta means one page: stop rather than loop.
      pageTotal: num(meta['page_total'], 1),
      pageSize: num(meta['page_size'], items.length),
      total: num(meta['total'], items.length),
    },
    raw: data,
  };
}

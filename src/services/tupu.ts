/**
 * Tupu (图普) speech-stream moderation client, and the RSA-SHA256 signing both directions use.
 *
 * Requests are signed with the customer's private key over `"<secretId>,<timestamp>,<nonce>"` (PKCS#1 v1.5,
 * base64). Answers and callbacks may come as `{ signature, json }` with `json` a string: the signature is checked
 * with Tupu's public key over that exact string BEFORE it is parsed.
 * @see /work/shared/seeds/tupu-speech-stream.zh.md
 */
import { createPrivateKey, createPublicKey, randomInt, sign, verify, type KeyObject } from 'node:crypto';
import { ServiceError } from './errors.js';
import { num, postJson, str, type FetchLike } from './http.js';
import { systemClock, type WallClock } from '../util/clock.js';
import { isPlainObject } from '../util/object.js';

/** The host of the current document; SDKs use `http://api.open.tuputech.com`. */
export const TUPU_DEFAULT_HOST = 'http://api.speech.tuputech.com';

/** `callbackRules`: 0 violations only, 1 every result, 2 end-of-task callback, 3 both 1 and 2. */
export type TupuCallbackRules = 0 | 1 | 2 | 3;

/** One stream to submit. */
export interface TupuStream {
  /** RTMP, HLS, HTTP-FLV or RTSP URL. */
  url: string;
  /** Where results are POSTed (http or https). */
  callback: string;
  roomId?: string;
  userId?: string;
  forumId?: string;
  /** Return a minute of audio before a violation. */
  returnPreSpeech?: boolean;
  callbackRules?: TupuCallbackRules;
}

/** One stream accepted by a submit. */
export interface TupuSubmitted {
  readonly requestId: string;
  readonly url: string;
  readonly callback?: string;
  readonly roomId?: string;
  readonly userId?: string;
  readonly forumId?: string;
}

/** Options of {@link createTupuClient}. */
export interface TupuClientOptions {
  secretId: string;
  /** Your RSA private key: PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 PEM, or a KeyObject. Never logged. */
  privateKey: string | KeyObject;
  /** Tupu's public key (PEM): required to accept signed answers. */
  tupuPublicKey?: string | KeyObject;
  /** Default {@link TUPU_DEFAULT_HOST}. */
  host?: string;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Largest answer body read, bytes; a larger one fails with `RESPONSE_TOO_LARGE`. Default 1 MiB. */
  maxResponseBytes?: number;
  fetch?: FetchLike;
  clock?: WallClock;
  /** Nonce source, default a random integer (a plain decimal, so the signed text equals the JSON text). */
  nonce?: () => number;
}

/** The Tupu client. */
export interface TupuClient {
  /**
   * Submits streams.
   * @throws ServiceError `VALIDATION_FAILED` before sending, `SIGNATURE_INVALID` for a signed answer that does not
   *   verify, `SERVICE_API` for a non-zero code, `HTTP_ERROR`, `TIMEOUT`
   */
  submit(streams: readonly TupuStream[], options?: { tasks?: readonly string[] }): Promise<TupuSubmitted[]>;
  /** Closes streams by requestId. @returns the status per requestId (`closed`) @throws ServiceError as for submit */
  close(requestIds: readonly string[]): Promise<{ requestId: string; status: string }[]>;
  /** The host in use. */
  readonly host: string;
}

/** The text Tupu signs: `secretId,timestamp,nonce`. */
export function tupuSignString(secretId: string, timestamp: number, nonce: number): string {
  return `${secretId},${String(timestamp)},${String(nonce)}`;
}

/**
 * Loads a private key from PKCS#1 or PKCS#8 PEM.
 * @throws ServiceError `VALIDATION_FAILED` (the message never includes the key)
 */
export function loadPrivateKey(pem: string | KeyObject, provider: 'tupu' = 'tupu'): KeyObject {
  if (typeof pem !== 'string') return pem;
  try {
    const k = createPrivateKey({ key: pem, format: 'pem' });
    if (k.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return k;
  } catch {
    throw new ServiceError('VALIDATION_FAILED', provider, 'privateKey is not an RSA private key in PKCS#1 or PKCS#8 PEM', { field: 'privateKey' });
  }
}

/** Loads a public key (SPKI or PKCS#1 PEM, or a certificate). @throws ServiceError `VALIDATION_FAILED` */
export function loadPublicKey(pem: string | KeyObject): KeyObject {
  if (typeof pem !== 'string') return pem;
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new ServiceError('VALIDATION_FAILED', 'tupu', 'tupuPublicKey is not a PEM public key', { field: 'tupuPublicKey' });
  }
}

/** RSA-SHA256 (PKCS#1 v1.5) signature of `text` in base64. */
export function rsaSha256Sign(text: string, key: KeyObject): string {
  return sign('sha256', Buffer.from(text, 'utf8'), key).toString('base64');
}

/** Verifies an RSA-SHA256 base64 signature of `text`; false (never a throw) for malformed input. */
export function rsaSha256Verify(text: string, signature: string, key: KeyObject): boolean {
  if (typeof text !== 'string' || typeof signature !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(signature)) return false;
  try {
    return verify('sha256', Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Unwraps a signed `{ signature, json }` envelope: verifies, then parses. Plain objects are returned as they are.
 * @throws ServiceError `SIGNATURE_INVALID` when the signature does not verify or no key is configured,
 *   `SERVICE_API` when the verified `json` is not a JSON object
 */
export function unwrapTupuSigned(body: unknown, publicKey: KeyObject | undefined): Record<string, unknown> {
  if (!isPlainObject(body)) throw new ServiceError('SERVICE_API', 'tupu', 'expected a JSON object');
  if (typeof body.signature === 'string' && typeof body.json === 'string') {
    if (publicKey === undefined) {
      throw new ServiceError('SIGNATURE_INVALID', 'tupu', 'got a signed message but no tupuPublicKey is configured to verify it');
    }
    if (!rsaSha256Verify(body.json, body.signature, publicKey)) {
      throw new ServiceError('SIGNATURE_INVALID', 'tupu', 'signature does not verify with the configured Tupu public key');
    }
    let inner: unknown;
    try {
      inner = JSON.parse(body.json);
    } catch {
      throw new ServiceError('SERVICE_API', 'tupu', 'signed "json" is not valid JSON');
    }
    if (!isPlainObject(inner)) throw new ServiceError('SERVICE_API', 'tupu', 'signed "json" is not a JSON object');
    return inner;
  }
  return body;
}

/** Creates a Tupu client. @throws ServiceError `VALIDATION_FAILED` for a missing secretId or a bad key */
export function createTupuClient(options: TupuClientOptions): TupuClient {
  if (typeof options.secretId !== 'string' || !/^[A-Za-z0-9_-]+$/.test(options.secretId)) {
    throw new ServiceError('VALIDATION_FAILED', 'tupu', 'secretId is required (letters, digits, _ and -)', { field: 'secretId' });
  }
  const key = loadPrivateKey(options.privateKey);
  const tupuKey = options.tupuPublicKey === undefined ? undefined : loadPublicKey(options.tupuPublicKey);
  const host = (options.host ?? TUPU_DEFAULT_HOST).replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 5000;
  const nonceOf = options.nonce ?? (() => randomInt(1, 2 ** 47));
  const secretId = options.secretId;
  // The PEM text and its base64 body lines: what a leak of the private key would look like in any message.
  const keySecrets = typeof options.privateKey === 'string' ? pemSecrets(options.privateKey) : [];

  function signed(): { timestamp: number; nonce: number; signature: string } {
    const timestamp = Math.floor(clock.now() / 1000);
    const nonce = nonceOf();
    return { timestamp, nonce, signature: rsaSha256Sign(tupuSignString(secretId, timestamp, nonce), key) };
  }

  async function call(path: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const url = `${host}${path}/${encodeURIComponent(secretId)}`;
    const res = await postJson('tupu', url, { ...payload, ...signed() }, { timeoutMs, fetch: options.fetch, secrets: keySecrets, maxResponseBytes: options.maxResponseBytes });
    if (res.json === undefined) {
      throw new ServiceError('HTTP_ERROR', 'tupu', `${path} answered HTTP ${res.status} without JSON`, { httpStatus: res.status });
    }
    const a = unwrapTupuSigned(res.json, tupuKey);
    const code = num(a.code);
    if (code !== 0) {
      throw new ServiceError(res.status === 429 ? 'RATE_LIMITED' : 'SERVICE_API', 'tupu', `${path} failed with code ${String(code)} (${str(a.message) ?? ''})`, {
        ...(code === undefined ? {} : { apiCode: code }),
        httpStatus: res.status,
      });
    }
    if (!Array.isArray(a.result)) throw new ServiceError('SERVICE_API', 'tupu', `${path} answer lacks a "result" array`);
    return a;
  }

  return {
    host,
    async submit(streams, opts = {}) {
      if (!Array.isArray(streams) || streams.length === 0) {
        throw new ServiceError('VALIDATION_FAILED', 'tupu', 'speechStream needs at least one stream', { field: 'speechStream' });
      }
      streams.forEach((s, i) => validateStream(s, i));
      if (opts.tasks !== undefined && (!Array.isArray(opts.tasks) || !opts.tasks.every((t) => typeof t === 'string' && t !== ''))) {
        throw new ServiceError('VALIDATION_FAILED', 'tupu', 'tasks must be an array of task id strings', { field: 'tasks' });
      }
      const a = await call('/v3/recognition/speech/stream', {
        speechStream: streams.map((s) => ({ ...s })),
        ...(opts.tasks ? { tasks: [...opts.tasks] } : {}),
      });
      return (a.result as unknown[]).filter(isPlainObject).map((r) => ({
        requestId: str(r.requestId) ?? '',
        url: str(r.url) ?? '',
        ...optional('callback', str(r.callback)),
        ...optional('roomId', str(r.roomId)),
        ...optional('userId', str(r.userId)),
        ...optional('forumId', str(r.forumId)),
      }));
    },
    async close(requestIds) {
      if (!Array.isArray(requestIds) || requestIds.length === 0 || !requestIds.every((r) => typeof r === 'string' && r !== '')) {
        throw new ServiceError('VALIDATION_FAILED', 'tupu', 'close needs at least one requestId', { field: 'requestId' });
      }
      const a = await call('/v3/recognition/speech/stream/close', { speechStream: requestIds.map((requestId) => ({ requestId })) });
      return (a.result as unknown[]).filter(isPlainObject).map((r) => ({ requestId: str(r.requestId) ?? '', status: str(r.status) ?? '' }));
    },
  };
}

/** The strings that would reveal a PEM key: the whole text and each base64 line of its body (long enough to matter). */
function pemSecrets(pem: string): string[] {
  const lines = pem.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return [pem.trim(), ...lines];
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

function validateStream(s: TupuStream, i: number): void {
  const field = `speechStream[${i}]`;
  const bad = (f: string, m: string): never => {
    throw new ServiceError('VALIDATION_FAILED', 'tupu', `${field}.${f}: ${m}`, { field: `${field}.${f}` });
  };
  if (!isPlainObject(s)) bad('', 'must be an object');
  const urlOk = (u: unknown, schemes: string[]) => {
    try {
      return typeof u === 'string' && schemes.includes(new URL(u).protocol);
    } catch {
      return false;
    }
  };
  if (!urlOk(s.url, ['rtmp:', 'rtmps:', 'http:', 'https:', 'rtsp:'])) bad('url', 'must be an RTMP, HLS, HTTP-FLV or RTSP URL');
  if (!urlOk(s.callback, ['http:', 'https:'])) bad('callback', 'must be an http or https URL');
  for (const k of ['roomId', 'userId', 'forumId'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'string') bad(k, 'must be a string');
  }
  if (s.returnPreSpeech !== undefined && typeof s.returnPreSpeech !== 'boolean') bad('returnPreSpeech', 'must be a boolean');
  if (s.callbackRules !== undefined && ![0, 1, 2, 3].includes(s.callbackRules)) bad('callbackRules', 'must be 0, 1, 2 or 3');
}

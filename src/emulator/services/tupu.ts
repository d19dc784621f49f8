/**
 * A local Tupu speech-stream emulator: verifies each request's RSA-SHA256 signature with the customer's public key,
 * pulls the submitted URL, decodes it, and POSTs signed `{ signature, json }` callbacks (signed with the emulator's
 * own private key, whose public half the callback server is configured with) following `callbackRules`.
 *
 * The seed documents only code 0; the failure codes here are this emulator's own ({@link TupuEmulatorCode}).
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { num, str } from '../../services/http.js';
import { isPlainObject } from '../../util/object.js';
import { rsaSha256Sign, rsaSha256Verify, tupuSignString } from '../../services/tupu.js';
import { deliverCallback, pullStream, riskOf, startJsonServer, type LevelPolicy, type Pull, type Segment } from './common.js';

/** The emulator's failure codes (undocumented by Tupu; chosen here). */
export const TupuEmulatorCode = {
  ok: 0,
  invalidParameter: 1001,
  signatureInvalid: 1002,
  unknownSecretId: 1003,
  overConcurrency: 1004,
  pullFailed: 1006,
} as const;

/** Options of {@link createTupuEmulator}. */
export interface TupuEmulatorOptions extends LevelPolicy {
  /** secretId -> the customer's public key (PEM). */
  customers: Readonly<Record<string, string | KeyObject>>;
  /** The emulator's private key (PEM, PKCS#1 or PKCS#8): signs callbacks and, optionally, answers. */
  signingKey: string | KeyObject;
  host?: string;
  port?: number;
  /** Wrap synchronous answers as `{ signature, json }` too. Default false. */
  signAnswers?: boolean;
  /** Streams allowed at once per secretId; more are rejected (not queued). Default 10. */
  maxConcurrent?: number;
  /** Analysed slice length, default 1000 ms. */
  segmentMs?: number;
  /** Task id used in result callbacks, default `5caee6b2a76925c55a09a6d2`. */
  taskId?: string;
}

/** A stream the emulator is moderating. */
export interface TupuEmulatedStream {
  readonly requestId: string;
  readonly secretId: string;
  readonly url: string;
  readonly callback: string;
  readonly callbackRules: number;
  readonly roomId: string | undefined;
  readonly userId: string | undefined;
  readonly forumId: string | undefined;
  readonly segments: Segment[];
  state: 'pulling' | 'ended' | 'closed';
}

/** The running emulator. */
export interface TupuEmulator {
  /** Use as the client's `host`. */
  readonly baseUrl: string;
  readonly streams: ReadonlyMap<string, TupuEmulatedStream>;
  /** Callbacks sent: the inner JSON and whether it was delivered. */
  readonly callbacks: readonly { json: string; delivered: boolean }[];
  close(): Promise<void>;
}

/** Starts a Tupu emulator. */
export async function createTupuEmulator(options: TupuEmulatorOptions): Promise<TupuEmulator> {
  const signingKey = typeof options.signingKey === 'string' ? createPrivateKey(options.signingKey) : options.signingKey;
  const customers = new Map<string, KeyObject>();
  for (const [id, k] of Object.entries(options.customers)) customers.set(id, typeof k === 'string' ? createPublicKey(k) : k);
  const streams = new Map<string, TupuEmulatedStream>();
  const pulls = new Map<string, Pull>();
  const callbacks: { json: string; delivered: boolean }[] = [];
  const taskId = options.taskId ?? '5caee6b2a76925c55a09a6d2';
  let closed = false;

  const envelope = (inner: Record<string, unknown>): string => {
    const json = JSON.stringify(inner);
    return JSON.stringify({ signature: rsaSha256Sign(json, signingKey), json });
  };
  const reply = (code: number, message: string, result: unknown[] = []) => {
    const inner = { result, code, message, nonce: String(Math.random()), timestamp: Date.now() };
    return { status: 200, body: options.signAnswers ? JSON.parse(envelope(inner)) : inner };
  };

  function send(s: TupuEmulatedStream, inner: Record<string, unknown>): void {
    const text = envelope(inner);
    void deliverCallback(s.callback, text, 3, 100, () => closed).then((r) => callbacks.push({ json: JSON.stringify(inner), delivered: r.delivered }));
  }

  function end(s: TupuEmulatedStream, code: number): void {
    if (s.callbackRules === 2 || s.callbackRules === 3) {
      send(s, { code, requestId: s.requestId, status: 'end', nonce: String(Math.random()), timestamp: Date.now() });
    }
  }

  function onSegment(s: TupuEmulatedStream, seg: Segment): void {
    if (s.state !== 'pulling') return;
    s.segments.push(seg);
    const risk = riskOf(seg.levelDb, options);
    const everything = s.callbackRules === 1 || s.callbackRules === 3;
    if (risk === 'PASS' && !everything) return;
    send(s, {
      [taskId]: {
        texts: [
          {
            roomId: s.roomId,
            userId: s.userId,
            forumId: s.forumId,
            requestId: s.requestId,
            sliceStartTime: seg.startMs,
            sliceEndTime: seg.endMs,
            content: seg.text,
            speechUrl: `http://emulator.invalid/${s.requestId}/${seg.index}.mp3`,
            label: risk === 'PASS' ? 0 : 1,
            review: risk === 'REVIEW',
          },
        ],
      },
    });
  }

  /** Checks the signature; returns the secretId's error reply or undefined when it verifies. */
  function authenticate(secretId: string, body: Record<string, unknown>) {
    const key = customers.get(secretId);
    if (key === undefined) return reply(TupuEmulatorCode.unknownSecretId, 'unknown secretId');
    const timestamp = num(body.timestamp);
    const nonce = num(body.nonce);
    const signature = str(body.signature);
    if (typeof body.timestamp !== 'number' || typeof body.nonce !== 'number' || timestamp === undefined || nonce === undefined || signature === undefined) {
      return reply(TupuEmulatorCode.invalidParameter, 'timestamp, nonce and signature are required');
    }
    if (!rsaSha256Verify(tupuSignString(secretId, timestamp, nonce), signature, key)) {
      return reply(TupuEmulatorCode.signatureInvalid, 'signature verification failed');
    }
    return undefined;
  }

  function submit(secretId: string, body: unknown) {
    if (!isPlainObject(body)) return reply(TupuEmulatorCode.invalidParameter, 'body is not a JSON object');
    const denied = authenticate(secretId, body);
    if (denied) return denied;
    if (!Array.isArray(body.speechStream) || body.speechStream.length === 0) return reply(TupuEmulatorCode.invalidParameter, 'speechStream is required');
    const active = [...streams.values()].filter((s) => s.secretId === secretId && s.state === 'pulling').length;
    if (active + body.speechStream.length > (options.maxConcurrent ?? 10)) return reply(TupuEmulatorCode.overConcurrency, 'over concurrency limit');
    const result: unknown[] = [];
    for (const item of body.speechStream) {
      if (!isPlainObject(item) || str(item.url) === undefined || str(item.callback) === undefined) {
        return reply(TupuEmulatorCode.invalidParameter, 'each speechStream needs url and callback');
      }
    }
    for (const item of body.speechStream as Record<string, unknown>[]) {
      const requestId = `${randomBytes(12).toString('hex')}${Math.random().toString().slice(1)}`;
      const s: TupuEmulatedStream = {
        requestId,
        secretId,
        url: String(item.url),
        callback: String(item.callback),
        callbackRules: num(item.callbackRules) ?? 0,
        roomId: str(item.roomId),
        userId: str(item.userId),
        forumId: str(item.forumId),
        segments: [],
        state: 'pulling',
      };
      streams.set(requestId, s);
      const pull = pullStream(s.url, options.segmentMs ?? 1000, (seg) => onSegment(s, seg));
      pulls.set(requestId, pull);
      void pull.done.then((r) => {
        if (s.state !== 'pulling') return;
        s.state = 'ended';
        end(s, r.outcome === 'failed' ? TupuEmulatorCode.pullFailed : TupuEmulatorCode.ok);
      });
      result.push({ requestId, url: s.url, callback: s.callback, roomId: s.roomId, userId: s.userId, forumId: s.forumId });
    }
    return reply(0, 'success', result);
  }

  function closeStreams(secretId: string, body: unknown) {
    if (!isPlainObject(body)) return reply(TupuEmulatorCode.invalidParameter, 'body is not a JSON object');
    const denied = authenticate(secretId, body);
    if (denied) return denied;
    if (!Array.isArray(body.speechStream)) return reply(TupuEmulatorCode.invalidParameter, 'speechStream is required');
    const result: unknown[] = [];
    for (const item of body.speechStream) {
      const id = isPlainObject(item) ? str(item.requestId) : undefined;
      if (id === undefined) return reply(TupuEmulatorCode.invalidParameter, 'speechStream[].requestId is required');
      const s = streams.get(id);
      if (s !== undefined && s.secretId === secretId && s.state === 'pulling') {
        s.state = 'closed';
        pulls.get(id)?.stop();
        end(s, 0);
      }
      result.push({ requestId: id, status: 'closed' });
    }
    return reply(0, 'success', result);
  }

  const srv = await startJsonServer(options.host ?? '127.0.0.1', options.port ?? 0, (path) => {
    const close = /^\/v3\/recognition\/speech\/stream\/close\/([^/]+)$/.exec(path);
    if (close?.[1] !== undefined) {
      const id = decodeURIComponent(close[1]);
      return (_r, b) => closeStreams(id, b);
    }
    const sub = /^\/v3\/recognition\/speech\/stream\/([^/]+)$/.exec(path);
    if (sub?.[1] !== undefined) {
      const id = decodeURIComponent(sub[1]);
      return (_r, b) => submit(id, b);
    }
    return undefined;
  });
  return {
    baseUrl: srv.baseUrl,
    streams,
    callbacks,
    async close() {
      closed = true;
      for (const p of pulls.values()) p.stop();
      await srv.close();
    },
  };
}

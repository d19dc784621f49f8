/**
 * A local Shumei audio-stream v4 emulator: a real HTTP server that checks the accessKey, validates submits as the
 * documents describe, answers the documented codes (1100, 1901 QPS, 1902 bad parameter, 1903 via fault injection,
 * 9101 no permission, duplicate push with detail.errorCode 1001 and dupRequestId), PULLS the stream URL like the real
 * service, decodes it, decides a risk level from loudness, and POSTs callbacks, re-sending each until HTTP 200
 * (at most 20 times). Pull failures call back with 1904.
 */
import { randomBytes } from 'node:crypto';
import { buildShumeiSubmitBody } from '../../services/shumei.js';
import { str } from '../../services/http.js';
import { isPlainObject } from '../../util/object.js';
import { deliverCallback, pullStream, riskOf, startJsonServer, type LevelPolicy, type Pull, type Segment } from './common.js';

/** Options of {@link createShumeiEmulator}. */
export interface ShumeiEmulatorOptions extends LevelPolicy {
  /** Accepted access keys. */
  accessKeys: readonly string[];
  host?: string;
  port?: number;
  /** Submits allowed per rolling second before 1901; default 10. */
  qps?: number;
  /** Length of an analysed segment, default 1000 ms (the real service uses 10 s). */
  segmentMs?: number;
  /** Interval between callback re-sends, default 100 ms. */
  callbackIntervalMs?: number;
  /** Attempts per callback, default 20. */
  callbackAttempts?: number;
  /** `nested` (audioDetail, current) or `flat` (the documents' example, with `btid`). Default nested. */
  callbackShape?: 'nested' | 'flat';
  /** How the duplicate-push detail is spelled. Default `errorCode`. */
  dupSpelling?: 'errorCode' | 'errorcode';
}

/** A stream the emulator is reviewing. */
export interface ShumeiEmulatedStream {
  readonly requestId: string;
  readonly btId: string;
  readonly url: string;
  readonly callback: string;
  readonly returnAllText: number;
  readonly segments: Segment[];
  state: 'pulling' | 'ended' | 'failed' | 'closed';
}

/** A callback delivery record. */
export interface CallbackDelivery {
  readonly requestId: string;
  readonly attempts: number;
  readonly delivered: boolean;
}

/** The running emulator. */
export interface ShumeiEmulator {
  /** Use as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly streams: ReadonlyMap<string, ShumeiEmulatedStream>;
  readonly deliveries: readonly CallbackDelivery[];
  /** Every submit and close body received, with accessKey removed. */
  readonly requests: readonly { path: string; body: unknown }[];
  /** Makes the next `count` submits or closes answer 1903 (service failure). */
  injectServiceFailure(count: number): void;
  close(): Promise<void>;
}

/** Starts a Shumei emulator. */
export async function createShumeiEmulator(options: ShumeiEmulatorOptions): Promise<ShumeiEmulator> {
  const streams = new Map<string, ShumeiEmulatedStream>();
  const pulls = new Map<string, Pull>();
  const deliveries: CallbackDelivery[] = [];
  const requests: { path: string; body: unknown }[] = [];
  const recent: number[] = [];
  let failures = 0;
  let closed = false;
  const keys = new Set(options.accessKeys);
  const qps = options.qps ?? 10;
  const attempts = options.callbackAttempts ?? 20;
  const interval = options.callbackIntervalMs ?? 100;
  const newId = (): string => randomBytes(16).toString('hex');

  const answer = (requestId: string, code: number, message: string, detail?: Record<string, unknown>) => ({
    status: 200,
    body: { requestId, code, message, ...(detail ? { detail } : {}) },
  });

  function log(path: string, body: unknown): void {
    if (isPlainObject(body)) {
      const { accessKey: _omit, ...rest } = body;
      requests.push({ path, body: rest });
    } else requests.push({ path, body });
  }

  function callback(s: ShumeiEmulatedStream, payload: Record<string, unknown>): void {
    void deliverCallback(s.callback, JSON.stringify(payload), attempts, interval, () => closed).then((r) =>
      deliveries.push({ requestId: String(payload.requestId), ...r }),
    );
  }

  function onSegment(s: ShumeiEmulatedStream, seg: Segment, passThrough: unknown): void {
    if (s.state !== 'pulling') return;
    s.segments.push(seg);
    const level = riskOf(seg.levelDb, options);
    if (level === 'PASS' && s.returnAllText !== 1) return;
    const labels =
      level === 'PASS'
        ? { riskLabel1: 'normal', riskLabel2: '', riskLabel3: '', riskDescription: '正常' }
        : { riskLabel1: 'abuse', riskLabel2: 'loud', riskLabel3: 'too_loud', riskDescription: '辱骂:响度:过响' };
    const now = Date.now();
    const detail = {
      audioUrl: `http://emulator.invalid/${s.requestId}_${seg.index}.mp3`,
      riskLevel: level,
      ...labels,
      audioText: seg.text,
      riskDetail: { audioText: seg.text },
      auxInfo: { beginProcessTime: now, finishProcessTime: now },
      riskSource: level === 'PASS' ? 1000 : 1001,
    };
    const requestId = `${s.requestId}_${seg.index}`;
    const payload =
      options.callbackShape === 'flat'
        ? { requestId, code: 1100, message: '成功', btid: s.btId, ...detail }
        : { requestId, btId: s.btId, code: 1100, message: '成功', statCode: 0, audioDetail: detail };
    callback(s, passThrough === undefined ? payload : { ...payload, passThrough });
  }

  function submit(body: unknown) {
    log('/audiostream/v4', body);
    if (!isPlainObject(body)) return answer('', 1902, '参数不合法: body is not a JSON object');
    const accessKey = str(body.accessKey);
    if (accessKey === undefined || accessKey === '') return answer('', 1902, '参数不合法: accessKey');
    if (!keys.has(accessKey)) return answer('', 9101, '无权限操作');
    const now = Date.now();
    while (recent.length > 0 && (recent[0] ?? 0) <= now - 1000) recent.shift();
    if (recent.length >= qps) return answer('', 1901, 'QPS超限');
    recent.push(now);
    if (failures > 0) {
      failures--;
      return answer(newId(), 1903, '服务失败');
    }
    for (const f of ['appId', 'eventId', 'callback'] as const) {
      if (str(body[f]) === undefined) return answer('', 1902, `参数不合法: ${f}`);
    }
    const data = isPlainObject(body.data) ? body.data : undefined;
    if (data === undefined) return answer('', 1902, '参数不合法: data');
    // The documents' example puts streamType at the top level, the table inside data: accept both.
    const streamType = str(data.streamType) ?? str(body.streamType);
    if (streamType === undefined) return answer('', 1902, '参数不合法: data.streamType');
    try {
      buildShumeiSubmitBody(accessKey, {
        appId: str(body.appId) ?? '',
        eventId: body.eventId as never,
        ...(body.type === undefined ? {} : { type: body.type as string }),
        ...(body.businessType === undefined ? {} : { businessType: body.businessType as string }),
        callback: str(body.callback) ?? '',
        data: { ...(data as Record<string, unknown>), streamType } as never,
      });
    } catch (e) {
      return answer('', 1902, `参数不合法: ${(e as Error).message.replace(/^shumei: /, '')}`);
    }
    const btId = String(data.btId);
    for (const s of streams.values()) {
      if (s.btId === btId && s.state === 'pulling') {
        const spelling = options.dupSpelling ?? 'errorCode';
        return answer(newId(), 1902, '重复推流', { [spelling]: 1001, dupRequestId: s.requestId });
      }
    }
    const requestId = newId();
    const s: ShumeiEmulatedStream = {
      requestId,
      btId,
      url: String(data.url ?? ''),
      callback: String(body.callback),
      returnAllText: data.returnAllText === 1 ? 1 : 0,
      segments: [],
      state: 'pulling',
    };
    streams.set(requestId, s);
    const passThrough = isPlainObject(data.extra) ? data.extra.passThrough : undefined;
    if (streamType === 'NORMAL') {
      const pull = pullStream(s.url, options.segmentMs ?? 1000, (seg) => onSegment(s, seg, passThrough));
      pulls.set(requestId, pull);
      void pull.done.then((r) => {
        if (s.state !== 'pulling') return;
        if (r.outcome === 'failed') {
          s.state = 'failed';
          callback(s, { requestId, btId, code: 1904, message: `拉流失败: ${r.reason ?? ''}` });
        } else s.state = 'ended';
      });
    }
    return answer(requestId, 1100, '成功');
  }

  function finish(body: unknown) {
    log('/finish_audiostream/v4', body);
    if (!isPlainObject(body)) return answer('', 1902, '参数不合法: body is not a JSON object');
    const accessKey = str(body.accessKey);
    const requestId = str(body.requestId);
    if (accessKey === undefined || accessKey === '' || requestId === undefined || requestId === '') return answer(requestId ?? '', 1902, '参数不合法');
    if (!keys.has(accessKey)) return answer(requestId, 9101, '无权限操作');
    if (failures > 0) {
      failures--;
      return answer(requestId, 1903, '服务失败');
    }
    const s = streams.get(requestId);
    if (s === undefined || s.state === 'closed') return answer(requestId, 1100, '该路流不存在');
    s.state = 'closed';
    pulls.get(requestId)?.stop();
    return answer(requestId, 1100, '成功');
  }

  const srv = await startJsonServer(options.host ?? '127.0.0.1', options.port ?? 0, (path) =>
    path === '/audiostream/v4' ? (_r, b) => submit(b) : path === '/finish_audiostream/v4' ? (_r, b) => finish(b) : undefined,
  );
  return {
    baseUrl: srv.baseUrl,
    streams,
    deliveries,
    requests,
    injectServiceFailure(count) {
      failures += count;
    },
    async close() {
      closed = true;
      for (const p of pulls.values()) p.stop();
      await srv.close();
    },
  };
}

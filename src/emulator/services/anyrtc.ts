/**
 * A local anyRTC recording emulator: start/stop record (answer `{"result":"ok"}`, then the recording callback after
 * a short delay), and the two query endpoints with md5 signature checks, the documented error codes
 * (400, 247, 281, 282, 284, 299, 501) and the limit of 5 query calls per rolling minute per app.
 */
import { randomBytes } from 'node:crypto';
import { anyRtcSignature } from '../../services/anyrtc.js';
import { num, str } from '../../services/http.js';
import { isPlainObject } from '../../util/object.js';
import { deliverCallback, startJsonServer } from './common.js';

/** One app the emulator knows. */
export interface AnyRtcEmulatedApp {
  vodToken: string;
  /** A deleted or disabled app answers 284. Default true. */
  valid?: boolean;
  /** Where recording callbacks go. */
  callbackUrl?: string;
}

/** Options of {@link createAnyRtcEmulator}. */
export interface AnyRtcEmulatorOptions {
  apps: Readonly<Record<string, AnyRtcEmulatedApp>>;
  host?: string;
  port?: number;
  /** Delay before the recording callback (the real service takes 5-10 minutes). Default 50 ms. */
  callbackDelayMs?: number;
  /** Query calls per window, default 5 per 60 000 ms (the documented rule; shorten the window for real-clock tests). */
  queryLimit?: { maxCalls: number; windowMs: number };
  /** Accepted clock skew of `timestamp`, default 300 000 ms. */
  maxSkewMs?: number;
  /** Time source (ms), injectable. */
  now?: () => number;
}

/** A recording the emulator made. */
export interface AnyRtcEmulatedRecording {
  fileid: string;
  room_id: string;
  userData: string | undefined;
  start_time: number;
  end_time: number;
  upload_timestamp: number;
}

/** The running emulator. */
export interface AnyRtcEmulator {
  /** Use as both `recordBaseUrl` and `queryBaseUrl`. */
  readonly baseUrl: string;
  readonly recordings: readonly AnyRtcEmulatedRecording[];
  /** Query calls that reached the emulator, with the time they arrived. */
  readonly queryLog: readonly { at: number; appId: string | undefined; code: number }[];
  /** Makes the next `count` queries answer 501. */
  injectInternalError(count: number): void;
  close(): Promise<void>;
}

/** Starts an anyRTC emulator. */
export async function createAnyRtcEmulator(options: AnyRtcEmulatorOptions): Promise<AnyRtcEmulator> {
  const now = options.now ?? (() => Date.now());
  const limit = options.queryLimit ?? { maxCalls: 5, windowMs: 60_000 };
  const skew = options.maxSkewMs ?? 300_000;
  const recordings: AnyRtcEmulatedRecording[] = [];
  const active = new Map<string, { appId: string; start: number; userData: string | undefined }>();
  const calls = new Map<string, number[]>();
  const queryLog: { at: number; appId: string | undefined; code: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let internal = 0;

  function record(action: 'start' | 'stop', url: URL, body: unknown) {
    const appId = url.searchParams.get('AppID') ?? url.searchParams.get('AppId');
    const roomId = url.searchParams.get('ArRoomID');
    const type = url.searchParams.get('Type');
    const app = appId === null ? undefined : options.apps[appId];
    if (appId === null || roomId === null || roomId === '' || type !== 'Meet') return { status: 200, body: { result: 'missing or invalid AppID, ArRoomID or Type' } };
    if (app === undefined || app.valid === false) return { status: 200, body: { result: 'invalid app' } };
    const key = `${appId}/${roomId}`;
    if (action === 'start') {
      if (active.has(key)) return { status: 200, body: { result: 'already recording' } };
      const userData = isPlainObject(body) ? str(body.UserData) : undefined;
      active.set(key, { appId, start: now(), userData });
      return { status: 200, body: { result: 'ok' } };
    }
    const rec = active.get(key);
    if (rec === undefined) return { status: 200, body: { result: 'not recording' } };
    active.delete(key);
    const end = now();
    const r: AnyRtcEmulatedRecording = {
      fileid: randomBytes(10).toString('base64url').slice(0, 20),
      room_id: roomId,
      userData: rec.userData,
      start_time: Math.floor(rec.start / 1000),
      end_time: Math.floor(end / 1000),
      upload_timestamp: end,
    };
    recordings.push(r);
    if (app.callbackUrl !== undefined) {
      const payload = JSON.stringify({
        type: '1',
        mediaType: 'audio/video',
        userId: '',
        groupId: roomId,
        startTime: String(r.start_time),
        endTime: String(r.end_time),
        fileName: `${r.fileid}.mp4`,
        fileSize: 65322,
        duration: r.end_time - r.start_time,
        downloadUrl: `http://emulator.invalid/${r.fileid}.mp4`,
        userData: rec.userData ?? '',
      });
      const url2 = app.callbackUrl;
      const t = setTimeout(() => {
        timers.delete(t);
        void deliverCallback(url2, payload, 3, 100);
      }, options.callbackDelayMs ?? 50);
      timers.add(t);
    }
    return { status: 200, body: { result: 'ok' } };
  }

  function query(kind: 'time' | 'room', body: unknown) {
    const at = now();
    const out = (code: number, message: string, content?: unknown) => {
      queryLog.push({ at, appId: isPlainObject(body) ? str(body.appId) : undefined, code });
      return { status: 200, body: { requestid: at, code, message, ...(content ? { content } : {}) } };
    };
    if (!isPlainObject(body)) return out(400, 'missing parameter');
    const need = ['appId', 'random', 'signature', 'timestamp', 'begTime', 'endTime', ...(kind === 'time' ? ['pageNum', 'pageMax'] : ['roomId'])];
    for (const f of need) if (body[f] === undefined || body[f] === '') return out(400, `missing parameter ${f}`);
    const appId = String(body.appId);
    const app = options.apps[appId];
    if (app === undefined) return out(247, 'app id not exist');
    if (app.valid === false) return out(284, 'app invalid');
    const ts = num(body.timestamp);
    if (ts === undefined || Math.abs(ts - at) > skew) return out(282, 'error timestamp');
    const random = String(body.random);
    // The signature covers the timestamp exactly as sent (a number or a numeric string).
    if (random.length < 6 || random.length > 10 || str(body.signature) !== anyRtcSignature(appId, String(body.timestamp), app.vodToken, random)) {
      return out(281, 'error signature');
    }
    // Arrivals are counted strictly: a call exactly windowMs after another is still inside that call's window.
    const list = (calls.get(appId) ?? []).filter((t) => t >= at - limit.windowMs);
    if (list.length >= limit.maxCalls) {
      calls.set(appId, list);
      return out(299, 'call too frequently, at most 5 times a minute');
    }
    list.push(at);
    calls.set(appId, list);
    if (internal > 0) {
      internal--;
      return out(501, 'internal error');
    }
    const beg = num(body.begTime) ?? 0;
    const end = num(body.endTime) ?? 0;
    let hits = recordings.filter((r) => r.upload_timestamp >= beg && r.upload_timestamp <= end);
    if (kind === 'room') hits = hits.filter((r) => r.room_id === String(body.roomId));
    const total = hits.length;
    if (kind === 'time') {
      const pageMax = Math.max(1, num(body.pageMax) ?? 10);
      const pageNum = Math.max(1, num(body.pageNum) ?? 1);
      hits = hits.slice((pageNum - 1) * pageMax, pageNum * pageMax);
    }
    const data = hits.map((r) => ({
      ...(kind === 'room' ? { fileid: r.fileid, room_id: r.room_id } : {}),
      filesize: 65322,
      filestatus: 2,
      filetype: 'mp4',
      upload_time: new Date(r.upload_timestamp).toISOString(),
      upload_timestamp: r.upload_timestamp,
      download_url: `http://emulator.invalid/${r.fileid}.mp4`,
      start_time: r.start_time,
      end_time: r.end_time,
      file_duration: r.end_time - r.start_time,
    }));
    return out(200, kind === 'time' ? 'get video list success' : 'get video info success', { data, cnt: { cnt: total } });
  }

  const srv = await startJsonServer(options.host ?? '127.0.0.1', options.port ?? 0, (path) => {
    switch (path) {
      case '/anyapi/v1/startrecord':
        return (_r, b, u) => record('start', u, b);
      case '/anyapi/v1/stoprecord':
        return (_r, b, u) => record('stop', u, b);
      case '/oauth/anyapi/v1/videoInfo/getVodListByTime':
        return (_r, b) => query('time', b);
      case '/oauth/anyapi/v1/videoInfo/getVodInfoByRoomId':
        return (_r, b) => query('room', b);
      default:
        return undefined;
    }
  });
  return {
    baseUrl: srv.baseUrl,
    recordings,
    queryLog,
    injectInternalError(count) {
      internal += count;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      await srv.close();
    },
  };
}

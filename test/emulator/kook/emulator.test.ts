import { afterEach, describe, expect, it } from 'vitest';
import { startKookEmulator, type KookEmulator, type KookEmulatorOptions } from '../../../src/emulator/kook/emulator.js';

let emulators: KookEmulator[] = [];

afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
});

async function emulator(options: KookEmulatorOptions = {}): Promise<KookEmulator> {
  const e = await startKookEmulator({ decodeAudio: false, ...options });
  emulators.push(e);
  return e;
}

interface Raw {
  status: number;
  headers: Headers;
  body: { code: number; message: string; data: Record<string, unknown> & { items?: unknown[]; meta?: unknown } };
}

async function call(e: KookEmulator, method: 'GET' | 'POST', path: string, body?: unknown, auth = `Bot ${e.token}`): Promise<Raw> {
  const init: RequestInit = { method, headers: { Authorization: auth, 'Content-Type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${e.apiBase}/${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Raw['body'] };
}

describe('KOOK emulator HTTP API', () => {
  it('answers join with the seed\'s types and defaults', async () => {
    const e = await emulator();
    const r = await call(e, 'POST', 'voice/join', { channel_id: '1001' });
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    expect(r.body.message).toBe('操作成功');
    const d = r.body.data;
    expect(d).toMatchObject({ ip: '127.0.0.1', rtcp_mux: true, bitrate: 48000, audio_ssrc: '1111', audio_pt: '111' });
    expect(typeof d['port']).toBe('string');
    expect(typeof d['rtcp_port']).toBe('number');
    expect(r.headers.get('x-rate-limit-bucket')).toBe('voice/join');
    expect(r.headers.get('x-rate-limit-limit')).toBe('60');
    expect(r.headers.get('x-rate-limit-remaining')).toBe('59');
    expect(Number(r.headers.get('x-rate-limit-reset'))).toBeGreaterThan(0);
  });

  it('answers 401 with KOOK\'s envelope for a missing or wrong token', async () => {
    const e = await emulator({ token: 'right' });
    for (const auth of ['Bot wrong', 'Bearer right', '', 'Bot righ']) {
      const r = await call(e, 'GET', 'voice/list', undefined, auth);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ code: 401, message: '你的用户凭证不正确', data: { name: 'Unauthorized', status: 401 } });
    }
  });

  it('refuses bad requests with envelope code 40000', async () => {
    const e = await emulator({ channels: [{ id: '1', password: 'secret' }, { id: '2' }] });
    const cases: Array<[unknown, string]> = [
      [{}, 'channel_id 不能为空'],
      [{ channel_id: '404' }, '频道不存在'],
      [{ channel_id: '1' }, '频道密码错误'],
      [{ channel_id: '1', password: 'nope' }, '频道密码错误'],
      [{ channel_id: '2', audio_pt: '300' }, 'audio_pt 参数错误'],
      [{ channel_id: '2', audio_pt: '72' }, 'audio_pt 参数错误'], // collides with RTCP on a muxed port
      [{ channel_id: '2', audio_ssrc: 'abc' }, 'audio_ssrc 参数错误'],
      [{ channel_id: '2', rtcp_mux: 'maybe' }, 'rtcp_mux 参数错误'],
      ['{not json', '请求体不是合法的JSON'],
    ];
    for (const [body, message] of cases) {
      const r = await call(e, 'POST', 'voice/join', body);
      expect(r.status).toBe(200);
      expect(r.body.code).toBe(40000);
      expect(r.body.message).toBe(message);
    }
    const ok = await call(e, 'POST', 'voice/join', { channel_id: '2', audio_pt: '72', rtcp_mux: false });
    expect(ok.body.code).toBe(0);
  });

  it('answers a fresh SSRC when the requested one is taken, and replaces a stream on rejoin', async () => {
    const e = await emulator();
    const a = await call(e, 'POST', 'voice/join', { channel_id: '1001' });
    const b = await call(e, 'POST', 'voice/join', { channel_id: '1002' });
    expect(a.body.data['audio_ssrc']).toBe('1111');
    expect(b.body.data['audio_ssrc']).not.toBe('1111');
    expect(Number(b.body.data['audio_ssrc'])).toBe(e.channel('1002').stream?.ssrc);

    const again = await call(e, 'POST', 'voice/join', { channel_id: '1001' });
    expect(again.body.data['port']).not.toBe(a.body.data['port']);
    expect(again.body.data['audio_ssrc']).toBe('1111'); // freed by the replaced stream
    expect(e.channel('1001').reports()[0]?.closeReason).toBe('rejoined');
  });

  it('pages voice/list over the joined channels only', async () => {
    const channels = Array.from({ length: 5 }, (_, i) => ({ id: String(100 + i), guild_id: 'g', name: `c${i}`, parent_id: 'p' }));
    const e = await emulator({ channels });
    const empty = await call(e, 'GET', 'voice/list');
    expect(empty.body.data).toEqual({ items: [], meta: { page: 1, page_total: 0, page_size: 50, total: 0 }, sort: {} });
    for (const c of channels) await call(e, 'POST', 'voice/join', { channel_id: c.id });
    const p3 = await call(e, 'GET', 'voice/list?page=3&page_size=2');
    expect(p3.body.data['items']).toEqual([{ id: '104', guild_id: 'g', parent_id: 'p', name: 'c4' }]);
    expect(p3.body.data['meta']).toEqual({ page: 3, page_total: 3, page_size: 2, total: 5 });
    const capped = await call(e, 'GET', 'voice/list?page_size=500');
    expect((capped.body.data['meta'] as { page_size: number }).page_size).toBe(50);
  });

  it('enforces the push quota', async () => {
    const e = await emulator({ maxStreams: 1 });
    expect((await call(e, 'POST', 'voice/join', { channel_id: '1001' })).body.code).toBe(0);
    const r = await call(e, 'POST', 'voice/join', { channel_id: '1002' });
    expect(r.body.code).toBe(40000);
    await call(e, 'POST', 'voice/leave', { channel_id: '1001' });
    expect((await call(e, 'POST', 'voice/join', { channel_id: '1002' })).body.code).toBe(0);
  });

  it('leave is idempotent; keep-alive on a channel the bot is not in is refused', async () => {
    const e = await emulator();
    expect((await call(e, 'POST', 'voice/leave', { channel_id: '1001' })).body).toEqual({ code: 0, message: '操作成功', data: {} });
    expect((await call(e, 'POST', 'voice/keep-alive', { channel_id: '1001' })).body.code).toBe(40000);
  });

  it('answers 429 with the headers per bucket, and the global flag when the global limit is hit', async () => {
    const e = await emulator({ rateLimit: { limit: 2, windowMs: 5000 }, globalRateLimit: { limit: 3, windowMs: 5000 } });
    await call(e, 'GET', 'voice/list');
    const second = await call(e, 'GET', 'voice/list');
    expect(second.headers.get('x-rate-limit-remaining')).toBe('0');
    const limited = await call(e, 'GET', 'voice/list');
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe(429);
    expect(limited.headers.get('x-rate-limit-bucket')).toBe('voice/list');
    expect(limited.headers.has('x-rate-limit-global')).toBe(false);
    expect(Number(limited.headers.get('x-rate-limit-reset'))).toBe(5);

    await call(e, 'POST', 'voice/leave', { channel_id: '1001' }); // third request counted globally
    const global = await call(e, 'POST', 'voice/keep-alive', { channel_id: '1001' });
    expect(global.status).toBe(429);
    expect(global.headers.has('x-rate-limit-global')).toBe(true);
    expect(e.rateLimitRefusals()).toEqual({ 'voice/list': 1, global: 1 });
  });

  it('answers 404 and 405 with the envelope', async () => {
    const e = await emulator();
    const nf = await call(e, 'GET', 'voice/nothing');
    expect(nf.status).toBe(404);
    expect(nf.body.code).toBe(404);
    const na = await call(e, 'GET', 'voice/join');
    expect(na.status).toBe(405);
  });

  it('emits join and leave with the stream report', async () => {
    const e = await emulator();
    const seen: string[] = [];
    e.on('join', (p) => seen.push(`join:${p.channelId}:${p.ssrc}`));
    const leave = e.waitFor('leave');
    await call(e, 'POST', 'voice/join', { channel_id: '1001' });
    await call(e, 'POST', 'voice/leave', { channel_id: '1001' });
    const { report } = await leave;
    expect(seen).toEqual(['join:1001:1111']);
    expect(report.closeReason).toBe('leave');
    expect(report.endedAt).not.toBeNull();
  });
});

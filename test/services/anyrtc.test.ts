import { afterEach, describe, expect, it } from 'vitest';
import { createAnyRtcEmulator, type AnyRtcEmulator } from '../../src/emulator/services/anyrtc.js';
import { anyRtcSignature, createAnyRtcClient, RollingWindowLimiter } from '../../src/services/anyrtc.js';
import { createCallbackServer, type CallbackServer } from '../../src/services/callbackServer.js';
import type { AnyRtcCallbackEvent } from '../../src/services/callbacks.js';
import type { FetchLike } from '../../src/services/http.js';
import type { WallClock } from '../../src/util/clock.js';
import { waitFor } from './helpers.js';

const TOKEN = 'vodToken-SECRET-xyz';
let emu: AnyRtcEmulator | undefined;
let cb: CallbackServer | undefined;
afterEach(async () => {
  await emu?.close();
  await cb?.close();
  emu = undefined;
  cb = undefined;
});

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements WallClock {
  t = 1_700_000_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const h = { at: this.t + ms, fn };
    this.timers.push(h);
    return h;
  };
  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x !== h);
  };
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

describe('anyRTC signature', () => {
  it('is md5(appId + timestamp + vodToken + random), lowercase hex (vector from md5sum)', () => {
    // printf 'anyrtcYoK8tlxUPXVR1563798085000vodTokenTEST123456' | md5sum
    expect(anyRtcSignature('anyrtcYoK8tlxUPXVR', 1563798085000, 'vodTokenTEST', '123456')).toBe('be152e45bb69d834986feae9d21e01fb');
  });
});

describe('rolling-window limiter', () => {
  it('never lets a sixth call start within 60 s (strictly: not at 60 000 ms either)', async () => {
    const clock = new FakeClock();
    const l = new RollingWindowLimiter(5, 60_000, clock);
    const started: number[] = [];
    for (let i = 0; i < 12; i++)
      void l.acquire().then((release) => {
        started.push(clock.now());
        release();
      });
    await Promise.resolve();
    expect(started.length).toBe(5);
    clock.advance(60_000);
    await Promise.resolve();
    expect(started.length).toBe(5);
    clock.advance(1);
    await Promise.resolve();
    expect(started.length).toBe(10);
    clock.advance(60_001);
    await Promise.resolve();
    expect(started.length).toBe(12);
    for (let i = 5; i < started.length; i++) expect(started[i]! - started[i - 5]!).toBeGreaterThan(60_000);
  });

  it('stamps a slot when its call finishes, not when it was granted', async () => {
    const clock = new FakeClock();
    const t0 = clock.t;
    const l = new RollingWindowLimiter(2, 1000, clock);
    const releases: (() => void)[] = [];
    const started: number[] = [];
    for (let i = 0; i < 3; i++)
      void l.acquire().then((release) => {
        started.push(clock.now());
        releases.push(release);
      });
    await Promise.resolve();
    expect(started).toEqual([t0, t0]);
    clock.advance(300); // the two answers take 300 ms
    releases.splice(0).forEach((r) => r());
    clock.advance(1000);
    await Promise.resolve();
    expect(started).toHaveLength(2); // 1300 ms after the grant, but only 1000 after the answer
    clock.advance(1);
    await Promise.resolve();
    expect(started).toEqual([t0, t0, t0 + 1301]);
  });

  it('holds every slot after a refusal until the given time', async () => {
    const clock = new FakeClock();
    const l = new RollingWindowLimiter(5, 1000, clock);
    l.holdUntil(clock.t + 500);
    let granted = false;
    void l.acquire().then((release) => {
      granted = true;
      release();
    });
    clock.advance(499);
    await Promise.resolve();
    expect(granted).toBe(false);
    clock.advance(1);
    await Promise.resolve();
    expect(granted).toBe(true);
  });
});

describe('anyRTC client against a strict emulator on the real clock (600 ms windows, 5 calls each)', () => {
  const windowMs = 600;
  /** A fetch whose first request is slow to arrive (a new connection, a busy loop); the rest are quick. */
  function slowFirst(delayMs: number): FetchLike {
    let n = 0;
    return async (input, init) => {
      if (n++ === 0) await new Promise((r) => setTimeout(r, delayMs));
      return fetch(input, init);
    };
  }

  it('never has a query answered 299: a slot counts from its answer, not from its grant', async () => {
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN } }, queryLimit: { maxCalls: 5, windowMs } });
    const c = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, queryBaseUrl: emu.baseUrl, queryLimit: { maxCalls: 5, windowMs }, fetch: slowFirst(120) });
    const q = { begTime: 0, endTime: 1, pageNum: 1, pageMax: 5 };
    await Promise.all(Array.from({ length: 7 }, () => c.listByTime(q)));
    expect(emu.queryLog.map((l) => l.code)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    const at = emu.queryLog.map((l) => l.at).sort((a, b) => a - b);
    for (let i = 5; i < at.length; i++) expect(at[i]! - at[i - 5]!).toBeGreaterThan(windowMs);
  });

  it('retries a 299 after the window instead of failing the call', async () => {
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN } }, queryLimit: { maxCalls: 5, windowMs } });
    // A client that believes in 100 calls a window: the service refuses the 6th and 7th.
    const c = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, queryBaseUrl: emu.baseUrl, queryLimit: { maxCalls: 100, windowMs } });
    const q = { begTime: 0, endTime: 1, pageNum: 1, pageMax: 5 };
    const results = await Promise.all(Array.from({ length: 7 }, () => c.listByTime(q)));
    expect(results).toHaveLength(7);
    const codes = emu.queryLog.map((l) => l.code);
    expect(codes.filter((x) => x === 200)).toHaveLength(7);
    expect(codes.filter((x) => x === 299).length).toBeGreaterThanOrEqual(2);
  });

  it('the emulator counts arrivals strictly: the 6th inside the window is refused, one after it is served', async () => {
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN } }, queryLimit: { maxCalls: 5, windowMs } });
    const c = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, queryBaseUrl: emu.baseUrl, queryLimit: { maxCalls: 100, windowMs }, rateLimitRetries: 0 });
    const q = { begTime: 0, endTime: 1, pageNum: 1, pageMax: 5 };
    for (let i = 0; i < 5; i++) await c.listByTime(q);
    await expect(c.listByTime(q)).rejects.toMatchObject({ code: 'RATE_LIMITED', apiCode: 299 });
    await new Promise((r) => setTimeout(r, windowMs + 50));
    await expect(c.listByTime(q)).resolves.toMatchObject({ count: 0 });
  });
});

describe('anyRTC client against the emulator', () => {
  it('records, calls back with userData, and lists by room and time', async () => {
    cb = await createCallbackServer();
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN, callbackUrl: cb.urls.anyrtc } } });
    const events: AnyRtcCallbackEvent[] = [];
    cb.on('anyrtc', (e) => events.push(e));
    const c = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, recordBaseUrl: emu.baseUrl, queryBaseUrl: emu.baseUrl });
    await c.startRecord({ roomId: 'room-1', userData: { bot: 'kook' } });
    await expect(c.startRecord({ roomId: 'room-1' })).rejects.toMatchObject({ code: 'SERVICE_API' });
    await c.stopRecord({ roomId: 'room-1' });
    await waitFor(() => events.length === 1, 5000, 'recording callback');
    expect(events[0]).toMatchObject({ groupId: 'room-1', userDataParsed: { bot: 'kook' } });
    const byRoom = await c.listByRoom({ roomId: 'room-1', begTime: 0, endTime: Date.now() + 1000 });
    expect(byRoom.count).toBe(1);
    expect(byRoom.files[0]).toMatchObject({ room_id: 'room-1', filestatus: 2 });
    const byTime = await c.listByTime({ begTime: 0, endTime: Date.now() + 1000, pageNum: 1, pageMax: 5 });
    expect(byTime.files).toHaveLength(1);
  });

  it('queues the sixth query of a minute instead of sending it', async () => {
    const clock = new FakeClock();
    clock.t = Date.now();
    // Client and emulator share the fake clock, so the minute passes for both when the test says so.
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN } }, now: () => clock.now() });
    const c = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, queryBaseUrl: emu.baseUrl, clock });
    const q = { begTime: 0, endTime: 1, pageNum: 1, pageMax: 5 };
    const done: number[] = [];
    const all = Array.from({ length: 7 }, (_, i) => c.listByTime(q).then(() => void done.push(i)));
    await waitFor(() => done.length === 5, 5000, 'five answers');
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.queryLog.length).toBe(5);
    expect(c.queuedQueries).toBe(2);
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.queryLog.length).toBe(5); // exactly a minute after is still inside the minute
    clock.advance(1);
    await Promise.all(all);
    expect(emu.queryLog.map((l) => l.code)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(emu.queryLog[5]!.at - emu.queryLog[0]!.at).toBeGreaterThan(60_000);
  });

  it.each([
    { name: '400 missing parameter', body: (b: Record<string, unknown>) => ({ ...b, random: undefined }), apiCode: 400 },
    { name: '247 unknown app', body: (b: Record<string, unknown>) => ({ ...b, appId: 'nope' }), apiCode: 247 },
    { name: '284 app invalid', body: (b: Record<string, unknown>) => ({ ...b, appId: 'dead', signature: anyRtcSignature('dead', b.timestamp as number, 'x', String(b.random)) }), apiCode: 284 },
    { name: '282 bad timestamp', body: (b: Record<string, unknown>) => ({ ...b, timestamp: 1559557543000 }), apiCode: 282 },
    { name: '281 bad signature', body: (b: Record<string, unknown>) => ({ ...b, signature: '0'.repeat(32) }), apiCode: 281 },
  ])('the emulator answers $name', async ({ body, apiCode }) => {
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN }, dead: { vodToken: 'x', valid: false } } });
    const ts = Date.now();
    const base = { appId: 'app1', random: '123456', timestamp: ts, signature: anyRtcSignature('app1', ts, TOKEN, '123456'), begTime: 0, endTime: 1, pageNum: 1, pageMax: 5 };
    const res = await fetch(`${emu.baseUrl}/oauth/anyapi/v1/videoInfo/getVodListByTime`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(base)) });
    expect(await res.json()).toMatchObject({ code: apiCode });
  });

  it('maps codes to typed errors: 281, 247, 299 and 501, without leaking the vodToken', async () => {
    emu = await createAnyRtcEmulator({ apps: { app1: { vodToken: TOKEN } }, queryLimit: { maxCalls: 2, windowMs: 60_000 } });
    const q = { roomId: 'r', begTime: 0, endTime: 1 };
    const wrong = createAnyRtcClient({ appId: 'app1', vodToken: 'wrong-token', queryBaseUrl: emu.baseUrl });
    const e1 = await wrong.listByRoom(q).catch((e: unknown) => e);
    expect(e1).toMatchObject({ code: 'SIGNATURE_INVALID', apiCode: 281, provider: 'anyrtc' });
    await expect(createAnyRtcClient({ appId: 'ghost', vodToken: TOKEN, queryBaseUrl: emu.baseUrl }).listByRoom(q)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', apiCode: 247 });
    // A client with a looser limiter than the service sees 299.
    const loose = createAnyRtcClient({ appId: 'app1', vodToken: TOKEN, queryBaseUrl: emu.baseUrl, queryLimit: { maxCalls: 100, windowMs: 60_000 }, rateLimitRetries: 0 });
    emu.injectInternalError(1);
    await expect(loose.listByRoom(q)).rejects.toMatchObject({ code: 'SERVICE_API', apiCode: 501 });
    await loose.listByRoom(q);
    const e3 = await loose.listByRoom(q).catch((e: unknown) => e);
    expect(e3).toMatchObject({ code: 'RATE_LIMITED', apiCode: 299 });
    for (const e of [e1, e3]) expect(`${(e as Error).message}${JSON.stringify(e)}`).not.toContain(TOKEN);
  });

  it('validates before sending', async () => {
    const c = createAnyRtcClient({ appId: 'a', vodToken: TOKEN, queryBaseUrl: 'http://127.0.0.1:1' });
    await expect(c.listByTime({ begTime: -1, endTime: 1, pageNum: 1, pageMax: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'begTime' });
    await expect(c.startRecord({ roomId: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'roomId' });
    expect(() => createAnyRtcClient({ appId: 'a', vodToken: '' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

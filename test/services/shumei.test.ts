import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createShumeiEmulator, type ShumeiEmulator } from '../../src/emulator/services/shumei.js';
import { ServiceError } from '../../src/services/errors.js';
import { buildShumeiSubmitBody, checkShumeiAnswer, createShumeiClient, SHUMEI_CLUSTERS, type ShumeiSubmitOptions } from '../../src/services/shumei.js';

const AK = 'ak-SECRET-123456';
const ok: ShumeiSubmitOptions = { type: 'POLITICS_PORN_MOAN', callback: 'http://127.0.0.1:1/cb', data: { tokenId: 'u1', btId: 'b1', url: 'http://127.0.0.1:9/live.flv' } };
let emu: ShumeiEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const expectFail = async (p: Promise<unknown> | (() => unknown), code: string, extra: Record<string, unknown> = {}): Promise<ServiceError> => {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ServiceError);
  expect(err).toMatchObject({ code, provider: 'shumei', ...extra });
  expect(String((err as Error).message) + JSON.stringify(err)).not.toContain(AK);
  return err as ServiceError;
};

describe('Shumei validation (before sending)', () => {
  const d = ok.data;
  it.each([
    { name: 'no type nor businessType', o: { ...ok, type: undefined }, field: 'type' },
    { name: 'unknown type label', o: { ...ok, type: 'PORN_FOO' }, field: 'type' },
    { name: 'unknown businessType label', o: { ...ok, type: undefined, businessType: 'PORN' }, field: 'businessType' },
    { name: 'bad eventId', o: { ...ok, eventId: 'party' }, field: 'eventId' },
    { name: 'callback not http', o: { ...ok, callback: 'ftp://x/cb' }, field: 'callback' },
    { name: 'missing tokenId', o: { ...ok, data: { ...d, tokenId: '' } }, field: 'data.tokenId' },
    { name: 'btId over 128', o: { ...ok, data: { ...d, btId: 'x'.repeat(129) } }, field: 'data.btId' },
    { name: 'NORMAL without url', o: { ...ok, data: { tokenId: 'u', btId: 'b' } }, field: 'data.url' },
    { name: 'url scheme', o: { ...ok, data: { ...d, url: 'file:///etc/passwd' } }, field: 'data.url' },
    { name: 'bad streamType', o: { ...ok, data: { ...d, streamType: 'WEBRTC' } }, field: 'data.streamType' },
    { name: 'bad lang', o: { ...ok, data: { ...d, lang: 'fr' } }, field: 'data.lang' },
    { name: 'bad role', o: { ...ok, data: { ...d, role: 'GOD' } }, field: 'data.role' },
    { name: 'returnAllText 2', o: { ...ok, data: { ...d, returnAllText: 2 } }, field: 'data.returnAllText' },
    { name: 'ZEGO without zegoParam', o: { ...ok, data: { ...d, streamType: 'ZEGO' } }, field: 'data.zegoParam' },
    { name: 'ZEGO without stream or room', o: { ...ok, data: { ...d, streamType: 'ZEGO', zegoParam: { testEnv: true } } }, field: 'data.zegoParam' },
    { name: 'AGORA without agoraParam', o: { ...ok, data: { ...d, streamType: 'AGORA' } }, field: 'data.agoraParam' },
    { name: 'AGORA uid over 32 bits', o: { ...ok, data: { ...d, streamType: 'AGORA', agoraParam: { uid: 2 ** 32 } } }, field: 'data.agoraParam.uid' },
    { name: 'TRTC without trtcParam', o: { ...ok, data: { ...d, streamType: 'TRTC' } }, field: 'data.trtcParam' },
    { name: 'TRTC bad demoSences', o: { ...ok, data: { ...d, streamType: 'TRTC', trtcParam: { sdkAppId: 1, demoSences: 3, userId: 'u', userSig: 's', roomId: 1 } } }, field: 'data.trtcParam.demoSences' },
    { name: 'TRTC roomId 0', o: { ...ok, data: { ...d, streamType: 'TRTC', trtcParam: { sdkAppId: 1, demoSences: 2, userId: 'u', userSig: 's', roomId: 0 } } }, field: 'data.trtcParam.roomId' },
    { name: 'data over 1 MB', o: { ...ok, data: { ...d, liveTitle: 'x'.repeat(1024 * 1024) } }, field: 'data' },
  ])('refuses $name', async ({ o, field }) => {
    await expectFail(() => buildShumeiSubmitBody(AK, o as ShumeiSubmitOptions), 'VALIDATION_FAILED', { field });
  });

  it('accepts both revisions\' labels, the 128-character btId, and the other stream types', () => {
    expect(buildShumeiSubmitBody(AK, { ...ok, type: 'AUDIOPOLITICAL_BANEDAUDIO_VOICE_AUDIOSCENE', businessType: 'GENDER_VOICE_AUDIOSCENE' })).toMatchObject({ appId: 'default', eventId: 'default', data: { streamType: 'NORMAL', lang: 'zh' } });
    expect(buildShumeiSubmitBody(AK, { ...ok, data: { ...ok.data, btId: 'x'.repeat(128) } })).toBeDefined();
    expect(buildShumeiSubmitBody(AK, { ...ok, data: { tokenId: 'u', btId: 'b', streamType: 'TRTC', trtcParam: { sdkAppId: 1, demoSences: 4, userId: 'rec_1', userSig: 's', strRoomId: 'r-1' } } })).toBeDefined();
    expect(buildShumeiSubmitBody(AK, { ...ok, data: { tokenId: 'u', btId: 'b', streamType: 'ZEGO', zegoParam: { roomId: 'r' } } })).toBeDefined();
  });

  it('picks the cluster URL', () => {
    expect(createShumeiClient({ accessKey: AK, cluster: 'sh' }).baseUrl).toBe(SHUMEI_CLUSTERS.sh);
    expect(createShumeiClient({ accessKey: AK }).baseUrl).toBe('http://api-audiostream-xjp.fengkongcloud.com');
    expect(() => createShumeiClient({ accessKey: '' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('Shumei answers map to typed errors', () => {
  it.each([
    { answer: { code: 1901, message: 'QPS' }, code: 'RATE_LIMITED' },
    { answer: { code: 1902, message: 'bad' }, code: 'VALIDATION_FAILED' },
    { answer: { code: 1903, message: 'fail' }, code: 'SERVICE_API' },
    { answer: { code: 1904, message: 'pull' }, code: 'SERVICE_API' },
    { answer: { code: 9101, message: 'perm' }, code: 'PERMISSION_DENIED' },
    { answer: { code: 4242, message: '?' }, code: 'SERVICE_API' },
    { answer: { code: 1902, requestId: 'r', detail: { errorCode: 1001, dupRequestId: 'old' } }, code: 'DUPLICATE_STREAM', dup: 'old' },
    { answer: { code: 1100, requestId: 'r', detail: { errorcode: 1001, dupRequestId: 'old2' } }, code: 'DUPLICATE_STREAM', dup: 'old2' },
  ])('$answer.code $answer.detail -> $code', async ({ answer, code, dup }) => {
    const e = await expectFail(() => checkShumeiAnswer(answer), code, { apiCode: answer.code });
    expect(e.dupRequestId).toBe(dup);
  });
});

describe('Shumei client against the emulator', () => {
  it('submits and closes', async () => {
    emu = await createShumeiEmulator({ accessKeys: [AK] });
    const c = createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl });
    const r = await c.submit({ ...ok, data: { ...ok.data, streamType: 'AGORA', agoraParam: { channel: 'c' } } });
    expect(r.code).toBe(1100);
    expect(r.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(await c.close(r.requestId)).toMatchObject({ code: 1100, message: '成功' });
    expect(await c.close(r.requestId)).toMatchObject({ code: 1100, message: '该路流不存在' });
    expect(JSON.stringify(emu.requests)).not.toContain(AK);
  });

  it('9101 for an unknown accessKey', async () => {
    emu = await createShumeiEmulator({ accessKeys: ['other'] });
    await expectFail(createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl }).submit(ok), 'PERMISSION_DENIED', { apiCode: 9101 });
  });

  it('1902 from the emulator when a raw request breaks a rule', async () => {
    emu = await createShumeiEmulator({ accessKeys: [AK] });
    const res = await fetch(`${emu.baseUrl}/audiostream/v4`, { method: 'POST', body: JSON.stringify({ accessKey: AK, appId: 'default', eventId: 'default', type: 'PORN', callback: 'http://x/cb', data: { tokenId: 't', btId: 'x'.repeat(129), streamType: 'NORMAL', url: 'http://x/s.flv' } }) });
    expect(await res.json()).toMatchObject({ code: 1902 });
    const top = await fetch(`${emu.baseUrl}/audiostream/v4`, { method: 'POST', body: JSON.stringify({ accessKey: AK, appId: 'default', eventId: 'default', type: 'PORN', callback: 'http://x/cb', streamType: 'NORMAL', data: { tokenId: 't', btId: 'top', url: 'http://x/s.flv' } }) });
    expect(await top.json()).toMatchObject({ code: 1100 }); // the example's top-level streamType is accepted
  });

  it('retries 1901 with backoff, then gives up with RATE_LIMITED', async () => {
    emu = await createShumeiEmulator({ accessKeys: [AK], qps: 1 });
    const c = createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl, backoffMs: 700, maxAttempts: 3 });
    await c.submit(ok);
    const second = await c.submit({ ...ok, data: { ...ok.data, btId: 'b2' } }); // 1901 once, then accepted after the backoff
    expect(second.code).toBe(1100);
    expect(emu.requests.length).toBeGreaterThanOrEqual(3); // at least one 1901 was retried
    const impatient = createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl, maxAttempts: 1 });
    await expectFail(impatient.submit({ ...ok, data: { ...ok.data, btId: 'b3' } }), 'RATE_LIMITED', { apiCode: 1901 });
  });

  it('1903 surfaces as SERVICE_API', async () => {
    emu = await createShumeiEmulator({ accessKeys: [AK] });
    emu.injectServiceFailure(1);
    await expectFail(createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl }).submit(ok), 'SERVICE_API', { apiCode: 1903 });
  });

  it.each(['errorCode', 'errorcode'] as const)('a duplicate push (detail.%s) carries dupRequestId, which closes the lost stream', async (dupSpelling) => {
    emu = await createShumeiEmulator({ accessKeys: [AK], dupSpelling });
    // A stream source that accepts and stays silent keeps the first pull alive.
    const source = createServer(() => undefined);
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', () => r()));
    const live = { ...ok, data: { ...ok.data, url: `http://127.0.0.1:${(source.address() as AddressInfo).port}/live.flv` } };
    try {
      const c = createShumeiClient({ accessKey: AK, baseUrl: emu.baseUrl });
      const first = await c.submit(live);
      const e = await expectFail(c.submit(live), 'DUPLICATE_STREAM');
      expect(e.dupRequestId).toBe(first.requestId);
      await c.close(e.dupRequestId!);
      expect((await c.submit(live)).code).toBe(1100);
    } finally {
      await emu.close();
      source.closeAllConnections();
      source.close();
    }
  });

  it('times out (close has 1 s by default; configurable)', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      await expectFail(createShumeiClient({ accessKey: AK, baseUrl: base }).close('r1'), 'TIMEOUT');
      await expectFail(createShumeiClient({ accessKey: AK, baseUrl: base, submitTimeoutMs: 200 }).submit(ok), 'TIMEOUT');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('HTTP errors and connection failures are typed', async () => {
    const s = createServer((_q, r) => r.writeHead(502).end('bad gateway'));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await expectFail(createShumeiClient({ accessKey: AK, baseUrl: `http://127.0.0.1:${port}` }).submit(ok), 'HTTP_ERROR', { httpStatus: 502 });
    s.close();
    await expectFail(createShumeiClient({ accessKey: AK, baseUrl: 'http://127.0.0.1:1' }).submit(ok), 'HTTP_ERROR');
  });
});

import { createPrivateKey, sign } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallbackServer, type CallbackServer, type RejectedEvent } from '../../src/services/callbackServer.js';
import type { AnyRtcCallbackEvent, ShumeiCallbackEvent, TupuCallbackEvent } from '../../src/services/callbacks.js';
import { http, keys, waitFor } from './helpers.js';

let cb: CallbackServer | undefined;
afterEach(async () => {
  await cb?.close();
  cb = undefined;
});

const json = { 'content-type': 'application/json' };
const signed = (inner: unknown, pem = keys.tupuPkcs1) => {
  const text = JSON.stringify(inner);
  return JSON.stringify({ signature: sign('sha256', Buffer.from(text), createPrivateKey(pem)).toString('base64'), json: text });
};

async function start(opts: Parameters<typeof createCallbackServer>[0] = {}) {
  cb = await createCallbackServer({ tupuPublicKey: keys.tupuPublic, ...opts });
  const got = { shumei: [] as ShumeiCallbackEvent[], tupu: [] as TupuCallbackEvent[], anyrtc: [] as AnyRtcCallbackEvent[], rejected: [] as RejectedEvent[], duplicates: 0 };
  cb.on('shumei', (e) => got.shumei.push(e));
  cb.on('tupu', (e) => got.tupu.push(e));
  cb.on('anyrtc', (e) => got.anyrtc.push(e));
  cb.on('rejected', (e) => got.rejected.push(e));
  cb.on('duplicate', () => got.duplicates++);
  return { cb, got };
}

describe('callback server', () => {
  it('uses a random 128-bit path token per server', async () => {
    const { cb: a } = await start();
    const b = await createCallbackServer();
    expect(a.urls.shumei).toMatch(/\/cb\/[0-9a-f]{32}\/shumei$/);
    expect(b.urls.shumei.split('/')[4]).not.toBe(a.urls.shumei.split('/')[4]);
    await b.close();
    await expect(createCallbackServer({ pathToken: 'short' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('parses nested Shumei callbacks, strips the _N suffix, and deduplicates re-sends', async () => {
    const { cb, got } = await start();
    const body = JSON.stringify({
      requestId: 'db45ca0256775771262c7ca5419ca85f_2', btId: 'b1', code: 1100, message: '成功', statCode: 0,
      audioDetail: { riskLevel: 'REJECT', riskLabel1: 'abuse', riskDescription: 'x', audioText: 'hello', audioUrl: 'http://a/b.mp3' },
      passThrough: { k: 1 },
    });
    for (let i = 0; i < 3; i++) expect((await http(cb.urls.shumei, { method: 'POST', headers: json, body })).status).toBe(200);
    expect(got.shumei).toHaveLength(1);
    expect(got.duplicates).toBe(2);
    expect(got.shumei[0]).toMatchObject({ requestId: 'db45ca0256775771262c7ca5419ca85f', segment: 2, btId: 'b1', riskLevel: 'REJECT', riskLabel1: 'abuse', audioText: 'hello', statCode: 0, passThrough: { k: 1 } });
    // The next segment of the same stream is a new event.
    await http(cb.urls.shumei, { method: 'POST', headers: json, body: body.replace('_2', '_3') });
    expect(got.shumei).toHaveLength(2);
    expect(cb.stats()).toMatchObject({ accepted: 2, duplicates: 2, rejected: 0 });
  });

  it('parses the flat Shumei shape of the document example (btid, top-level riskLevel)', async () => {
    const { cb, got } = await start();
    const body = JSON.stringify({ requestId: 'db45_0', code: 1100, message: '成功', btid: '1604285930313', riskLevel: 'PASS', riskLabel1: 'normal', riskDetail: { audioText: '坚持', audioUrl: 'http://x/0.mp3' } });
    expect((await http(cb.urls.shumei, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body })).status).toBe(200);
    expect(got.shumei[0]).toMatchObject({ requestId: 'db45', segment: 0, btId: '1604285930313', riskLevel: 'PASS', audioText: '坚持', audioUrl: 'http://x/0.mp3' });
  });

  it('verifies Tupu callbacks before parsing them', async () => {
    const { cb, got } = await start();
    const result = { t1: { texts: [{ requestId: 'r1', content: 'hi', label: 1, sliceStartTime: 0, sliceEndTime: 1000 }] } };
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: signed(result) })).status).toBe(200);
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: signed({ code: 0, requestId: 'r1', status: 'end', nonce: '0.1', timestamp: 1 }) })).status).toBe(200);
    expect(got.tupu[0]).toMatchObject({ kind: 'result', requestId: 'r1', riskLevel: 'REJECT' });
    expect(got.tupu[1]).toMatchObject({ kind: 'end', requestId: 'r1', code: 0 });
    // Signed with the wrong key (the client's), tampered, or unsigned: refused, nothing emitted.
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: signed(result, keys.clientPkcs8) })).status).toBe(401);
    const tampered = JSON.parse(signed(result)) as { json: string; signature: string };
    tampered.json = tampered.json.replace('hi', 'ho');
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: JSON.stringify(tampered) })).status).toBe(401);
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: JSON.stringify(result) })).status).toBe(400);
    expect(got.tupu).toHaveLength(2);
    expect(got.rejected.map((r) => r.reason)).toEqual(['bad-signature', 'bad-signature', 'invalid-payload']);
  });

  it('refuses Tupu callbacks when no Tupu key is configured', async () => {
    cb = await createCallbackServer();
    expect((await http(cb.urls.tupu, { method: 'POST', headers: json, body: signed({ x: 1 }) })).status).toBe(503);
  });

  it('parses anyRTC callbacks (userData is a JSON string) and replies as documented', async () => {
    const { cb, got } = await start();
    const body = JSON.stringify({ type: '2', mediaType: 'audio/video', userId: '123456', groupId: '123888', startTime: '1521608787', endTime: '1521608807', fileName: 'yyy.mp4', fileSize: 65322, duration: 20, downloadUrl: 'http://www.anyrtc.io/yyy.mp4', userData: '{"customerCode":"1002"}' });
    const res = await http(cb.urls.anyrtc, { method: 'POST', headers: json, body });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ code: 0, success: true });
    expect(typeof JSON.parse(res.body).message).toBe('string');
    expect(got.anyrtc[0]).toMatchObject({ type: '2', groupId: '123888', fileSize: 65322, duration: 20, userDataParsed: { customerCode: '1002' } });
  });

  it.each([
    { name: 'unknown token', path: (u: string) => u.replace(/\/cb\/[0-9a-f]+\//, '/cb/00000000000000000000000000000000/'), method: 'POST', headers: json, body: '{}', status: 404, reason: 'unknown-path' },
    { name: 'unknown provider', path: (u: string) => u.replace(/shumei$/, 'agora'), method: 'POST', headers: json, body: '{}', status: 404, reason: 'unknown-path' },
    { name: 'GET', path: (u: string) => u, method: 'GET', headers: {}, body: undefined, status: 405, reason: 'method-not-allowed' },
    { name: 'form content type', path: (u: string) => u, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1', status: 415, reason: 'unsupported-media-type' },
    { name: 'malformed JSON', path: (u: string) => u, method: 'POST', headers: json, body: '{"requestId":', status: 400, reason: 'malformed-json' },
    { name: 'no requestId', path: (u: string) => u, method: 'POST', headers: json, body: '[1,2]', status: 400, reason: 'invalid-payload' },
    { name: 'oversized body', path: (u: string) => u, method: 'POST', headers: json, body: JSON.stringify({ requestId: 'x', pad: 'a'.repeat(5000) }), status: 413, reason: 'body-too-large' },
  ])('answers $status to $name, emits rejected, and keeps serving', async ({ path, method, headers, body, status, reason }) => {
    const { cb, got } = await start({ bodyLimit: 4096 });
    const res = await http(path(cb.urls.shumei), { method, headers, ...(body === undefined ? {} : { body }) });
    expect(res.status).toBe(status);
    expect(got.rejected[0]?.reason).toBe(reason);
    expect(res.body).not.toContain(cb.urls.shumei.split('/')[4]);
    expect((await http(cb.urls.shumei, { method: 'POST', headers: json, body: '{"requestId":"ok_1"}' })).status).toBe(200);
  });

  it('times out a request whose body never completes', async () => {
    const { cb, got } = await start({ timeouts: { requestMs: 300 } });
    const u = new URL(cb.urls.shumei);
    const sock = connect(Number(u.port), u.hostname);
    sock.write(`POST ${u.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"req`);
    const answer = await new Promise<string>((resolve) => {
      let s = '';
      sock.on('data', (c) => (s += c.toString()));
      sock.on('close', () => resolve(s));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await waitFor(() => got.rejected.length === 1, 2000);
    expect(got.rejected[0]?.reason).toBe('timeout');
  });

  it('survives a listener that throws', async () => {
    const { cb } = await start();
    cb.on('anyrtc', () => {
      throw new Error('user bug');
    });
    expect((await http(cb.urls.anyrtc, { method: 'POST', headers: json, body: '{"type":"1"}' })).status).toBe(200);
    expect((await http(cb.urls.anyrtc, { method: 'POST', headers: json, body: '{"type":"1"}' })).status).toBe(200);
  });
});

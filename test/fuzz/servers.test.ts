/**
 * The network edges fuzzed over real loopback sockets: the callback server, the KOOK emulator's HTTP API and UDP
 * media endpoint, and the service emulators' JSON servers. Every request gets an answer of the documented kind, the
 * server keeps serving, and nothing escapes as an unhandled rejection or an uncaught exception.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKookEmulator } from '../../src/emulator/kook/emulator.js';
import { createAnyRtcEmulator } from '../../src/emulator/services/anyrtc.js';
import { createShumeiEmulator } from '../../src/emulator/services/shumei.js';
import { createTupuEmulator } from '../../src/emulator/services/tupu.js';
import { createCallbackServer } from '../../src/services/callbackServer.js';
import { keys } from '../services/helpers.js';
import { SEED } from './helpers.js';

const escaped: unknown[] = [];
const onRejection = (reason: unknown): void => void escaped.push(reason);
const onException = (err: unknown): void => void escaped.push(err);
beforeAll(() => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});
afterEach(async () => {
  // Let stray promises settle before judging.
  await new Promise((r) => setTimeout(r, 50));
  expect(escaped).toEqual([]);
});

interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | undefined;
}

/** One HTTP exchange; resolves with the status (0 when the connection was dropped) and the body. */
function send(port: number, r: Req): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(5000, () => req.destroy());
    req.end(r.body);
  });
}

/** Raw bytes on a TCP connection; resolves with the status line's code (0 when none came back). */
function sendRaw(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0)));
    s.setTimeout(3000, () => s.destroy());
    s.end(bytes);
  });
}

/** Path characters node's client accepts; includes the ones that break a naive `new URL(path, base)`. */
const pathChar = fc.constantFrom(...'/abcAZ09-_.~%?=&[]:@!$\'()*+,;'.split(''));
const randomPath = fc.oneof(
  fc.string({ unit: pathChar, maxLength: 40 }).map((s) => `/${s}`),
  fc.constantFrom('//', '///', '//[', '/%', '/%zz', '/..', '/./../', '*', '/?', '//a/b'),
);
const jsonBody = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
const body = fc.oneof(jsonBody, fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.constant(undefined));
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json;;;');
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'POST');

describe('callback server over HTTP', () => {
  it('200 random requests: every answer 2xx/4xx, the server keeps serving', async () => {
    const cb = await createCallbackServer({ tupuPublicKey: keys.tupuPublic, bodyLimit: 4096, timeouts: { headersMs: 2000, requestMs: 2000 } });
    cb.on('shumei', () => {
      throw new Error('a listener that throws must not break the server');
    });
    const token = cb.urls.shumei.split('/')[4]!;
    const tupuKey = createPrivateKey(keys.tupuPkcs1);
    const signedBody = fc.jsonValue({ maxDepth: 3 }).map((inner) => {
      const text = JSON.stringify(inner);
      return JSON.stringify({ signature: sign('sha256', Buffer.from(text), tupuKey).toString('base64'), json: text });
    });
    const routePath = fc.tuple(fc.constantFrom('shumei', 'tupu', 'anyrtc'), fc.constantFrom('', '/', '?x=1', '//')).map(([p, s]) => `/cb/${token}/${p}${s}`);
    const reqArb: fc.Arbitrary<Req> = fc.record({
      method,
      path: fc.oneof(routePath, routePath, randomPath),
      headers: fc.record({ 'content-type': contentType }, { requiredKeys: [] }),
      body: fc.oneof(body, signedBody, fc.constant('x'.repeat(5000))),
    });
    const reqs = fc.sample(reqArb, { seed: SEED, numRuns: 180 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < reqs.length; i += 6) {
      const answers = await Promise.all(reqs.slice(i, i + 6).map((r) => send(cb.port, r)));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    // Raw garbage: malformed request lines, lying Content-Length, header floods.
    const raw = [
      Buffer.from('GARBAGE\r\n\r\n'),
      Buffer.from(`POST /cb/${token}/shumei HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"requestId":`),
      Buffer.from(`POST /cb/${token}/anyrtc HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: -1\r\n\r\n{}`),
      Buffer.from(`POST /cb/${token}/tupu HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\nzz\r\n`),
      Buffer.from(`GET // HTTP/1.1\r\nHost: x\r\n\r\n`),
      Buffer.from(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${'x-h: 1\r\n'.repeat(3000)}\r\n`),
      ...fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), { seed: SEED, numRuns: 14 }).map((b) => Buffer.from(b)),
    ];
    for (const b of raw) {
      const s = await sendRaw(cb.port, b);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    for (const s of statuses.keys()) expect(s === 0 || (s >= 200 && s < 300) || (s >= 400 && s < 500), `status ${s}`).toBe(true);
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    // Still serving after all that.
    const ok = await send(cb.port, { method: 'POST', path: `/cb/${token}/anyrtc`, headers: { 'content-type': 'application/json' }, body: '{"type":"2"}' });
    expect(ok.status).toBe(200);
    const st = cb.stats();
    expect(st.accepted + st.rejected + st.duplicates).toBeLessThanOrEqual(st.received);
    await cb.close();
  });
});

describe('KOOK emulator fuzz', () => {
  it('HTTP API: random paths, methods, tokens and JSON bodies get the envelope; never a 5xx', async () => {
    const e = await startKookEmulator({ decodeAudio: false, rateLimit: false, globalRateLimit: false, maxStreams: 4 });
    try {
      const channel = fc.oneof(fc.constantFrom('1001', '1002', '9999', ''), fc.jsonValue());
      const joinBody = fc
        .record({ channel_id: channel, audio_ssrc: fc.jsonValue(), audio_pt: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.jsonValue()), rtcp_mux: fc.jsonValue(), password: fc.jsonValue() }, { requiredKeys: [] })
        .map((v) => JSON.stringify(v));
      const endpoints = fc.constantFrom('join', 'list', 'leave', 'keep-alive', 'list?page=0', 'list?page=-1&page_size=99999999999', 'list?page=2&page_size=1', 'nope');
      const reqArb: fc.Arbitrary<Req> = fc.record({
        method,
        path: fc.oneof(endpoints.map((p) => `/api/v3/voice/${p}`), randomPath),
        headers: fc.record({ authorization: fc.constantFrom(`Bot ${e.token}`, `Bot ${e.token}`, 'Bot wrong', `Bearer ${e.token}`, ''), 'content-type': contentType, 'accept-language': fc.constantFrom('en', 'zh-CN', '') }),
        body: fc.oneof(joinBody, body),
      });
      const reqs = fc.sample(reqArb, { seed: SEED, numRuns: 200 });
      for (let i = 0; i < reqs.length; i += 5) {
        const answers = await Promise.all(reqs.slice(i, i + 5).map((r) => send(Number(new URL(e.apiBase).port), r)));
        answers.forEach((a, j) => {
          const r = reqs[i + j]!;
          expect(a.status, `${r.method} ${r.path}`).toBeGreaterThanOrEqual(200);
          expect(a.status, `${r.method} ${r.path}`).toBeLessThan(500);
          if (r.method === 'HEAD') return;
          const env = JSON.parse(a.body) as { code: unknown; message: unknown; data: unknown };
          expect(typeof env.code).toBe('number');
          expect(typeof env.message).toBe('string');
          expect('data' in env).toBe(true);
        });
      }
      // Still answering a proper client.
      const list = await send(Number(new URL(e.apiBase).port), { method: 'GET', path: '/api/v3/voice/list', headers: { authorization: `Bot ${e.token}` }, body: undefined });
      expect(list.status).toBe(200);
    } finally {
      await e.close();
    }
  });

  it('UDP endpoint: random datagrams are counted (malformed or not) and dropped, never crash it', async () => {
    const e = await startKookEmulator({ killRatio: 1000, rateLimit: false });
    try {
      const res = await fetch(`${e.apiBase}/voice/join`, { method: 'POST', headers: { authorization: `Bot ${e.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel_id: '1001' }) });
      const join = ((await res.json()) as { data: { port: string; audio_ssrc: string } }).data;
      const port = Number(join.port);
      const ssrc = Number(join.audio_ssrc);
      const rtpLike = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.integer({ min: 0, max: 15 })).map(([seq, payload, own, cc]) => {
        const h = Buffer.alloc(12);
        h[0] = 0x80 | cc;
        h[1] = 111;
        h.writeUInt16BE(seq, 2);
        h.writeUInt32BE(seq * 960, 4);
        h.writeUInt32BE(own ? ssrc : 0xdeadbeef, 8);
        return Buffer.concat([h, payload]);
      });
      const rtcpLike = fc.tuple(fc.integer({ min: 192, max: 210 }), fc.integer({ min: 0, max: 31 }), fc.uint8Array({ maxLength: 120 })).map(([pt, count, rest]) => {
        const b = Buffer.concat([Buffer.from([0x80 | count, pt, 0, Math.floor(rest.length / 4) + 1, 0, 0, 0, 1]), rest]);
        return b;
      });
      const datagrams = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), rtpLike, rtcpLike), { seed: SEED, numRuns: 300 });
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      for (let i = 0; i < datagrams.length; i++) {
        sock.send(datagrams[i]!, port, '127.0.0.1');
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      const counted = (): number => {
        const r = e.channel('1001').stream!;
        return r.packets + r.malformed + r.rtcp.packets + r.rtcp.malformed;
      };
      const until = Date.now() + 5000;
      while (counted() < datagrams.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      sock.close();
      const r = e.channel('1001').stream!;
      expect(r.closeReason).toBeNull();
      expect(r.malformed + r.rtcp.malformed).toBeGreaterThan(0);
      // Loopback may drop a datagram under load, but nothing is counted twice or lost inside the emulator.
      expect(counted()).toBeLessThanOrEqual(datagrams.length);
      expect(counted()).toBeGreaterThan(datagrams.length * 0.9);
      // And the HTTP side still answers.
      const list = await fetch(`${e.apiBase}/voice/list`, { headers: { authorization: `Bot ${e.token}` } });
      expect(list.status).toBe(200);
    } finally {
      await e.close();
    }
  });
});

describe('service emulators fuzz', () => {
  // Regression: `GET //` (and other paths `new URL(path, base)` rejects) threw inside the request listener of the
  // service emulators' JSON server, an uncaught exception that took the whole process down.
  it('Shumei, Tupu and anyRTC emulators answer hostile paths and bodies with 4xx JSON and keep serving', async () => {
    const shumei = await createShumeiEmulator({ accessKeys: ['k'] });
    const tupu = await createTupuEmulator({ customers: { sid: keys.clientPublic }, signingKey: keys.tupuPkcs8 });
    const anyrtc = await createAnyRtcEmulator({ apps: {} });
    try {
      const reqArb: fc.Arbitrary<Req> = fc.record({
        method,
        path: fc.oneof(randomPath, fc.constantFrom('/audiostream/v4', '/finish_audiostream/v4', '/v3/recognition/speech/stream/sid', '/anyapi/v1/startrecord?AppID=a', '/oauth/anyapi/v1/videoInfo/getVodListByTime')),
        headers: fc.record({ 'content-type': contentType }),
        body: fc.oneof(body, fc.record({ accessKey: fc.constantFrom('k', 'x'), data: fc.jsonValue(), appId: fc.jsonValue(), eventId: fc.jsonValue(), callback: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v))),
      });
      for (const base of [shumei.baseUrl, tupu.baseUrl, anyrtc.baseUrl]) {
        const port = Number(new URL(base).port);
        const reqs = [{ method: 'GET', path: '//', headers: {}, body: undefined }, ...fc.sample(reqArb, { seed: SEED, numRuns: 60 })];
        for (let i = 0; i < reqs.length; i += 6) {
          const answers = await Promise.all(reqs.slice(i, i + 6).map((r) => send(port, r)));
          answers.forEach((a, j) => expect(a.status, `${reqs[i + j]!.method} ${reqs[i + j]!.path}`).toBeLessThan(500));
        }
        expect((await send(port, { method: 'GET', path: '//', headers: {}, body: undefined })).status).toBe(404);
      }
    } finally {
      await Promise.all([shumei.close(), tupu.close(), anyrtc.close()]);
    }
  });
});

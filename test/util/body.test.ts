/**
 * Answer bodies are capped: a real loopback server sends 50 MB (with a content-length, and chunked without one) to
 * the KOOK client and each service client; each fails with RESPONSE_TOO_LARGE after reading at most the cap, and the
 * server sees the connection dropped long before its 50 MB are out.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KookRtpError } from '../../src/errors.js';
import { createKookClient } from '../../src/kook/client.js';
import { createAnyRtcClient } from '../../src/services/anyrtc.js';
import { ServiceError } from '../../src/services/errors.js';
import { createShumeiClient } from '../../src/services/shumei.js';
import { createTupuClient } from '../../src/services/tupu.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readAnswerText } from '../../src/util/body.js';
import { keys } from '../services/helpers.js';

const HUGE = 50 * 1024 * 1024;
type Mode = 'length' | 'chunked' | 'small';
let mode: Mode = 'length';
let sent = 0;
let server: Server;
let base = '';

/** Writes `total` bytes of JSON-looking filler, as fast as the client reads, until done or the client goes away. */
function pump(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let left = total;
  const more = (): void => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, chunk.length);
      left -= n;
      sent += n;
      if (!res.write(chunk.subarray(0, n))) {
        res.once('drain', more);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  more();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (mode === 'small') {
      // 3000 bytes of a well-formed KOOK list answer padded with whitespace.
      const json = JSON.stringify({ code: 0, message: 'ok', data: { items: [], meta: { page: 1, page_total: 1 } } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(json + ' '.repeat(3000 - json.length));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...(mode === 'length' ? { 'content-length': String(HUGE) } : {}) });
    pump(res, HUGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const clients: { name: string; call: (limit?: number) => Promise<unknown> }[] = [
  { name: 'KOOK client', call: (limit) => createKookClient({ token: 'tok-123456', apiBase: `${base}/api/v3`, retries: 0, ...(limit === undefined ? {} : { maxResponseBytes: limit }) }).list() },
  {
    name: 'Shumei client',
    call: (limit) =>
      createShumeiClient({ accessKey: 'ak', baseUrl: base, maxAttempts: 1, ...(limit === undefined ? {} : { maxResponseBytes: limit }) }).submit({
        eventId: 'voiceroom',
        type: 'POLITICS',
        callback: 'http://127.0.0.1/cb',
        data: { tokenId: 't', btId: 'b', streamType: 'NORMAL', url: 'http://127.0.0.1/s.flv' },
      }),
  },
  { name: 'Tupu client', call: (limit) => createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs8, host: base, ...(limit === undefined ? {} : { maxResponseBytes: limit }) }).submit([{ url: 'http://127.0.0.1/s.flv', callback: 'http://127.0.0.1/cb' }]) },
  { name: 'anyRTC client', call: (limit) => createAnyRtcClient({ appId: 'a', vodToken: 'v', queryBaseUrl: base, ...(limit === undefined ? {} : { maxResponseBytes: limit }) }).listByTime({ begTime: 0, endTime: 1, pageNum: 1, pageMax: 1 }) },
];

describe('answer bodies are capped (default 1 MiB)', () => {
  it.each(clients.flatMap((c) => (['length', 'chunked'] as const).map((m) => ({ ...c, mode: m }))))('$name, 50 MB $mode: RESPONSE_TOO_LARGE without reading it all', async ({ call, mode: m }) => {
    mode = m;
    sent = 0;
    const t0 = Date.now();
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KookRtpError);
    expect((err as KookRtpError).code).toBe('RESPONSE_TOO_LARGE');
    if (!(err instanceof ServiceError)) expect(`${String(err)}`).toContain('limit');
    // Stopped at the cap: with a content-length nothing is read; chunked, the server got at most the cap plus what
    // the socket buffers hold before the drop.
    expect(sent).toBeLessThan(HUGE / 2);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it.each(clients)('$name: the cap is an option (maxResponseBytes)', async ({ call }) => {
    mode = 'small';
    const under = await call(2000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((under as KookRtpError).code).toBe('RESPONSE_TOO_LARGE');
    const over = await call(4000).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Whatever else the service clients think of the answer, it was read.
    expect((over as KookRtpError | undefined)?.code).not.toBe('RESPONSE_TOO_LARGE');
  });

  it('readAnswerText: exactly the cap is fine, one byte over is not; text() fallback for injected fetches', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(1024 * 1024);
    const mk = (s: string) => new Response(s);
    expect(await readAnswerText(mk('x'.repeat(10)), 10, 'test')).toBe('x'.repeat(10));
    await expect(readAnswerText(mk('x'.repeat(11)), 10, 'test')).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(await readAnswerText({ text: async () => '语音' }, 6, 'test')).toBe('语音');
    await expect(readAnswerText({ text: async () => '语音!' }, 6, 'test')).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });
});

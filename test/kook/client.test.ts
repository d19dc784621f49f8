import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KookRtpError } from '../../src/errors.js';
import { startKookEmulator, type KookEmulator, type KookEmulatorOptions } from '../../src/emulator/kook/emulator.js';
import { createKookClient, parseJoin, type KookClientEvent, type KookClientOptions } from '../../src/kook/client.js';
import { KookApiError, KookHttpError, KookRateLimitError } from '../../src/kook/errors.js';
import { redact, scrubError } from '../../src/util/secrets.js';

const TOKEN = 'Tk-3xQ9-secret-token-value==';

let emulators: KookEmulator[] = [];
let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  emulators = [];
  servers = [];
});

async function emulator(options: KookEmulatorOptions = {}): Promise<KookEmulator> {
  const e = await startKookEmulator({ token: TOKEN, decodeAudio: false, ...options });
  emulators.push(e);
  return e;
}

/** Every error the tests provoke goes here, to check the token never leaks. */
const collected: unknown[] = [];

async function failure(p: Promise<unknown>): Promise<KookRtpError> {
  try {
    await p;
  } catch (err) {
    collected.push(err);
    expect(err).toBeInstanceOf(KookRtpError);
    return err as KookRtpError;
  }
  throw new Error('expected a rejection');
}

function client(e: KookEmulator, extra: Partial<KookClientOptions> = {}) {
  return createKookClient({ token: e.token, apiBase: e.apiBase, backoff: { baseMs: 1, maxMs: 5 }, ...extra });
}

/** A server answering 429 with the given headers `times` times, then 200 with one channel. */
async function limitedServer(headers: Record<string, string>, times: number): Promise<{ apiBase: string; served: () => number }> {
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    served++;
    if (served <= times) {
      res.writeHead(429, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify({ code: 429, message: 'slow down', data: {} }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: 0, message: 'ok', data: { items: [{ id: '1', guild_id: 'g', parent_id: '', name: 'n' }], meta: { page: 1, page_total: 1, page_size: 50, total: 1 } } }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`, served: () => served };
}

describe('KOOK client against the emulator', () => {
  it('joins, lists every page, keeps alive and leaves', async () => {
    const e = await emulator({ bitrate: 64_000 });
    const kook = client(e);

    const a = await kook.join({ channelId: '1001' });
    expect(a).toMatchObject({ ip: '127.0.0.1', rtcpMux: true, bitrate: 64_000, audioSsrc: 1111, audioPt: 111 });
    expect(a.port).toBe(e.channel('1001').stream?.port);
    expect(a.rtcpPort).toBe(a.port);
    expect(typeof a.raw.port).toBe('string');

    const b = await kook.join({ channelId: '1002', rtcpMux: false, audioSsrc: 4242, audioPt: 100 });
    expect(b.rtcpMux).toBe(false);
    expect(b.rtcpPort).not.toBe(b.port);
    expect(b.rtcpPort).toBe(e.channel('1002').stream?.rtcpPort);
    expect(b).toMatchObject({ audioSsrc: 4242, audioPt: 100 });
    await kook.join({ channelId: '1003' });

    const all = await kook.list({ pageSize: 2 });
    expect(all.map((c) => c.id)).toEqual(['1001', '1002', '1003']);
    expect(all[0]).toEqual({ id: '1001', guildId: '2001', parentId: '3001', name: 'Voice 1' });
    expect(e.requests().filter((r) => r.path.endsWith('/voice/list'))).toHaveLength(2);

    const page2 = await kook.listPage(2, 2);
    expect(page2.items.map((c) => c.id)).toEqual(['1003']);
    expect(page2.meta).toEqual({ page: 2, pageTotal: 2, pageSize: 2, total: 3 });

    await kook.keepAlive('1001');
    expect(e.channel('1001').stream?.keepAlives).toBe(1);

    await kook.leave('1002');
    expect((await kook.list()).map((c) => c.id)).toEqual(['1001', '1003']);
    expect(e.channel('1002').reports()[0]?.closeReason).toBe('leave');

    const err = await failure(kook.keepAlive('1002'));
    expect(err).toBeInstanceOf(KookApiError);
    expect((err as KookApiError).apiCode).toBe(40000);
  });

  it('maps a bad token to HTTP_ERROR 401 with KOOK\'s envelope, without retrying', async () => {
    const e = await emulator();
    const kook = createKookClient({ token: 'wrong-token', apiBase: e.apiBase, retries: 3 });
    const err = await failure(kook.list());
    expect(err).toBeInstanceOf(KookHttpError);
    expect(err.code).toBe('HTTP_ERROR');
    expect((err as KookHttpError).status).toBe(401);
    expect((err as KookHttpError).apiCode).toBe(401);
    expect(e.requests()).toHaveLength(1);
  });

  it('raises KookApiError with the envelope code for refused requests', async () => {
    const e = await emulator({ channels: [{ id: '7', password: 'pw' }] });
    const kook = client(e);
    const unknown = await failure(kook.join({ channelId: '9999' }));
    expect(unknown).toBeInstanceOf(KookApiError);
    expect(unknown.code).toBe('KOOK_API');
    expect((unknown as KookApiError).apiCode).toBe(40000);
    expect((unknown as KookApiError).status).toBe(200);
    expect((unknown as KookApiError).apiMessage).toBe('频道不存在');

    const wrong = await failure(kook.join({ channelId: '7', password: 'nope' }));
    expect((wrong as KookApiError).apiCode).toBe(40000);
    const ok = await kook.join({ channelId: '7', password: 'pw' });
    expect(ok.port).toBeGreaterThan(0);

    e.injectFault({ endpoint: 'keep-alive', apiCode: 40300, message: 'no permission' });
    const custom = await failure(kook.keepAlive('7'));
    expect((custom as KookApiError).apiCode).toBe(40300);
    expect((custom as KookApiError).apiMessage).toBe('no permission');
  });

  it('localises through Accept-Language', async () => {
    const e = await emulator();
    const kook = client(e, { acceptLanguage: 'en-US' });
    const err = await failure(kook.join({ channelId: '9999' }));
    expect((err as KookApiError).apiMessage).toBe('The channel does not exist');
  });

  it('waits for the reset after a 429, then succeeds', async () => {
    const e = await emulator({ rateLimit: { limit: 2, windowMs: 1000 }, globalRateLimit: false });
    const first = client(e);
    await first.list();
    await first.list(); // Remaining is now 0

    const sleeps: number[] = [];
    const second = client(e, {
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    const started = Date.now();
    await expect(second.list()).resolves.toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(second.stats().rateLimited).toBe(1);
    expect(sleeps.some((ms) => ms >= 900)).toBe(true);
    expect(e.rateLimitRefusals()).toEqual({ 'voice/list': 1 });
  });

  it('waits before sending when X-Rate-Limit-Remaining reached 0, so no 429 is provoked', async () => {
    const e = await emulator({ rateLimit: { limit: 2, windowMs: 1000 }, globalRateLimit: false });
    const sleeps: number[] = [];
    const kook = client(e, {
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    await kook.list();
    await kook.list();
    await kook.list();
    expect(kook.stats().rateLimitWaits).toBe(1);
    expect(kook.stats().rateLimited).toBe(0);
    expect(e.rateLimitRefusals()).toEqual({});
    // Buckets are separate: keep-alive was never limited.
    await kook.join({ channelId: '1001' });
    await kook.keepAlive('1001');
    expect(kook.stats().rateLimitWaits).toBe(1);
  });

  it('sleeps exactly until an advertised reset with an injected clock', async () => {
    const srv = await limitedServer({ 'X-Rate-Limit-Limit': '5', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': '14', 'X-Rate-Limit-Bucket': 'voice/list' }, 1);
    let now = 1_000_000;
    const sleeps: number[] = [];
    const kook = createKookClient({
      token: TOKEN,
      apiBase: srv.apiBase,
      clock: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    expect((await kook.list()).map((c) => c.id)).toEqual(['1']);
    expect(sleeps).toEqual([14_000]);
    expect(srv.served()).toBe(2);
  });

  it('lets the global limit block every bucket', async () => {
    const e = await emulator({ rateLimit: false, globalRateLimit: { limit: 2, windowMs: 1000 } });
    const other = client(e);
    await other.list();
    await other.list();
    const events: KookClientEvent[] = [];
    const kook = client(e, { onEvent: (ev) => events.push(ev) });
    await kook.list(); // 429 with X-Rate-Limit-Global, then waits and succeeds
    expect(kook.stats().rateLimited).toBe(1);
    expect(e.rateLimitRefusals()).toEqual({ global: 1 });
    expect(events.some((ev) => ev.type === 'rate-limit-wait' && ev.global)).toBe(true);
  });

  it('throws RATE_LIMITED when the reset is longer than it will wait', async () => {
    const e = await emulator({ rateLimit: { limit: 1, windowMs: 30_000 }, globalRateLimit: false });
    await client(e).list();
    const kook = client(e, { maxRateLimitWaitMs: 2000 });
    const err = await failure(kook.list());
    expect(err).toBeInstanceOf(KookRateLimitError);
    expect(err.code).toBe('RATE_LIMITED');
    expect((err as KookRateLimitError).bucket).toBe('voice/list');
  });

  it('retries idempotent calls after 5xx, and succeeds', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'list', status: 500, times: 2 });
    const kook = client(e, { retries: 3 });
    await expect(kook.list()).resolves.toEqual([]);
    expect(kook.stats().retries).toBe(2);
    expect(e.requests().map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('gives up after the configured retries with the last status', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'leave', status: 503, times: 10 });
    const kook = client(e, { retries: 2 });
    const err = await failure(kook.leave('1001'));
    expect((err as KookHttpError).status).toBe(503);
    expect(e.requests()).toHaveLength(3);
  });

  it('does not retry a join that may have reached the server', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'join', status: 500, afterProcessing: true });
    const kook = client(e, { retries: 3 });
    const err = await failure(kook.join({ channelId: '1001' }));
    expect((err as KookHttpError).status).toBe(500);
    expect(e.requests()).toHaveLength(1);
    // The lost join did allocate an address: exactly the leak a blind retry would double.
    expect(e.channel('1001').stream).toBeDefined();

    e.injectFault({ endpoint: 'join', dropConnection: true });
    const dropped = await failure(kook.join({ channelId: '1002' }));
    expect(dropped.code).toBe('HTTP_ERROR');
    expect((dropped as KookHttpError).status).toBe(0);
  });

  it('recovers an ambiguous join with leave-and-retry, leaving one live stream', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'join', status: 502, afterProcessing: true });
    const kook = client(e, { joinRecovery: 'leave-and-retry' });
    const joined = await kook.join({ channelId: '1001' });
    expect(joined.port).toBe(e.channel('1001').stream?.port);
    const history = e.channel('1001').reports();
    expect(history).toHaveLength(2);
    expect(history[0]?.closeReason).toBe('leave');
    expect(e.requests().map((r) => r.path.split('/').pop())).toEqual(['join', 'leave', 'join']);
  });

  it('retries a join whose request never left (connection refused)', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const events: KookClientEvent[] = [];
    const kook = createKookClient({
      token: TOKEN,
      apiBase: `http://127.0.0.1:${port}/api/v3`,
      retries: 2,
      backoff: { baseMs: 1 },
      onEvent: (ev) => events.push(ev),
    });
    const err = await failure(kook.join({ channelId: '1001' }));
    expect(err).toBeInstanceOf(KookHttpError);
    expect((err as KookHttpError).status).toBe(0);
    expect(events.filter((ev) => ev.type === 'request')).toHaveLength(3);
  });

  it('times out a slow call with TIMEOUT', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'list', delayMs: 600, times: 5 });
    const kook = client(e, { timeoutMs: 100, retries: 1 });
    const err = await failure(kook.list());
    expect(err.code).toBe('TIMEOUT');
    expect(kook.stats().requests).toBe(2);
  });

  it('aborts on the caller\'s signal with ABORTED', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'list', delayMs: 600 });
    const kook = client(e);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await failure(kook.list({ signal: ac.signal }));
    expect(err.code).toBe('ABORTED');
  });

  it('rejects a malformed join answer with VALIDATION_FAILED and keeps string fields raw', () => {
    const ok = parseJoin({ ip: '10.0.0.1', port: '1000', rtcp_port: '10001', rtcp_mux: false, bitrate: 48000, audio_ssrc: '1111', audio_pt: '111' });
    expect(ok).toMatchObject({ port: 1000, rtcpPort: 10001, audioSsrc: 1111, audioPt: 111 });
    expect(ok.raw.rtcp_port).toBe('10001');
    expect(() => parseJoin({ ip: '10.0.0.1', port: 'x' })).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('refuses an answer that is not the envelope with HTTP_ERROR', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const kook = createKookClient({ token: TOKEN, apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3` });
    const err = await failure(kook.list());
    expect(err.code).toBe('HTTP_ERROR');
    expect((err as KookHttpError).status).toBe(200);
  });
});

describe('token hygiene', () => {
  it('scrubs the token from errors raised by a fetch that leaks it', async () => {
    const leakyFetch: typeof fetch = async (input, init) => {
      const auth = new Headers(init?.headers).get('authorization') ?? '';
      const inner = Object.assign(new Error(`connect ECONNRESET while sending ${auth} to ${String(input)}`), { code: 'ECONNRESET' });
      throw new TypeError(`fetch failed: ${auth}`, { cause: inner });
    };
    const kook = createKookClient({ token: TOKEN, fetch: leakyFetch, retries: 1, backoff: { baseMs: 1 } });
    const err = await failure(kook.list());
    expect(err.code).toBe('HTTP_ERROR');
    const cause = err.cause as Error & { cause: Error & { code: string } };
    expect(cause.cause.code).toBe('ECONNRESET');
    expect(cause.message).toContain('[REDACTED]');
  });

  it('scrubs a server message that echoes the token', async () => {
    const e = await emulator();
    e.injectFault({ endpoint: 'list', apiCode: 40000, message: `bad token ${TOKEN}` });
    const err = await failure(client(e).list());
    expect((err as KookApiError).apiMessage).toBe('bad token [REDACTED]');
  });

  it.each([
    { name: 'reset 1e9 s (31 years)', reset: '1000000000', global: false },
    { name: 'reset 1e9 s, global', reset: '1000000000', global: true },
    { name: 'reset NaN', reset: 'NaN', global: false },
    { name: 'reset Infinity, global', reset: 'Infinity', global: true },
    { name: 'reset negative', reset: '-5', global: false },
    { name: 'reset not a number', reset: 'soon', global: false },
  ])('a 429 echoing the token in X-Rate-Limit-Bucket with $name: scrubbed, bounded waits, then usable again', async ({ reset, global }) => {
    const srv = await limitedServer({ 'X-Rate-Limit-Bucket': `Bot ${TOKEN}`, 'X-Rate-Limit-Reset': reset, 'X-Rate-Limit-Remaining': '0', ...(global ? { 'X-Rate-Limit-Global': '' } : {}) }, 6);
    let now = 1_000_000;
    const sleeps: number[] = [];
    const events: KookClientEvent[] = [];
    const kook = createKookClient({
      token: TOKEN,
      apiBase: srv.apiBase,
      rateLimitRetries: 5,
      clock: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      onEvent: (ev) => events.push(ev),
    });
    const err = await failure(kook.list());
    expect(err).toBeInstanceOf(KookRateLimitError);
    expect(err.code).toBe('RATE_LIMITED');
    const rl = err as KookRateLimitError;
    expect(`${err.message} ${rl.bucket} ${JSON.stringify(events)}`).not.toContain(TOKEN);
    expect(rl.bucket).toContain('[REDACTED]');
    expect(rl.resetMs).toBeGreaterThanOrEqual(0);
    expect(rl.resetMs).toBeLessThanOrEqual(60_000);
    expect(err.message).toMatch(/implausible X-Rate-Limit-Reset/);
    // Six 429s were answered (the first try and five retries), each after a short, positive wait.
    expect(srv.served()).toBe(6);
    expect(sleeps).toHaveLength(5);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(60_000);
    }
    // The absurd reset did not lock the client for 31 years: the next call goes out and succeeds.
    await expect(kook.list()).resolves.toHaveLength(1);
  });

  it('scrubs the token from a successful answer too (join raw, channel names)', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const data = req.url?.includes('join')
        ? { ip: '127.0.0.1', port: '5000', rtcp_mux: true, bitrate: 48000, audio_ssrc: '1111', audio_pt: '111', echo: `Bot ${TOKEN}`, nested: [{ [TOKEN]: TOKEN }] }
        : { items: [{ id: '1', guild_id: 'g', parent_id: '', name: `channel ${TOKEN}` }], meta: { page: 1, page_total: 1 } };
      res.end(JSON.stringify({ code: 0, message: 'ok', data }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const kook = createKookClient({ token: TOKEN, apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3` });
    const joined = await kook.join({ channelId: '1' });
    expect(joined.port).toBe(5000);
    expect(JSON.stringify(joined)).not.toContain(TOKEN);
    expect(joined.raw['echo']).toBe('Bot [REDACTED]');
    expect(JSON.stringify(await kook.list())).not.toContain(TOKEN);
  });

  it('never shows the token in any collected error, event or stat', async () => {
    const e = await emulator();
    const events: KookClientEvent[] = [];
    const kook = client(e, { onEvent: (ev) => events.push(ev) });
    await kook.join({ channelId: '1001' });
    collected.push(await failure(kook.join({ channelId: 'nope' })));
    expect(collected.length).toBeGreaterThan(10);
    for (const err of collected) {
      const text = [String(err), (err as Error).stack ?? '', JSON.stringify(err), inspect(err, { depth: 20, showHidden: true })].join('\n');
      expect(text).not.toContain(TOKEN);
    }
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    expect(JSON.stringify(kook.stats())).not.toContain(TOKEN);
    expect(JSON.stringify(e.requests())).not.toContain(TOKEN);
    expect(JSON.stringify(e.reports())).not.toContain(TOKEN);
  });

  it('redact and scrubError replace every occurrence and keep error codes', () => {
    expect(redact(`a${TOKEN}b${TOKEN}`, [TOKEN])).toBe('a[REDACTED]b[REDACTED]');
    const scrubbed = scrubError(Object.assign(new Error(`x ${TOKEN}`), { code: 'EPIPE' }), [TOKEN]);
    expect(scrubbed.message).toBe('x [REDACTED]');
    expect((scrubbed as Error & { code: string }).code).toBe('EPIPE');
    expect(scrubbed.stack).not.toContain(TOKEN);
  });

  it('refuses an empty token without echoing anything', () => {
    expect(() => createKookClient({ token: '  ' })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

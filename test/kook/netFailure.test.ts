import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../helpers.js';
import { KookRtpError } from '../../src/errors.js';
import { startKookEmulator, type KookEmulator } from '../../src/emulator/kook/emulator.js';
import { createKookClient } from '../../src/kook/client.js';
import { apiPathHint, describeNetworkFailure } from '../../src/kook/netFailure.js';

const TOKEN = 'Tk-net-failure-secret==';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function failure(p: Promise<unknown>): Promise<KookRtpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KookRtpError);
  const e = err as KookRtpError;
  expect(`${e.message} ${String((e.cause as Error | undefined)?.message)}`).not.toContain(TOKEN);
  return e;
}

const client = (apiBase: string, extra: { timeoutMs?: number } = {}) =>
  createKookClient({ token: TOKEN, apiBase, retries: 0, backoff: { baseMs: 1, maxMs: 1 }, ...extra });

describe('network failures name host:port, the cause and the fix', () => {
  it('connection refused', async () => {
    const port = await freePort();
    const e = await failure(client(`http://127.0.0.1:${port}/api/v3`).join({ channelId: '1' }));
    expect(e.code).toBe('HTTP_ERROR');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.message).toMatch(/nothing listens there; check apiBase/);
  });

  it('an unknown host says DNS', async () => {
    const e = await failure(client('http://no-such-host.invalid/api/v3').join({ channelId: '1' }));
    expect(e.code).toBe('HTTP_ERROR');
    expect(e.message).toContain('no-such-host.invalid:80');
    expect(e.message).toMatch(/DNS lookup of no-such-host\.invalid failed \((ENOTFOUND|EAI_AGAIN)\)/);
  });

  it('TLS to a plain-HTTP server says TLS', async () => {
    const server: Server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as AddressInfo;
    const e = await failure(client(`https://127.0.0.1:${port}/api/v3`).join({ channelId: '1' }));
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toMatch(/TLS handshake failed \(\w+\)/);
  });

  it('a server that never answers: TIMEOUT with host:port', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server: TcpServer = createTcpServer((socket) => {
      sockets.add(socket); // accepts and says nothing
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const { port } = server.address() as AddressInfo;
    const e = await failure(client(`http://127.0.0.1:${port}/api/v3`, { timeoutMs: 200 }).join({ channelId: '1' }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain('timeout');
  });

  it('HTTP 404 from a base URL without /api/v3 gets a hint about the path', async () => {
    const emulator: KookEmulator = await startKookEmulator({ token: TOKEN, decodeAudio: false });
    closers.push(() => emulator.close());
    const origin = new URL(emulator.apiBase).origin;
    const e = await failure(client(origin).join({ channelId: '1001' }));
    expect(e.code).toBe('HTTP_ERROR');
    expect(e.message).toMatch(/HTTP 404/);
    expect(e.message).toMatch(/lives under \/api\/v3.*add \/api\/v3 to apiBase/);
  });

  it.each([
    { base: 'https://www.kookapp.cn/api/v3', status: 404, hint: false },
    { base: 'https://www.kookapp.cn/api/v3/', status: 404, hint: false },
    { base: 'https://www.kookapp.cn', status: 404, hint: true },
    { base: 'https://www.kookapp.cn/api', status: 404, hint: true },
    { base: 'https://www.kookapp.cn', status: 500, hint: false },
  ])('apiPathHint($base, $status)', ({ base, status, hint }) => {
    expect(apiPathHint(base, status) !== '').toBe(hint);
  });

  it('describes an unknown cause by its code', () => {
    const err = new TypeError('fetch failed', { cause: Object.assign(new Error('odd'), { code: 'EWEIRD' }) });
    expect(describeNetworkFailure(err, new URL('https://h.example'))).toBe('no HTTP answer from h.example:443 (EWEIRD); check apiBase and the network');
  });

  it('the CLI prints host:port and the cause, even without --verbose, and never the token', async () => {
    const port = await freePort();
    const r = await runCliInProcess(['play', new URL('../../fixtures/media/sine-s16-44k.wav', import.meta.url).pathname, '--channel', '1', '--token', TOKEN, '--api-base', `http://127.0.0.1:${port}/api/v3`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^kook-rtp: HTTP_ERROR: .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED.*--api-base`));
    expect(r.err).not.toContain(TOKEN);
  });
});

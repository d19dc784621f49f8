/**
 * Secrets audit: every failure path of every client (HTTP 4xx/5xx, timeout, connection refused, malformed answer,
 * a server echoing the credential, a fetch whose error quotes the request) and the CLI must keep the secret out of
 * the message, the stack, `cause` chains, `util.inspect` and `JSON.stringify` of the error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { createAnyRtcClient } from '../../src/services/anyrtc.js';
import type { FetchLike } from '../../src/services/http.js';
import { createShumeiClient } from '../../src/services/shumei.js';
import { createTupuClient } from '../../src/services/tupu.js';
import { keys } from '../services/helpers.js';

const ACCESS_KEY = 'AK-shumei-Zq8vX2pL9w-secret';
const VOD_TOKEN = 'VT-anyrtc-4mN7bQ1kR3-secret';
const BOT_TOKEN = 'Bot-kook-1x2y3z-SECRET-token==';
/** An input that exists: the CLI checks inputs before it calls KOOK. */
const INPUT = new URL('../../fixtures/media/sine-s16-44k.wav', import.meta.url).pathname;
/** A line from the middle of the Tupu client's private key: enough to identify it. */
const PEM_LINE = keys.clientPkcs8.split('\n')[5]!;

type Mode = 'http400' | 'http500' | 'hang' | 'garbage' | 'echo' | 'echo-json-error';
let mode: Mode = 'http400';
let server: Server;
let base = '';
let closedBase = '';
const hanging: ServerResponse[] = [];

function answer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const secretsText = `${ACCESS_KEY} ${VOD_TOKEN} ${BOT_TOKEN} ${PEM_LINE}`;
  switch (mode) {
    case 'http400':
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 400, message: `bad key ${secretsText}` }));
      return;
    case 'http500':
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error near ${secretsText}`);
      return;
    case 'hang':
      hanging.push(res);
      return;
    case 'garbage':
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${secretsText}</html>`);
      return;
    case 'echo':
      // A well-formed refusal in each service's dialect, quoting the credentials.
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ code: 1902, requestId: ACCESS_KEY, message: `invalid accessKey ${secretsText}`, msg: secretsText, result: secretsText, detail: { errorCode: 1001, dupRequestId: ACCESS_KEY } }),
      );
      return;
    case 'echo-json-error':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 281, requestid: VOD_TOKEN, message: `signature for ${VOD_TOKEN}` }));
      return;
  }
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  closedBase = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
});
afterAll(async () => {
  for (const r of hanging) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Everything an error can show: message, stack, cause chain, inspect and JSON. */
function exposed(err: unknown): string {
  const parts: string[] = [String(err), inspect(err, { depth: 10 }), inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err) ?? ''];
  let cur: unknown = err;
  for (let i = 0; i < 10 && cur instanceof Error; i++) {
    parts.push(cur.message, cur.stack ?? '', JSON.stringify(cur) ?? '');
    cur = cur.cause;
  }
  return parts.join('\n');
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** A fetch whose error quotes the whole request, as some wrappers and proxies do. */
const leakyFetch: FetchLike = (input, init) => Promise.reject(new Error(`request to ${input} with ${JSON.stringify(init)} failed`));

const MODES: Mode[] = ['http400', 'http500', 'hang', 'garbage', 'echo', 'echo-json-error'];

function expectClean(err: unknown, secrets: readonly string[]): void {
  expect(err).toBeInstanceOf(Error);
  const text = exposed(err);
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('service clients keep their secrets out of errors', () => {
  it('Shumei accessKey', async () => {
    const mk = (baseUrl: string, fetch?: FetchLike) =>
      createShumeiClient({ accessKey: ACCESS_KEY, baseUrl, submitTimeoutMs: 150, closeTimeoutMs: 150, maxAttempts: 1, ...(fetch ? { fetch } : {}) });
    const submit = { type: 'PORN', callback: 'http://127.0.0.1/cb', data: { tokenId: 't', btId: 'b', url: 'http://127.0.0.1/s.flv' } };
    const codes = new Set<string>();
    for (const m of MODES) {
      mode = m;
      for (const p of [() => mk(base).submit(submit), () => mk(base).close('rid')]) {
        const err = await failure(p());
        codes.add((err as { code: string }).code);
        expectClean(err, [ACCESS_KEY]);
      }
    }
    for (const c of [mk(closedBase), mk(base, leakyFetch)]) {
      const err = await failure(c.submit(submit));
      codes.add((err as { code: string }).code);
      expectClean(err, [ACCESS_KEY]);
    }
    expect([...codes].sort()).toEqual(expect.arrayContaining(['DUPLICATE_STREAM', 'HTTP_ERROR', 'SERVICE_API', 'TIMEOUT']));
  });

  it('anyRTC vodToken', async () => {
    const mk = (b: string, fetch?: FetchLike) =>
      createAnyRtcClient({ appId: 'app', vodToken: VOD_TOKEN, recordBaseUrl: b, queryBaseUrl: b, timeoutMs: 150, queryLimit: { maxCalls: 1000, windowMs: 1000 }, ...(fetch ? { fetch } : {}) });
    const codes = new Set<string>();
    for (const m of MODES) {
      mode = m;
      const c = mk(base);
      for (const p of [
        () => c.startRecord({ roomId: 'r', userData: { k: 1 } }),
        () => c.stopRecord({ roomId: 'r' }),
        () => c.listByTime({ begTime: 0, endTime: 1, pageNum: 1, pageMax: 10 }),
        () => c.listByRoom({ roomId: 'r', begTime: 0, endTime: 1 }),
      ]) {
        const err = await failure(p());
        codes.add((err as { code: string }).code);
        expectClean(err, [VOD_TOKEN]);
      }
    }
    for (const c of [mk(closedBase), mk(base, leakyFetch)]) {
      expectClean(await failure(c.listByTime({ begTime: 0, endTime: 1, pageNum: 1, pageMax: 10 })), [VOD_TOKEN]);
    }
    expect([...codes]).toEqual(expect.arrayContaining(['HTTP_ERROR', 'SERVICE_API', 'SIGNATURE_INVALID', 'TIMEOUT']));
  });

  it('Tupu private key', async () => {
    const mk = (host: string, fetch?: FetchLike) => createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs8, host, timeoutMs: 150, ...(fetch ? { fetch } : {}) });
    for (const m of MODES) {
      mode = m;
      for (const p of [() => mk(base).submit([{ url: 'http://127.0.0.1/s.flv', callback: 'http://127.0.0.1/cb' }]), () => mk(base).close(['rid'])]) {
        expectClean(await failure(p()), [PEM_LINE, keys.clientPkcs8.trim()]);
      }
    }
    for (const c of [mk(closedBase), mk(base, leakyFetch)]) expectClean(await failure(c.close(['rid'])), [PEM_LINE]);
    // A bad key is refused without quoting it.
    let bad: unknown;
    try {
      createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs8.replace(PEM_LINE, PEM_LINE.slice(0, 10)) });
    } catch (err) {
      bad = err;
    }
    expectClean(bad, [PEM_LINE.slice(0, 10) + PEM_LINE.slice(20, 40), keys.clientPkcs8.split('\n')[3]!]);
  });
});

describe('the CLI never prints the bot token', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await runCli(args, { stdout, stderr, isTty: false });
    return { code, out };
  }

  it.each([
    ['a closed port', () => closedBase, 'http400' as Mode],
    ['a 400 echoing the token', () => base, 'http400' as Mode],
    ['a 500', () => base, 'http500' as Mode],
    ['a non-JSON answer', () => base, 'garbage' as Mode],
  ])('play --channel against %s (plain, --verbose, --json)', async (_name, apiBase, m) => {
    mode = m;
    for (const extra of [[], ['--verbose'], ['--json'], ['--stats-json', '/dev/null']]) {
      const r = await cli(['play', INPUT, '--channel', '1', '--token', BOT_TOKEN, '--api-base', `${apiBase()}/api/v3`, ...extra]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/kook-rtp: (HTTP_ERROR|KOOK_API|VALIDATION_FAILED|TIMEOUT)/);
      expect(r.out).not.toContain(BOT_TOKEN);
    }
  });

  it('a 429 whose X-Rate-Limit-Bucket echoes the token and whose reset is 31 years (plain, --verbose, --json)', async () => {
    const s = createServer((req, res) => {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'x-rate-limit-bucket': `Bot ${BOT_TOKEN}`, 'x-rate-limit-reset': '1000000000', 'x-rate-limit-remaining': '0' });
      res.end(JSON.stringify({ code: 429, message: 'slow down', data: {} }));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      for (const extra of [[], ['--verbose'], ['--json']]) {
        const t0 = Date.now();
        const r = await cli(['play', INPUT, '--channel', '1', '--token', BOT_TOKEN, '--api-base', `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v3`, ...extra]);
        expect(r.code).toBe(1);
        expect(r.out).toContain('RATE_LIMITED');
        expect(r.out).not.toContain(BOT_TOKEN);
        expect(Date.now() - t0).toBeLessThan(10_000);
      }
    } finally {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }, 40_000);

  it('a join answer that quotes the token in a field', async () => {
    const s = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, message: 'ok', data: { ip: '127.0.0.1', port: BOT_TOKEN } }));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await cli(['play', INPUT, '--channel', '1', '--token', BOT_TOKEN, '--verbose', '--api-base', `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v3`]);
      expect(r.out).toContain('VALIDATION_FAILED');
      expect(r.out).not.toContain(BOT_TOKEN);
    } finally {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

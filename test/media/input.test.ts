import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openInput } from '../../src/media/input.js';
import { codeOf, fixture, fixtureBytes, startServer } from './helpers.js';

async function readAll(r: Awaited<ReturnType<typeof openInput>>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (let c = await r.chunk(); c; c = await r.chunk()) parts.push(c);
  await r.close();
  return Buffer.concat(parts);
}

describe('openInput', () => {
  const want = Buffer.from(fixtureBytes('sine-opus-48k.ogg'));

  it.each([
    ['path', () => fixture('sine-opus-48k.ogg')],
    ['file URL', () => new URL(`file://${fixture('sine-opus-48k.ogg')}`)],
    ['Uint8Array', () => new Uint8Array(want)],
    ['Readable', () => createReadStream(fixture('sine-opus-48k.ogg'), { highWaterMark: 1000 })],
    ['AsyncIterable', () => Readable.from([want.subarray(0, 10), want.subarray(10)])],
  ])('reads every byte from a %s', async (_n, make) => {
    expect((await readAll(await openInput(make()))).equals(want)).toBe(true);
  });

  it('peek does not consume; read/skip do; size and tail are known for files', async () => {
    const r = await openInput(fixture('sine-opus-48k.ogg'), { chunkSize: 7 });
    expect(r.size).toBe(want.length);
    expect(Buffer.from(await r.peek(20)).equals(want.subarray(0, 20))).toBe(true);
    expect(Buffer.from(await r.read(5)).equals(want.subarray(0, 5))).toBe(true);
    expect(await r.skip(10)).toBe(10);
    expect(r.position).toBe(15);
    expect(Buffer.from(await r.readTail(4)).equals(want.subarray(-4))).toBe(true);
    expect((await readAll(r)).equals(want.subarray(15))).toBe(true);
  });

  it('pulls lazily: an endless stream is read only as far as asked', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        produced++;
        yield new Uint8Array(1000);
      }
    }
    const r = await openInput(endless());
    await r.peek(2500);
    expect(produced).toBe(3);
    await r.close();
  });

  it('streams a URL as it downloads', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const srv = await startServer(async (_req, res) => {
      res.writeHead(200);
      res.write(want.subarray(0, 1000));
      await gate;
      res.end(want.subarray(1000));
    });
    try {
      const r = await openInput(`${srv.url}/x.ogg`);
      // The first bytes arrive while the server still holds the rest.
      expect(Buffer.from(await r.peek(1000)).equals(want.subarray(0, 1000))).toBe(true);
      release();
      expect((await readAll(r)).equals(want)).toBe(true);
    } finally {
      release();
      await srv.close();
    }
  });

  it('errors: missing file INVALID_INPUT, 500 FETCH_FAILED, no headers FETCH_STALLED, abort ABORTED, bad type INVALID_INPUT', async () => {
    expect(codeOf(await openInput('/nonexistent/a.mp3').catch((e: unknown) => e))).toBe('INVALID_INPUT');
    expect(codeOf(await openInput(42 as never).catch((e: unknown) => e))).toBe('INVALID_INPUT');
    const srv = await startServer((req, res) => {
      if (req.url === '/500') res.writeHead(500).end();
      // '/hang': never answers
    });
    try {
      expect(codeOf(await openInput(`${srv.url}/500`).catch((e: unknown) => e))).toBe('FETCH_FAILED');
      const t0 = Date.now();
      expect(codeOf(await openInput(`${srv.url}/hang`, { stallTimeoutMs: 200 }).catch((e: unknown) => e))).toBe('FETCH_STALLED');
      expect(Date.now() - t0).toBeLessThan(3000);
      const ctl = new AbortController();
      const p = openInput(`${srv.url}/hang`, { signal: ctl.signal }).catch((e: unknown) => e);
      ctl.abort();
      expect(codeOf(await p)).toBe('ABORTED');
    } finally {
      await srv.close();
    }
    expect(codeOf(await openInput('http://127.0.0.1:1/x').catch((e: unknown) => e))).toBe('FETCH_FAILED');
  });
});

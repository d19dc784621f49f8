import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

/** TEST-ONLY key material from fixtures/keys. */
export const keys = {
  clientPkcs1: readFileSync(new URL('../../fixtures/keys/test-client.pkcs1.pem', import.meta.url), 'utf8'),
  clientPkcs8: readFileSync(new URL('../../fixtures/keys/test-client.pkcs8.pem', import.meta.url), 'utf8'),
  clientPublic: readFileSync(new URL('../../fixtures/keys/test-client.public.pem', import.meta.url), 'utf8'),
  tupuPkcs8: readFileSync(new URL('../../fixtures/keys/test-tupu.pkcs8.pem', import.meta.url), 'utf8'),
  tupuPkcs1: readFileSync(new URL('../../fixtures/keys/test-tupu.pkcs1.pem', import.meta.url), 'utf8'),
  tupuPublic: readFileSync(new URL('../../fixtures/keys/test-tupu.public.pem', import.meta.url), 'utf8'),
};

/** True when ffmpeg runs. */
export const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
/** Tests needing ffmpeg run when it is present, and must run under CI. */
export const runFfmpeg = hasFfmpeg || process.env.CI === 'true';
if (!runFfmpeg) console.warn('ffmpeg not found: skipping the ffmpeg decode tests (they are required under CI=true)');

/** One 20 ms stereo frame of a sine at `amplitude` (0..32767), continuing phase from `frameIndex`. */
export function sineFrame(frameIndex: number, amplitude: number, hz = 440): Int16Array {
  const f = new Int16Array(1920);
  for (let i = 0; i < 960; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frameIndex * 960 + i)) / 48000));
    f[2 * i] = v;
    f[2 * i + 1] = v;
  }
  return f;
}

/** Feeds frames in real time-ish (every `everyMs`, `perTick` frames) until stopped. */
export function feed(write: (f: Int16Array) => void, amplitude: () => number, perTick = 5, everyMs = 100): () => void {
  let n = 0;
  const t = setInterval(() => {
    for (let i = 0; i < perTick; i++) write(sineFrame(n++, amplitude()));
  }, everyMs);
  return () => clearInterval(t);
}

/** A raw HTTP request; resolves with status, headers and body. */
export function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Resolves when `pred` holds, polling; rejects after `ms`. */
export async function waitFor(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

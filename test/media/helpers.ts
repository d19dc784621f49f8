/**
 * Shared test helpers for the media tests: fixture paths, a loopback HTTP server, decoding frames back to PCM and
 * measuring tones with a Goertzel filter.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createOpusDecoder } from '../../src/media/opus/decoder.js';
import type { OpusFrame } from '../../src/media/frame.js';
import { KookRtpError } from '../../src/errors.js';

/** Absolute path of a fixture in fixtures/media. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/media/${name}`, import.meta.url));
export const fixtureBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));

/** True when an ffmpeg binary runs. Under CI=true its absence must fail, so callers assert on it. */
export const hasFfmpeg = ((): boolean => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Collects a track's frames; returns them with the error that ended iteration, if any. */
export async function collect(it: AsyncIterable<OpusFrame>): Promise<{ frames: OpusFrame[]; error?: unknown }> {
  const frames: OpusFrame[] = [];
  try {
    for await (const f of it) frames.push({ data: f.data.slice(), samples: f.samples });
    return { frames };
  } catch (error) {
    return { frames, error };
  }
}

/** Decodes Opus frames back to planar float channels at 48 kHz. */
export function decodeFrames(frames: readonly OpusFrame[]): [Float32Array, Float32Array] {
  const dec = createOpusDecoder();
  const parts: Int16Array[] = [];
  let n = 0;
  for (const f of frames) {
    const pcm = dec.decode(f.data);
    parts.push(pcm);
    n += pcm.length / 2;
  }
  dec.close();
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length / 2; i++) {
      l[o] = p[2 * i]! / 32768;
      r[o] = p[2 * i + 1]! / 32768;
      o++;
    }
  }
  return [l, r];
}

/** Power of frequency `f` in `x` (Goertzel), normalised by length. */
export function goertzel(x: Float32Array, f: number, rate = 48000): number {
  const w = (2 * Math.PI * f) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.length * x.length);
}

/** Of the candidate frequencies, the one with the most power in `x`. */
export function dominant(x: Float32Array, candidates: readonly number[] = [220, 330, 440, 550, 660, 880]): number {
  let best = candidates[0]!;
  let bestP = -1;
  for (const f of candidates) {
    const p = goertzel(x, f);
    if (p > bestP) (bestP = p), (best = f);
  }
  return best;
}

/** RMS of `x`. */
export function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Splits bytes into an async iterable of small chunks (an odd size, to cross every boundary). */
export async function* chunked(bytes: Uint8Array, size = 7777): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
}

/** A loopback HTTP server; `routes` maps a path to a handler. */
export async function startServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Asserts `err` is a KookRtpError and returns its code. */
export function codeOf(err: unknown): string {
  if (!(err instanceof KookRtpError)) throw new Error(`expected KookRtpError, got ${String(err)}`);
  return err.code;
}

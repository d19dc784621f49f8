/**
 * The fallback for formats without an in-process decoder (AAC/M4A, WMA, ...): prism-media's FFmpeg, used only
 * when an `ffmpeg` binary is on the PATH. Input bytes are written to ffmpeg's stdin as they are pulled (with
 * backpressure), its stdout is 48 kHz stereo f32le.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type prismTypes from 'prism-media';
import { KookRtpError } from '../../errors.js';
import type { ByteReader } from '../input.js';
import type { PcmBlock, PcmSource } from './types.js';

let prism: typeof prismTypes | undefined;

/** prism-media (CommonJS), loaded on first use: only the ffmpeg fallback needs it (~14 ms of module loading). */
function loadPrism(): typeof prismTypes {
  prism ??= createRequire(import.meta.url)('prism-media') as typeof prismTypes;
  return prism;
}

/** @returns the path of an executable `ffmpeg` on the PATH, or undefined. Read at call time (tests change PATH). */
export function findFfmpeg(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Decodes anything ffmpeg reads to 48 kHz stereo. A file is handed to ffmpeg by path (MP4 with the index at the
 * end needs seeking); anything else is piped to its stdin as it is pulled (with backpressure), peeked bytes included.
 *
 * @throws {@link KookRtpError} `UNSUPPORTED_FORMAT` when ffmpeg is not installed; `DECODE_FAILED` from `next()`
 *   when ffmpeg fails or produces nothing.
 */
export function createFfmpegSource(reader: ByteReader, what: string): PcmSource {
  if (!findFfmpeg()) {
    throw new KookRtpError('UNSUPPORTED_FORMAT', `${what} needs ffmpeg, which is not on the PATH: install ffmpeg or convert the file to MP3, FLAC, WAV, Ogg or WebM`);
  }
  const byPath = reader.kind === 'file';
  const ff = new (loadPrism().FFmpeg)({
    args: ['-nostdin', '-loglevel', 'error', '-i', byPath ? reader.description : '-', '-vn', '-f', 'f32le', '-ar', '48000', '-ac', '2'],
  });
  const proc = ff.process;
  let failure: unknown;
  let closed = false;
  let stderr = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => proc.once('close', (code: number | null) => ((exitCode = code), resolve())));
  proc.on('error', (err: unknown) => void (failure ??= err));
  proc.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-400)));
  proc.stdin?.on('error', () => {}); // EPIPE when ffmpeg gives up early: reported through the exit code
  if (byPath) {
    proc.stdin?.end();
  } else {
    // Pump input on the side: write() respects backpressure, close() stops it.
    void (async () => {
      const stdin = proc.stdin!;
      try {
        for (;;) {
          if (closed || stdin.destroyed) return;
          const c = await reader.chunk();
          if (!c) break;
          if (!stdin.write(c)) await new Promise<void>((r) => stdin.once('drain', r).once('close', r));
        }
        stdin.end();
      } catch (err) {
        failure ??= err;
        proc.kill('SIGKILL');
      }
    })();
  }
  const it = (proc.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let carry = new Uint8Array(0);
  let produced = 0;
  const fail = (): KookRtpError =>
    failure instanceof KookRtpError
      ? failure
      : new KookRtpError('DECODE_FAILED', `ffmpeg could not decode ${what}: ${stderr.trim() || (failure as Error)?.message || `exit code ${String(exitCode)}`}`, { cause: failure });
  return {
    sampleRate: 48000,
    channels: 2,
    async next(): Promise<PcmBlock | null> {
      for (;;) {
        if (closed) return null;
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (err) {
          failure ??= err;
          throw fail();
        }
        if (r.done) {
          await exited;
          if (failure || exitCode !== 0 || produced === 0) throw fail();
          return null;
        }
        let b: Uint8Array = r.value;
        if (carry.length) {
          const m = new Uint8Array(carry.length + b.length);
          m.set(carry);
          m.set(b, carry.length);
          b = m;
        }
        const whole = b.length - (b.length % 8);
        carry = b.slice(whole);
        if (whole === 0) continue;
        // Copy to an aligned buffer for the Float32Array view.
        const f = new Float32Array(b.slice(0, whole).buffer);
        const n = f.length / 2;
        const l = new Float32Array(n);
        const rr = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          l[i] = f[2 * i]!;
          rr[i] = f[2 * i + 1]!;
        }
        produced += n;
        return { planar: [l, rr], length: n };
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (exitCode === undefined) proc.kill('SIGKILL');
      await reader.close();
    },
  };
}

/**
 * What the three service emulators share: a JSON HTTP server, a stream puller that does what the real services do
 * (HTTP GET an HTTP-FLV URL, demux, decode the MP3 inside, measure it), and callback delivery with re-sends.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MPEGDecoder } from 'mpg123-decoder';
import { KookRtpError } from '../../errors.js';
import { BodyTooLargeError, readBody } from '../../util/body.js';
import { sleep } from '../../util/clock.js';
import { decodeFlvAudioData, FlvSoundFormat } from '../../wire/flv/audio.js';
import { FlvReader } from '../../wire/flv/reader.js';
import { FlvTagType } from '../../wire/flv/tag.js';

/** A risk level decided from loudness. */
export type EmulatedRisk = 'PASS' | 'REVIEW' | 'REJECT';

/** How an emulator decides a segment's risk: by its RMS level in dBFS. */
export interface LevelPolicy {
  /** Segments louder than this are REJECT. Default -10 dBFS. */
  rejectAboveDb?: number;
  /** Segments louder than this (and not REJECT) are REVIEW. Default: none. */
  reviewAboveDb?: number;
}

/** Applies a {@link LevelPolicy}. */
export function riskOf(levelDb: number, p: LevelPolicy): EmulatedRisk {
  if (levelDb > (p.rejectAboveDb ?? -10)) return 'REJECT';
  if (p.reviewAboveDb !== undefined && levelDb > p.reviewAboveDb) return 'REVIEW';
  return 'PASS';
}

/** One analysed stretch of pulled audio. */
export interface Segment {
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
  /** RMS level in dBFS (-Infinity for digital silence). */
  readonly levelDb: number;
  /** A fake transcription: what the emulator "heard". */
  readonly text: string;
}

/** A pull in progress. */
export interface Pull {
  /** Resolves when the stream ends ('ended'), fails ('failed' with the reason) or is stopped ('stopped'). */
  readonly done: Promise<{ outcome: 'ended' | 'failed' | 'stopped'; reason?: string }>;
  stop(): void;
}

/**
 * Pulls an HTTP-FLV URL, decodes its MP3 audio and reports a {@link Segment} every `segmentMs` of audio.
 * Only http: URLs are pulled (the emulators run beside the tests); anything else fails like an unreachable stream.
 */
export function pullStream(url: string, segmentMs: number, onSegment: (s: Segment) => void): Pull {
  let stopped = false;
  let req: ReturnType<typeof httpRequest> | undefined;
  let finish!: (v: { outcome: 'ended' | 'failed' | 'stopped'; reason?: string }) => void;
  const done = new Promise<{ outcome: 'ended' | 'failed' | 'stopped'; reason?: string }>((r) => (finish = r));
  const decoder = new MPEGDecoder();
  let settled = false;
  const end = (outcome: 'ended' | 'failed' | 'stopped', reason?: string): void => {
    if (settled) return;
    settled = true;
    try {
      decoder.free();
    } catch {
      // the decoder may not have finished loading; nothing to free then
    }
    finish(reason === undefined ? { outcome } : { outcome, reason });
  };
  (async () => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      end('failed', 'invalid URL');
      return;
    }
    if (u.protocol !== 'http:') {
      end('failed', `cannot pull ${u.protocol} URLs`);
      return;
    }
    await decoder.ready;
    if (stopped) return end('stopped');
    const reader = new FlvReader();
    let sumSq = 0;
    let count = 0;
    let index = 0;
    let sampleRate = 0;
    let segStartSamples = 0;
    let totalSamples = 0;
    req = httpRequest(u, { method: 'GET', timeout: 10_000 }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        end('failed', `HTTP ${res.statusCode}`);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (stopped) return;
        let tags;
        try {
          tags = reader.push(chunk);
        } catch (e) {
          req?.destroy();
          end('failed', `not FLV: ${(e as Error).message}`);
          return;
        }
        for (const tag of tags) {
          if (tag.type !== FlvTagType.audio) continue;
          let audio;
          try {
            audio = decodeFlvAudioData(tag.data);
          } catch {
            continue;
          }
          if (audio.soundFormat !== FlvSoundFormat.mp3 || audio.payload.length === 0) continue;
          let pcm: ReturnType<MPEGDecoder['decodeFrame']>;
          try {
            pcm = decoder.decodeFrame(audio.payload);
          } catch {
            continue; // a corrupt frame: a throw here would escape the 'data' listener as an uncaught exception
          }
          if (pcm.samplesDecoded === 0) continue;
          sampleRate = pcm.sampleRate;
          const ch = pcm.channelData[0];
          if (ch === undefined) continue;
          for (let i = 0; i < pcm.samplesDecoded; i++) {
            const v = ch[i] ?? 0;
            sumSq += v * v;
            count++;
          }
          totalSamples += pcm.samplesDecoded;
          if (((totalSamples - segStartSamples) * 1000) / sampleRate >= segmentMs) {
            const levelDb = count === 0 || sumSq === 0 ? -Infinity : 10 * Math.log10(sumSq / count);
            const seg = {
              index,
              startMs: Math.round((segStartSamples * 1000) / sampleRate),
              endMs: Math.round((totalSamples * 1000) / sampleRate),
              levelDb,
              text: levelDb === -Infinity ? '' : `<audio at ${levelDb.toFixed(1)} dBFS>`,
            };
            index++;
            segStartSamples = totalSamples;
            sumSq = 0;
            count = 0;
            try {
              onSegment(seg);
            } catch {
              // a throwing observer must not stop the pull
            }
          }
        }
      });
      res.on('end', () => end(stopped ? 'stopped' : 'ended'));
      res.on('error', () => end(stopped ? 'stopped' : 'failed', 'connection reset'));
      res.on('close', () => end(stopped ? 'stopped' : 'ended'));
    });
    req.on('timeout', () => req?.destroy(new Error('timeout')));
    req.on('error', (e) => end(stopped ? 'stopped' : 'failed', e.message));
    req.end();
  })().catch((e: unknown) => end('failed', (e as Error).message));
  return {
    done,
    stop() {
      stopped = true;
      req?.destroy();
      end('stopped');
    },
  };
}

/**
 * POSTs `body` (a JSON string) to `url`, again every `intervalMs` until an HTTP 200, at most `attempts` times.
 * @returns how many attempts were made and whether one got 200
 */
export async function deliverCallback(url: string, body: string, attempts: number, intervalMs: number, isStopped: () => boolean = () => false): Promise<{ attempts: number; delivered: boolean }> {
  for (let i = 1; i <= attempts; i++) {
    if (isStopped()) return { attempts: i - 1, delivered: false };
    const status = await postOnce(url, body);
    if (status === 200) return { attempts: i, delivered: true };
    if (i < attempts) await sleep(intervalMs);
  }
  return { attempts, delivered: false };
}

function postOnce(url: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve(0);
      return;
    }
    const req = httpRequest(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** A JSON route handler: gets the parsed body (undefined when it was not JSON) and returns status and answer. */
export type JsonHandler = (req: IncomingMessage, body: unknown, url: URL) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

/** Starts a JSON-over-HTTP server dispatching POSTs by path. Unknown paths get 404, other methods 405. */
export async function startJsonServer(host: string, port: number, route: (path: string) => JsonHandler | undefined): Promise<{ server: Server; baseUrl: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    // `new URL` throws on targets such as `//` or `//[`: in this synchronous listener that was an uncaught exception.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator');
    } catch {
      req.resume();
      send(404, { message: 'not found' });
      return;
    }
    const h = route(url.pathname);
    if (h === undefined) {
      req.resume();
      send(404, { message: 'not found' });
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      send(405, { message: 'POST only' });
      return;
    }
    readBody(req, 2 * 1024 * 1024)
      .then(async (buf) => {
        let body: unknown;
        try {
          body = JSON.parse(buf.toString('utf8'));
        } catch {
          body = undefined;
        }
        let out: { status: number; body: unknown };
        try {
          out = await h(req, body, url);
        } catch {
          out = { status: 500, body: { message: 'internal error' } };
        }
        send(out.status, out.body);
      })
      .catch((e: unknown) => {
        if (e instanceof BodyTooLargeError) send(413, { message: 'body too large' });
        else res.destroy(); // the client went away mid-body
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new KookRtpError('SOCKET_ERROR', `emulator cannot listen: ${e.message}`, { cause: e })));
    server.listen(port, host, () => resolve());
  });
  const p = (server.address() as AddressInfo).port;
  return {
    server,
    baseUrl: `http://${host}:${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

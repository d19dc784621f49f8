/**
 * The moderation tap: the audio the bot plays, re-encoded as MP3 and served as HTTP-FLV so Shumei and Tupu can pull
 * it (they take a URL and do not accept Opus).
 *
 * Codec: MP3, 48 kHz, mono, 64 kbit/s by default. 48 kHz needs no resampling of the player's frames, and 48 kHz MP3 in
 * FLV is what ffmpeg's own FLV muxer writes (SoundRate "44 kHz", the real rate in the frame headers), so every
 * ffmpeg-based ingest reads it; 24 kHz MP3 is refused by ffmpeg's FLV muxer and PCM in FLV has no 48 kHz rate code.
 * Mono halves the encoder's CPU (lamejs is pure JS) and moderation does not need stereo; 64 kbit/s mono is
 * transparent enough for speech recognition.
 *
 * The URL holds a random 128-bit token and answers 404 unless the stream is live. Each connection starts at the next
 * MP3 frame with a fresh FLV header and timestamps from 0; a reader that falls more than `maxBufferBytes` behind is
 * dropped rather than buffered forever.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Mp3Encoder } from '@breezystack/lamejs';
import { KookRtpError } from '../errors.js';
import { encodeFlvScriptData } from '../wire/flv/amf0.js';
import { encodeFlvAudioData, FlvSoundFormat, FlvSoundRate } from '../wire/flv/audio.js';
import { encodeFlvHeader } from '../wire/flv/header.js';
import { Mp3FrameSplitter } from '../wire/flv/mp3.js';
import { encodeFlvTag, FlvTagType } from '../wire/flv/tag.js';
import { TypedEmitter } from './events.js';

/** Samples per channel in one player frame (20 ms at 48 kHz). */
export const TAP_FRAME_SAMPLES = 960;
const SAMPLE_RATE = 48_000;

/** Options of {@link createModerationTap}. */
export interface ModerationTapOptions {
  /** Default 127.0.0.1. Bind 0.0.0.0 (and set `publicBaseUrl`) for services on the internet. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Base URL the services reach this server at (reverse proxy, NAT); default `http://host:port`. */
  publicBaseUrl?: string;
  /** MP3 bitrate in kbit/s, default 64. */
  bitrateKbps?: number;
  /** Encode stereo instead of mono. Default false. */
  stereo?: boolean;
  /** Bytes queued for one connection before it is dropped, default 256 KiB (about 30 s at 64 kbit/s). */
  maxBufferBytes?: number;
  /** Concurrent readers allowed, default 8. */
  maxConnections?: number;
}

/** Counters. */
export interface ModerationTapStats {
  readonly live: boolean;
  /** PCM frames written since start. */
  readonly framesIn: number;
  /** MP3 frames produced since start. */
  readonly mp3Frames: number;
  readonly bytesEncoded: number;
  readonly connections: number;
  readonly connectionsServed: number;
  /** Readers dropped for falling behind. */
  readonly slowReadersDropped: number;
  /** Requests refused (wrong path, not live, too many readers, wrong method). */
  readonly refused: number;
}

/** Tap events. */
export type ModerationTapEvents = {
  start: [];
  stop: [];
  /** A reader was dropped for falling behind. */
  slowReader: [{ remoteAddress: string | undefined; bufferedBytes: number }];
};

/** The tap the player feeds. */
export interface ModerationTap extends TypedEmitter<ModerationTapEvents> {
  /** The HTTP-FLV URL to give to the services. */
  readonly url: string;
  /** Starts a live stream: from now on the URL answers. Idempotent. */
  start(): void;
  /**
   * Feeds one player frame: interleaved stereo, 48 kHz, 960 samples per channel (1920 values).
   * Ignored while not live.
   * @throws KookRtpError `INVALID_ARGUMENT` for a frame of another size
   */
  writePcm(frame: Int16Array): void;
  /** Ends the live stream: readers get the end of the response, new requests 404 again. */
  stop(): void;
  /** Stops and closes the HTTP server. */
  close(): Promise<void>;
  stats(): ModerationTapStats;
}

interface Reader {
  res: ServerResponse;
  /** Timestamp base: each reader's timestamps start at 0. */
  firstFrame: number;
}

class ModerationTapImpl extends TypedEmitter<ModerationTapEvents> implements ModerationTap {
  url = '';
  private live = false;
  private encoder: Mp3Encoder | undefined;
  private splitter = new Mp3FrameSplitter();
  private readonly readers = new Set<Reader>();
  private readonly mono: Int16Array;
  private readonly left = new Int16Array(TAP_FRAME_SAMPLES);
  private readonly right = new Int16Array(TAP_FRAME_SAMPLES);
  private readonly audioHeader: { soundFormat: number; soundRate: number; is16Bit: boolean; stereo: boolean };
  private readonly preamble: Uint8Array;
  private counters = { framesIn: 0, mp3Frames: 0, bytesEncoded: 0, connectionsServed: 0, slowReadersDropped: 0, refused: 0 };

  constructor(
    readonly server: Server,
    private readonly token: Buffer,
    private readonly bitrate: number,
    private readonly stereo: boolean,
    private readonly maxBuffer: number,
    private readonly maxConnections: number,
  ) {
    super();
    this.mono = new Int16Array(TAP_FRAME_SAMPLES);
    this.audioHeader = { soundFormat: FlvSoundFormat.mp3, soundRate: FlvSoundRate.rate44100, is16Bit: true, stereo };
    const meta = encodeFlvTag({
      type: FlvTagType.script,
      timestamp: 0,
      data: encodeFlvScriptData({
        name: 'onMetaData',
        properties: { duration: 0, audiocodecid: FlvSoundFormat.mp3, audiosamplerate: SAMPLE_RATE, audiosamplesize: 16, stereo, audiodatarate: bitrate },
      }),
    });
    const header = encodeFlvHeader({ hasAudio: true, hasVideo: false });
    this.preamble = new Uint8Array(header.length + meta.length);
    this.preamble.set(header);
    this.preamble.set(meta, header.length);
  }

  start(): void {
    if (this.live) return;
    this.encoder = new Mp3Encoder(this.stereo ? 2 : 1, SAMPLE_RATE, this.bitrate);
    this.splitter = new Mp3FrameSplitter();
    this.counters = { ...this.counters, framesIn: 0, mp3Frames: 0, bytesEncoded: 0 };
    this.live = true;
    this.safeEmit('start');
  }

  writePcm(frame: Int16Array): void {
    if (!(frame instanceof Int16Array) || frame.length !== TAP_FRAME_SAMPLES * 2) {
      throw new KookRtpError('INVALID_ARGUMENT', `writePcm expects an Int16Array of ${TAP_FRAME_SAMPLES * 2} values (960 stereo samples), got ${frame?.length}`);
    }
    if (!this.live || this.encoder === undefined) return;
    this.counters.framesIn++;
    let out: Int8Array | Uint8Array;
    if (this.stereo) {
      for (let i = 0; i < TAP_FRAME_SAMPLES; i++) {
        this.left[i] = frame[2 * i] ?? 0;
        this.right[i] = frame[2 * i + 1] ?? 0;
      }
      out = this.encoder.encodeBuffer(this.left, this.right);
    } else {
      for (let i = 0; i < TAP_FRAME_SAMPLES; i++) this.mono[i] = ((frame[2 * i] ?? 0) + (frame[2 * i + 1] ?? 0)) >> 1;
      out = this.encoder.encodeBuffer(this.mono);
    }
    // lamejs returns an Int8Array: view the same bytes unsigned.
    this.emitMp3(new Uint8Array(out.buffer, out.byteOffset, out.length));
  }

  private emitMp3(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.counters.bytesEncoded += bytes.length;
    for (const mp3 of this.splitter.push(bytes)) {
      const index = this.counters.mp3Frames++;
      const body = encodeFlvAudioData({ ...this.audioHeader, payload: mp3 });
      for (const r of this.readers) {
        // A reader that joined since the last frame starts here, with timestamps from 0.
        if (r.firstFrame < 0) r.firstFrame = index;
        const ts = Math.round(((index - r.firstFrame) * 1152 * 1000) / SAMPLE_RATE);
        this.send(r, encodeFlvTag({ type: FlvTagType.audio, timestamp: ts, data: body }));
      }
    }
  }

  private send(r: Reader, bytes: Uint8Array): void {
    const buffered = r.res.writableLength;
    if (buffered > this.maxBuffer) {
      this.counters.slowReadersDropped++;
      this.readers.delete(r);
      this.safeEmit('slowReader', { remoteAddress: r.res.socket?.remoteAddress, bufferedBytes: buffered });
      r.res.destroy();
      return;
    }
    r.res.write(bytes);
  }

  stop(): void {
    if (!this.live) return;
    this.live = false;
    if (this.encoder !== undefined) {
      const tail = this.encoder.flush();
      this.emitMp3(new Uint8Array(tail.buffer, tail.byteOffset, tail.length));
    }
    this.encoder = undefined;
    for (const r of this.readers) r.res.end();
    this.readers.clear();
    this.safeEmit('stop');
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  stats(): ModerationTapStats {
    return { live: this.live, connections: this.readers.size, ...this.counters };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const m = /^\/tap\/([A-Za-z0-9]+)\.flv$/.exec(path);
    const tokenOk = m?.[1] !== undefined && Buffer.byteLength(m[1]) === this.token.length && timingSafeEqual(Buffer.from(m[1]), this.token);
    const refuse = (status: number): void => {
      this.counters.refused++;
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
      res.end(status === 404 ? 'not found\n' : 'unavailable\n');
    };
    if (!tokenOk || !this.live) return refuse(404);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return refuse(405);
    }
    if (this.readers.size >= this.maxConnections) return refuse(503);
    res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-store', connection: 'close' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    res.write(this.preamble);
    const reader: Reader = { res, firstFrame: -1 };
    this.readers.add(reader);
    this.counters.connectionsServed++;
    const drop = (): void => {
      this.readers.delete(reader);
    };
    res.on('close', drop);
    res.on('error', drop);
  }
}

/**
 * Creates the tap and starts its HTTP server (not yet live: call `start()`).
 * @throws KookRtpError `INVALID_ARGUMENT` for an unsupported bitrate, `SOCKET_ERROR` when the port cannot be bound
 */
export async function createModerationTap(options: ModerationTapOptions = {}): Promise<ModerationTap> {
  const bitrate = options.bitrateKbps ?? 64;
  const allowed = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
  if (!allowed.includes(bitrate)) {
    throw new KookRtpError('INVALID_ARGUMENT', `bitrateKbps must be an MPEG-1 Layer III bitrate (${allowed.join(', ')}), got ${bitrate}`);
  }
  const host = options.host ?? '127.0.0.1';
  const token = randomBytes(16).toString('hex');
  const server = createServer({ headersTimeout: 5000, requestTimeout: 10_000 });
  const tap = new ModerationTapImpl(server, Buffer.from(token), bitrate, options.stereo ?? false, options.maxBufferBytes ?? 256 * 1024, options.maxConnections ?? 8);
  // A streaming response must not be cut by the request timeout: it only bounds receiving the request.
  server.on('request', (req, res) => {
    try {
      tap.handle(req, res);
    } catch {
      res.destroy();
    }
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new KookRtpError('SOCKET_ERROR', `tap cannot listen on ${host}:${options.port ?? 0}: ${e.message}`, { cause: e })));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = (options.publicBaseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  tap.url = `${base}/tap/${token}.flv`;
  return tap;
}

import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { MPEGDecoder } from 'mpg123-decoder';
import { afterEach, describe, expect, it } from 'vitest';
import { createModerationTap, type ModerationTap } from '../../src/services/tap.js';
import { decodeFlvScriptData } from '../../src/wire/flv/amf0.js';
import { decodeFlvAudioData } from '../../src/wire/flv/audio.js';
import { decodeMp3FrameHeader } from '../../src/wire/flv/mp3.js';
import { FlvReader } from '../../src/wire/flv/reader.js';
import type { FlvTag } from '../../src/wire/flv/tag.js';
import { feed, http, runFfmpeg, sineFrame, waitFor } from './helpers.js';

let tap: ModerationTap | undefined;
afterEach(async () => {
  await tap?.close();
  tap = undefined;
});

/** Reads the tap until `n` audio tags arrived. */
function readTags(url: string, n: number): Promise<{ tags: FlvTag[]; reader: FlvReader }> {
  return new Promise((resolve, reject) => {
    const reader = new FlvReader();
    const tags: FlvTag[] = [];
    const req = get(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
      res.on('data', (c: Buffer) => {
        tags.push(...reader.push(c));
        if (tags.filter((t) => t.type === 8).length >= n) {
          req.destroy();
          resolve({ tags, reader });
        }
      });
    });
    req.on('error', () => undefined);
  });
}

describe('moderation tap', () => {
  it('answers 404 before start, after stop, and for a wrong token', async () => {
    tap = await createModerationTap();
    expect(tap.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tap\/[0-9a-f]{32}\.flv$/);
    expect((await http(tap.url)).status).toBe(404);
    tap.start();
    expect((await http(tap.url, { method: 'HEAD' })).status).toBe(200);
    expect((await http(tap.url.replace(/[0-9a-f]{32}/, '0'.repeat(32)), { method: 'HEAD' })).status).toBe(404);
    expect((await http(tap.url, { method: 'POST' })).status).toBe(405);
    tap.stop();
    expect((await http(tap.url)).status).toBe(404);
    expect(tap.stats().refused).toBe(4);
  });

  it('serves FLV (audio flag, onMetaData, MP3 48 kHz mono tags) that decodes to the sine fed in', async () => {
    tap = await createModerationTap();
    tap.start();
    const t = tap;
    const stop = feed((f) => t.writePcm(f), () => 12000);
    const { tags, reader } = await readTags(tap.url, 40);
    stop();
    expect(reader.header).toEqual({ version: 1, hasAudio: true, hasVideo: false, dataOffset: 9 });
    expect(tags[0]?.type).toBe(18);
    const meta = decodeFlvScriptData(tags[0]!.data);
    expect(meta.properties).toMatchObject({ audiocodecid: 2, audiosamplerate: 48000, stereo: false });
    const audio = tags.filter((x) => x.type === 8);
    expect(audio[0]?.timestamp).toBe(0);
    expect(audio[1]?.timestamp).toBe(24); // 1152 samples at 48 kHz
    const decoder = new MPEGDecoder();
    await decoder.ready;
    let sumSq = 0;
    let n = 0;
    for (const tag of audio) {
      const a = decodeFlvAudioData(tag.data);
      expect(a).toMatchObject({ soundFormat: 2, soundRate: 3, is16Bit: true, stereo: false });
      expect(decodeMp3FrameHeader(a.payload)).toMatchObject({ sampleRate: 48000, channels: 1, bitrateKbps: 64 });
      const pcm = decoder.decodeFrame(a.payload);
      for (const v of pcm.channelData[0]!.subarray(0, pcm.samplesDecoded)) {
        sumSq += v * v;
        n++;
      }
    }
    decoder.free();
    const rms = Math.sqrt(sumSq / n);
    // A sine of amplitude 12000/32768 has RMS 0.259; the encoder's start-up delay lowers it a little.
    expect(rms).toBeGreaterThan(0.15);
    expect(rms).toBeLessThan(0.3);
  });

  it('starts each new connection at the next frame with a fresh header and timestamps from 0', async () => {
    tap = await createModerationTap();
    tap.start();
    const t = tap;
    const stop = feed((f) => t.writePcm(f), () => 8000);
    await readTags(tap.url, 10);
    const second = await readTags(tap.url, 5);
    stop();
    expect(second.reader.header?.hasAudio).toBe(true);
    expect(second.tags.filter((x) => x.type === 8).map((x) => x.timestamp)).toEqual([0, 24, 48, 72, 96]);
    expect(tap.stats().connectionsServed).toBe(2);
  });

  it('drops a reader that does not read instead of buffering forever', async () => {
    tap = await createModerationTap({ bitrateKbps: 320, maxBufferBytes: 64 * 1024 });
    tap.start();
    const url = new URL(tap.url);
    const sock = connect(Number(url.port), url.hostname);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET ${url.pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
    sock.pause(); // never read
    await waitFor(() => tap!.stats().connections === 1, 5000, 'connection');
    const dropped = new Promise((r) => tap!.once('slowReader', r));
    // Loopback socket buffers hold a few MB: write until the tap gives up on this reader.
    let i = 0;
    while (tap.stats().slowReadersDropped === 0 && i < 20_000) {
      tap.writePcm(sineFrame(i++, 20000, 3000 + (i % 7) * 500));
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    await dropped;
    expect(tap.stats().slowReadersDropped).toBe(1);
    expect(tap.stats().connections).toBe(0);
    sock.destroy();
  });

  it('refuses frames of the wrong size and ignores frames while not live', async () => {
    tap = await createModerationTap();
    expect(() => tap!.writePcm(new Int16Array(960))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    tap.writePcm(sineFrame(0, 1000));
    expect(tap.stats().framesIn).toBe(0);
    await expect(createModerationTap({ bitrateKbps: 65 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.runIf(runFfmpeg)('is decoded by ffmpeg to non-silent PCM', async () => {
    tap = await createModerationTap();
    tap.start();
    const t = tap;
    const stop = feed((f) => t.writePcm(f), () => 10000, 10, 100);
    const pcm = await new Promise<Buffer>((resolve, reject) => {
      const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', t.url, '-t', '2', '-f', 's16le', '-ac', '1', '-']);
      const chunks: Buffer[] = [];
      p.stdout.on('data', (c: Buffer) => chunks.push(c));
      p.on('error', reject);
      p.on('close', () => resolve(Buffer.concat(chunks)));
    });
    stop();
    expect(pcm.length).toBeGreaterThan(48000 * 2); // at least a second of 16-bit samples
    let peak = 0;
    for (let i = 0; i < pcm.length - 1; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
    expect(peak).toBeGreaterThan(5000);
  });
});

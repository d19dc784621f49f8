import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { openTrack } from '../../src/media/track.js';
import { chunked, codeOf, fixture, fixtureBytes, hasFfmpeg, startServer } from './helpers.js';

describe('probe by content', () => {
  it.each([
    { file: 'sine-mono-22k-id3.mp3', want: { container: 'mp3', codec: 'mp3', sampleRate: 22050, channels: 1, title: 'Sine Four-Forty', artist: 'kook-rtp fixtures', mode: 'transcode' }, dur: 3.06 },
    { file: 'sine-stereo-44k-vbr.mp3', want: { container: 'mp3', codec: 'mp3', sampleRate: 44100, channels: 2 }, dur: 3.03 },
    { file: 'sine-24bit-96k.flac', want: { container: 'flac', codec: 'flac', sampleRate: 96000, channels: 2, title: 'Sine Hi-Res' }, dur: 1.5 },
    { file: 'sine-s16-44k.wav', want: { container: 'wav', codec: 'pcm', sampleRate: 44100, channels: 2, bitrate: 1411200 }, dur: 1 },
    { file: 'sine-f32-44k-mono.wav', want: { container: 'wav', codec: 'pcm', sampleRate: 44100, channels: 1 }, dur: 1 },
    { file: 'sine-5.1-16k-ext.wav', want: { container: 'wav', codec: 'pcm', sampleRate: 16000, channels: 6 }, dur: 1 },
    { file: 'sine-opus-128k.ogg', want: { container: 'ogg', codec: 'opus', sampleRate: 48000, channels: 2, title: 'Opus High', mode: 'transcode' }, dur: 3 },
    { file: 'sine-opus-48k.ogg', want: { container: 'ogg', codec: 'opus', channels: 2, title: 'Opus Room', artist: 'kook-rtp fixtures' }, dur: 3 },
    { file: 'sine-opus-48k.webm', want: { container: 'webm', codec: 'opus', channels: 2 }, dur: 3.008 },
    { file: 'sine-vorbis.ogg', want: { container: 'ogg', codec: 'vorbis', sampleRate: 44100, channels: 2, title: 'Vorbis Sine' }, dur: 3 },
    { file: 'sine-flac.oga', want: { container: 'ogg', codec: 'flac', sampleRate: 44100, channels: 2 }, dur: 1 },
    { file: 'speech.ogg', want: { container: 'ogg', codec: 'opus', title: 'kook-rtp speech demo', artist: 'espeak-ng' }, dur: 8.5 },
  ])('$file', async ({ file, want, dur }) => {
    // Content, not name: pass the bytes without any file name.
    const info = await probe(fixtureBytes(file));
    expect(info).toMatchObject(want);
    expect(info.durationSec).toBeCloseTo(dur, 1);
  });

  it('estimates Opus bitrates and decides passthrough against the room', async () => {
    const hi = await probe(fixture('sine-opus-128k.ogg'), { roomBitrate: 96000 });
    const lo = await probe(fixture('sine-opus-48k.ogg'), { roomBitrate: 96000 });
    expect(hi.bitrate).toBeGreaterThan(120_000);
    expect(hi.bitrate).toBeLessThan(140_000);
    expect(lo.bitrate).toBeGreaterThan(45_000);
    expect(lo.bitrate).toBeLessThan(52_000);
    expect(hi.mode).toBe('transcode');
    expect(lo.mode).toBe('passthrough');
    expect((await probe(fixture('sine-opus-48k.ogg'), { roomBitrate: 96000, volume: 0.5 })).mode).toBe('transcode');
    expect((await probe(fixture('sine-opus-48k.ogg'), { roomBitrate: 96000, passthrough: 'never' })).mode).toBe('transcode');
  });

  it('probes streams without a size (bitrate from packets, no tail for duration)', async () => {
    const info = await probe(chunked(fixtureBytes('sine-opus-48k.ogg'), 999), { roomBitrate: 96000 });
    expect(info.mode).toBe('passthrough');
    expect(info.bitrate).toBeGreaterThan(40_000);
    const mp3 = await probe(createReadStream(fixture('sine-mono-22k-id3.mp3')));
    expect(mp3.title).toBe('Sine Four-Forty');
  });

  it.runIf(hasFfmpeg || process.env.CI === 'true')('reports AAC/M4A as needing ffmpeg', async () => {
    const info = await probe(fixture('sine-aac.m4a'));
    expect(info).toMatchObject({ container: 'mp4', codec: 'aac', mode: 'transcode' });
  });

  it.each([
    ['empty.mp3', 'INVALID_INPUT'],
    ['garbage.mp3', 'UNSUPPORTED_FORMAT'],
  ])('%s -> %s', async (file, code) => {
    expect(codeOf(await probe(fixture(file)).catch((e: unknown) => e))).toBe(code);
  });

  it('an ID3 tag followed by garbage is UNSUPPORTED_FORMAT', async () => {
    const id3 = fixtureBytes('sine-mono-22k-id3.mp3');
    const tagLen = 10 + (((id3[6]! & 0x7f) << 21) | ((id3[7]! & 0x7f) << 14) | ((id3[8]! & 0x7f) << 7) | (id3[9]! & 0x7f));
    const bytes = Buffer.concat([id3.subarray(0, tagLen), fixtureBytes('garbage.mp3')]);
    expect(codeOf(await probe(bytes).catch((e: unknown) => e))).toBe('UNSUPPORTED_FORMAT');
  });

  it.each([
    // ID3v2.3 with the extended-header flag, cut inside the extended header's size field (hostile-input campaign).
    { name: 'v2.3 extended header cut after 0 of 4 size bytes', bytes: [0x49, 0x44, 0x33, 0x03, 0x00, 0x7f, 0x00, 0x00, 0x10, 0x79] },
    { name: 'v2.3 extended header cut after 2 of 4 size bytes', bytes: [0x49, 0x44, 0x33, 0x03, 0x00, 0x40, 0x00, 0x00, 0x10, 0x79, 0x00, 0x00] },
    { name: 'v2.4 extended header cut after 3 of 4 size bytes', bytes: [0x49, 0x44, 0x33, 0x04, 0x00, 0x40, 0x00, 0x00, 0x10, 0x79, 0x00, 0x00, 0x00] },
    { name: 'v2.3 frame header cut after 6 of 10 bytes', bytes: [0x49, 0x44, 0x33, 0x03, 0x00, 0x00, 0x00, 0x00, 0x10, 0x79, 0x54, 0x49, 0x54, 0x32, 0x00, 0x00] },
  ])('a truncated ID3 tag ($name) is INVALID_INPUT from probe and openTrack', async ({ bytes }) => {
    const b = new Uint8Array(bytes);
    expect(codeOf(await probe(b).catch((e: unknown) => e))).toBe('INVALID_INPUT');
    expect(codeOf(await openTrack(b).catch((e: unknown) => e))).toBe('INVALID_INPUT');
  });
});

describe('probe over HTTP', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    srv = await startServer((req, res) => {
      if (req.url?.split('?')[0] === '/a.flac') res.writeHead(200).end(fixtureBytes('sine-24bit-96k.flac'));
      else res.writeHead(404).end();
    });
  });
  afterAll(async () => srv.close());

  it('reads only the head of a URL', async () => {
    expect(await probe(`${srv.url}/a.flac?token=secret`)).toMatchObject({ container: 'flac', sampleRate: 96000 });
  });

  it('404 is FETCH_FAILED and the message hides the query string', async () => {
    const err = await probe(`${srv.url}/b.mp3?token=secret`).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('FETCH_FAILED');
    expect((err as Error).message).not.toContain('secret');
  });
});

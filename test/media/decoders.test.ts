import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMp3Source, findMpegSync, parseMpegHeader, parseVbrHeader } from '../../src/media/decoders/mp3.js';
import { openInput } from '../../src/media/input.js';
import { probeReader } from '../../src/media/probe.js';
import { wavToPlanar } from '../../src/media/decoders/wav.js';
import { WebmDemuxer } from '../../src/media/decoders/webm.js';
import { openTrack } from '../../src/media/track.js';
import { probe } from '../../src/media/probe.js';
import { codeOf, collect, decodeFrames, dominant, fixture, fixtureBytes } from './helpers.js';

/** Builds a WAV file by hand: `fmtTag` 1 = PCM, 3 = float, 0xfffe = extensible (with `sub` as the sub-format). */
function wav(opts: { bits: number; tag: number; sub?: number; channels: number; rate: number; samples: number[][] }): Uint8Array {
  const { bits, channels, rate } = opts;
  const n = opts.samples[0]!.length;
  const ext = opts.tag === 0xfffe;
  const fmtLen = ext ? 40 : 16;
  const dataLen = n * channels * (bits / 8);
  const b = Buffer.alloc(12 + 8 + fmtLen + 8 + dataLen);
  b.write('RIFF', 0);
  b.writeUInt32LE(b.length - 8, 4);
  b.write('WAVE', 8);
  b.write('fmt ', 12);
  b.writeUInt32LE(fmtLen, 16);
  b.writeUInt16LE(opts.tag, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE((rate * channels * bits) / 8, 28);
  b.writeUInt16LE((channels * bits) / 8, 32);
  b.writeUInt16LE(bits, 34);
  if (ext) {
    b.writeUInt16LE(22, 36);
    b.writeUInt16LE(bits, 38);
    b.writeUInt32LE(3, 40);
    b.writeUInt16LE(opts.sub ?? 1, 44);
  }
  let o = 20 + fmtLen;
  b.write('data', o);
  b.writeUInt32LE(dataLen, o + 4);
  o += 8;
  const float = opts.tag === 3 || opts.sub === 3;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const v = opts.samples[c]![i]!;
      if (float && bits === 32) b.writeFloatLE(v, o);
      else if (float) b.writeDoubleLE(v, o);
      else if (bits === 8) b.writeUInt8(Math.round(v * 127) + 128, o);
      else if (bits === 16) b.writeInt16LE(Math.round(v * 32767), o);
      else if (bits === 24) b.writeIntLE(Math.round(v * 8388607), o, 3);
      else b.writeInt32LE(Math.round(v * 2147483647), o);
      o += bits / 8;
    }
  }
  return new Uint8Array(b);
}

const tone = (f: number, rate: number, n: number): number[] => Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / rate));

describe('WAV by hand', () => {
  it.each([
    { name: '8-bit', bits: 8, tag: 1 },
    { name: '16-bit', bits: 16, tag: 1 },
    { name: '24-bit', bits: 24, tag: 1 },
    { name: '32-bit int', bits: 32, tag: 1 },
    { name: '32-bit float', bits: 32, tag: 3 },
    { name: '64-bit float', bits: 64, tag: 3 },
    { name: 'extensible 24-bit', bits: 24, tag: 0xfffe, sub: 1 },
    { name: 'extensible float', bits: 32, tag: 0xfffe, sub: 3 },
  ])('$name plays with the right tones', async ({ bits, tag, sub }) => {
    const rate = 32000;
    const bytes = wav({ bits, tag, ...(sub ? { sub } : {}), channels: 2, rate, samples: [tone(440, rate, rate / 2), tone(660, rate, rate / 2)] });
    const info = await probe(bytes);
    expect(info).toMatchObject({ container: 'wav', sampleRate: rate, channels: 2, durationSec: 0.5 });
    const { frames, error } = await collect(await openTrack(bytes));
    expect(error).toBeUndefined();
    expect(frames.length).toBe(25);
    const [l, r] = decodeFrames(frames);
    expect(dominant(l.subarray(4800))).toBe(440);
    expect(dominant(r.subarray(4800))).toBe(660);
  });

  it('converts sample values exactly at the extremes', () => {
    const b = wav({ bits: 24, tag: 1, channels: 1, rate: 8000, samples: [[0, -1, 1]] }).subarray(44);
    const [c] = wavToPlanar(b, { sampleType: 'int', bitsPerSample: 24, channels: 1 });
    expect(Array.from(c!)).toEqual([0, -8388607 / 8388608, 8388607 / 8388608]);
  });

  it('rejects ADPCM with UNSUPPORTED_FORMAT and a broken fmt chunk with INVALID_INPUT', async () => {
    const adpcm = wav({ bits: 16, tag: 1, channels: 1, rate: 8000, samples: [[0, 0]] });
    adpcm[20] = 2;
    expect(codeOf(await probe(adpcm).catch((e: unknown) => e))).toBe('UNSUPPORTED_FORMAT');
    const broken = wav({ bits: 16, tag: 1, channels: 1, rate: 8000, samples: [[0, 0]] });
    broken[32] = 7; // block align
    expect(codeOf(await probe(broken).catch((e: unknown) => e))).toBe('INVALID_INPUT');
  });

  it('a WAV stream (size unknown) whose data stops before its claimed size yields what it had, then DECODE_FAILED', async () => {
    const full = wav({ bits: 16, tag: 1, channels: 1, rate: 8000, samples: [tone(440, 8000, 8000)] });
    const cut = full.subarray(0, 44 + 8000);
    async function* stream(): AsyncGenerator<Uint8Array> {
      yield cut;
    }
    const { frames, error } = await collect(await openTrack(stream()));
    expect(codeOf(error)).toBe('DECODE_FAILED');
    expect(frames.length).toBe(25);
  });

  it('a cut WAV file or buffer (size known) plays to its end without an error, as ffmpeg and sox do', async () => {
    const full = wav({ bits: 16, tag: 1, channels: 1, rate: 8000, samples: [tone(440, 8000, 8000)] });
    const { frames, error } = await collect(await openTrack(full.subarray(0, 44 + 8000)));
    expect(error).toBeUndefined();
    expect(frames.length).toBe(25);
  });

  it.each([
    { name: 'RIFF and data 0xFFFFFFFF', riff: 0xffffffff, data: 0xffffffff },
    { name: 'RIFF and data 0xFFFFFF00', riff: 0xffffffff, data: 0xffffff00 },
    { name: 'data claims 1 MB more', riff: 0xffffffff, data: 176400 + 1_000_000 },
  ])('a WAV file whose sizes claim more than it holds ($name) plays to its end', async ({ riff, data }) => {
    const bytes = Uint8Array.from(fixtureBytes('sine-s16-44k.wav'));
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    v.setUint32(4, riff, true);
    v.setUint32(40, data, true); // the data chunk's size, after "data" at 36
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-wav-'));
    const path = join(dir, 'streamed.wav');
    writeFileSync(path, bytes);
    const info = await probe(path);
    expect(info.durationSec).toBeCloseTo(1.0, 2);
    const { frames, error } = await collect(await openTrack(path));
    expect(error).toBeUndefined();
    const reference = await collect(await openTrack(fixture('sine-s16-44k.wav')));
    expect(frames.length).toBe(reference.frames.length);
  });
});

describe('MPEG frame headers', () => {
  it.each([
    // bytes                     version layer bitrate rate channels length samples
    [[0xff, 0xfb, 0x90, 0x64], { version: 1, layer: 3, bitrate: 128000, sampleRate: 44100, channels: 2, frameLength: 417, samples: 1152 }],
    [[0xff, 0xf3, 0x64, 0xc4], { version: 2, layer: 3, bitrate: 48000, sampleRate: 24000, channels: 1, frameLength: 144, samples: 576 }],
    [[0xff, 0xfd, 0x94, 0x00], { version: 1, layer: 2, bitrate: 160000, sampleRate: 48000, channels: 2, frameLength: 480, samples: 1152 }],
  ])('parses %j', (bytes, want) => {
    expect(parseMpegHeader(Uint8Array.from(bytes), 0)).toEqual(want);
  });

  it.each([
    ['no sync', [0xfe, 0xfb, 0x90, 0x64]],
    ['reserved version', [0xff, 0xeb, 0x90, 0x64]],
    ['free format', [0xff, 0xfb, 0x00, 0x64]],
    ['bad bitrate', [0xff, 0xfb, 0xf0, 0x64]],
    ['reserved rate', [0xff, 0xfb, 0x9c, 0x64]],
  ])('rejects %s', (_n, bytes) => {
    expect(parseMpegHeader(Uint8Array.from(bytes), 0)).toBeNull();
  });

  it('finds the Xing header of a VBR file', () => {
    const b = fixtureBytes('sine-stereo-44k-vbr.mp3');
    const s = findMpegSync(b, 3)!;
    expect(s).not.toBeNull();
    const vbr = parseVbrHeader(b, s.offset, s.header)!;
    expect(vbr.kind).toBe('Xing');
    expect(vbr.frames).toBeGreaterThan(100);
  });

  it('decodes in small batches: one frame first (the LAME tag frame yields none), doubling up to 8 per call, nothing lost', async () => {
    const reader = await openInput(fixtureBytes('steps.mp3'));
    const probed = await probeReader(reader);
    if (probed.detail.kind !== 'mp3') throw new Error(`expected mp3, got ${probed.detail.kind}`);
    const spf = probed.detail.first.samples;
    const src = await createMp3Source(reader, probed.detail.first);
    const lengths: number[] = [];
    for (let b = await src.next(); b !== null; b = await src.next()) lengths.push(b.length);
    await src.close();
    expect(lengths.length).toBeGreaterThan(10);
    expect(lengths[0]).toBeLessThanOrEqual(2 * spf);
    expect(lengths.slice(0, 3)).toEqual([...lengths.slice(0, 3)].sort((a, b) => a - b));
    expect(Math.max(...lengths)).toBe(8 * spf);
    // Same total as decoding the whole file in one go.
    const all = await collect(await openTrack(fixtureBytes('steps.mp3'), { passthrough: 'never' }));
    const total = lengths.reduce((a, n) => a + n, 0);
    expect(Math.ceil((total * 48000) / probed.detail.first.sampleRate / 960)).toBe(all.frames.length);
  });
});

describe('WebM demuxer', () => {
  it('reads tracks, duration and Opus blocks', () => {
    const d = new WebmDemuxer();
    const packets = d.push(fixtureBytes('sine-opus-48k.webm'));
    expect(d.audioTrack).toMatchObject({ codecId: 'A_OPUS', channels: 2, sampleRate: 48000 });
    expect(d.durationSec).toBeCloseTo(3.008, 2);
    expect(packets.length).toBe(151);
    // Block times are whole milliseconds in this file: 20 ms apart, give or take the rounding.
    expect(Math.abs(packets[1]!.timeMs - packets[0]!.timeMs - 20)).toBeLessThanOrEqual(1);
  });

  it('rejects a non-EBML start with DECODE_FAILED', () => {
    expect(() => new WebmDemuxer().push(Uint8Array.of(0x42, 0x86, 0x81, 0x01, 0, 0))).toThrowError(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });
});

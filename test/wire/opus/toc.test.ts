import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KookRtpError } from '../../../src/errors.js';
import { codeOf } from '../../helpers.js';
import { OPUS_SILENCE_FRAME, opusPacketSamples, parseOpusFrames, parseOpusToc } from '../../../src/wire/opus/toc.js';

const toc = (config: number, stereo: boolean, code: number): number => (config << 3) | (stereo ? 4 : 0) | code;

// RFC 6716 §3.1 Table 2, row by row.
const table2: [number, 'silk' | 'hybrid' | 'celt', 'nb' | 'mb' | 'wb' | 'swb' | 'fb', number][] = [
  [0, 'silk', 'nb', 10], [1, 'silk', 'nb', 20], [2, 'silk', 'nb', 40], [3, 'silk', 'nb', 60],
  [4, 'silk', 'mb', 10], [5, 'silk', 'mb', 20], [6, 'silk', 'mb', 40], [7, 'silk', 'mb', 60],
  [8, 'silk', 'wb', 10], [9, 'silk', 'wb', 20], [10, 'silk', 'wb', 40], [11, 'silk', 'wb', 60],
  [12, 'hybrid', 'swb', 10], [13, 'hybrid', 'swb', 20],
  [14, 'hybrid', 'fb', 10], [15, 'hybrid', 'fb', 20],
  [16, 'celt', 'nb', 2.5], [17, 'celt', 'nb', 5], [18, 'celt', 'nb', 10], [19, 'celt', 'nb', 20],
  [20, 'celt', 'wb', 2.5], [21, 'celt', 'wb', 5], [22, 'celt', 'wb', 10], [23, 'celt', 'wb', 20],
  [24, 'celt', 'swb', 2.5], [25, 'celt', 'swb', 5], [26, 'celt', 'swb', 10], [27, 'celt', 'swb', 20],
  [28, 'celt', 'fb', 2.5], [29, 'celt', 'fb', 5], [30, 'celt', 'fb', 10], [31, 'celt', 'fb', 20],
];

describe('parseOpusToc: the 32 configurations (code 0)', () => {
  it.each(table2)('config %i is %s %s %f ms', (config, mode, bandwidth, ms) => {
    for (const stereo of [false, true]) {
      const packet = Uint8Array.of(toc(config, stereo, 0), 0x11, 0x22);
      expect(parseOpusToc(packet)).toEqual({
        config, mode, bandwidth, stereo, code: 0, frameCount: 1,
        frameSamples: ms * 48, samples: ms * 48, durationMs: ms,
      });
      expect(opusPacketSamples(packet)).toBe(ms * 48);
    }
  });
});

describe('parseOpusFrames: codes 0-3', () => {
  it.each([
    {
      name: 'code 0: one frame',
      bytes: [toc(31, false, 0), 0xaa, 0xbb],
      frames: [[0xaa, 0xbb]], samples: 960, padding: 0,
    },
    {
      name: 'code 0: TOC only (a 0-byte DTX frame)',
      bytes: [toc(1, false, 0)],
      frames: [[]], samples: 960, padding: 0,
    },
    {
      name: 'code 1: two equal frames',
      bytes: [toc(31, true, 1), 1, 2, 3, 4],
      frames: [[1, 2], [3, 4]], samples: 1920, padding: 0,
    },
    {
      name: 'code 2: two frames, 1-byte length',
      bytes: [toc(9, false, 2), 1, 0xaa, 0xbb, 0xcc],
      frames: [[0xaa], [0xbb, 0xcc]], samples: 1920, padding: 0,
    },
    {
      name: 'code 2: 2-byte length (252 + 4*0 = 252)',
      bytes: [toc(9, false, 2), 252, 0, ...new Array<number>(252).fill(7), 8],
      frames: [new Array<number>(252).fill(7), [8]], samples: 1920, padding: 0,
    },
    {
      name: 'code 3 CBR: 3 frames of 2 bytes',
      bytes: [toc(18, false, 3), 0x03, 1, 1, 2, 2, 3, 3],
      frames: [[1, 1], [2, 2], [3, 3]], samples: 1440, padding: 0,
    },
    {
      name: 'code 3 CBR with padding flag: 2 padding bytes',
      bytes: [toc(18, false, 3), 0x42, 0x02, 1, 2, 0, 0],
      frames: [[1], [2]], samples: 960, padding: 2,
    },
    {
      name: 'code 3 CBR, padding length 255 chains (254 + 1)',
      bytes: [toc(18, false, 3), 0x41, 0xff, 0x01, 9, ...new Array<number>(255).fill(0)],
      frames: [[9]], samples: 480, padding: 255,
    },
    {
      name: 'code 3 VBR: lengths 1 and 0, last gets the rest',
      bytes: [toc(28, false, 3), 0x83, 1, 0, 0xaa, 0xbb, 0xcc],
      frames: [[0xaa], [], [0xbb, 0xcc]], samples: 360, padding: 0,
    },
    {
      name: 'code 3 VBR + padding',
      bytes: [toc(28, false, 3), 0xc2, 0x01, 2, 0xaa, 0xbb, 0xcc, 0x00],
      frames: [[0xaa, 0xbb], [0xcc]], samples: 240, padding: 1,
    },
    {
      name: 'code 3: SILK 60 ms x 2 = 120 ms (the limit)',
      bytes: [toc(3, false, 3), 0x02, 1, 2],
      frames: [[1], [2]], samples: 5760, padding: 0,
    },
    {
      name: 'code 3: CELT 2.5 ms x 48 = 120 ms (the limit)',
      bytes: [toc(16, false, 3), 48],
      frames: new Array<number[]>(48).fill([]), samples: 5760, padding: 0,
    },
  ])('$name', ({ bytes, frames, samples, padding }) => {
    const parsed = parseOpusFrames(Uint8Array.from(bytes));
    expect(parsed.frames.map((f) => Array.from(f))).toEqual(frames);
    expect(parsed.toc.frameCount).toBe(frames.length);
    expect(parsed.toc.samples).toBe(samples);
    expect(parsed.toc.durationMs).toBe(samples / 48);
    expect(parsed.padding).toBe(padding);
  });

  it.each([
    { name: 'empty packet (R1)', bytes: [] },
    { name: 'code 0 frame of 1276 bytes (R2)', bytes: [toc(31, false, 0), ...new Array<number>(1276).fill(0)] },
    { name: 'code 1 with an odd byte count (R3)', bytes: [toc(31, false, 1), 1, 2, 3] },
    { name: 'code 2 without a length byte', bytes: [toc(31, false, 2)] },
    { name: 'code 2 with a 2-byte length cut short', bytes: [toc(31, false, 2), 253] },
    { name: 'code 2 first frame past the end (R4)', bytes: [toc(31, false, 2), 5, 1, 2] },
    { name: 'code 3 without the count byte', bytes: [toc(31, false, 3)] },
    { name: 'code 3 with M = 0 (R5)', bytes: [toc(31, false, 3), 0x00] },
    { name: 'code 3 of 140 ms: 7 x 20 ms (R5)', bytes: [toc(31, false, 3), 0x07] },
    { name: 'code 3 of 180 ms: 3 x 60 ms (R5)', bytes: [toc(3, false, 3), 0x03] },
    { name: 'code 3 of 122.5 ms: 49 x 2.5 ms (R5)', bytes: [toc(16, false, 3), 49] },
    { name: 'code 3 CBR bytes not a multiple of M (R6)', bytes: [toc(31, false, 3), 0x02, 1, 2, 3] },
    { name: 'code 3 padding length cut short', bytes: [toc(31, false, 3), 0x41, 0xff] },
    { name: 'code 3 padding past the end', bytes: [toc(31, false, 3), 0x41, 10, 1] },
    { name: 'code 3 VBR lengths past the end (R7)', bytes: [toc(31, false, 3), 0x82, 5, 1] },
    { name: 'code 3 VBR length byte missing', bytes: [toc(31, false, 3), 0x83, 1] },
  ])('rejects $name with INVALID_OPUS_PACKET', ({ bytes }) => {
    expect(codeOf(() => parseOpusToc(Uint8Array.from(bytes)))).toBe('INVALID_OPUS_PACKET');
    expect(codeOf(() => opusPacketSamples(Uint8Array.from(bytes)))).toBe('INVALID_OPUS_PACKET');
  });

  it('never throws anything but KookRtpError, and frames always fit inside the packet', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          const { frames, toc: t, padding } = parseOpusFrames(b);
          expect(frames.length).toBe(t.frameCount);
          expect(t.samples).toBeLessThanOrEqual(5760);
          expect(frames.reduce((n, f) => n + f.length, 0) + padding).toBeLessThanOrEqual(b.length - 1);
        } catch (err) {
          expect(err).toBeInstanceOf(KookRtpError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('against libopus (@discordjs/opus)', () => {
  const require = createRequire(import.meta.url);
  const { OpusEncoder } = require('@discordjs/opus') as {
    OpusEncoder: new (rate: number, channels: number) => { encode(pcm: Buffer): Buffer; decode(packet: Buffer): Buffer };
  };

  it('OPUS_SILENCE_FRAME is 20 ms of CELT FB mono that libopus decodes to 960 silent samples', () => {
    expect(Array.from(OPUS_SILENCE_FRAME)).toEqual([0xf8, 0xff, 0xfe]);
    expect(parseOpusToc(OPUS_SILENCE_FRAME)).toMatchObject({ config: 31, mode: 'celt', stereo: false, samples: 960 });
    const pcm = new OpusEncoder(48000, 2).decode(Buffer.from(OPUS_SILENCE_FRAME));
    expect(pcm.length).toBe(960 * 2 * 2);
    expect(pcm.every((b) => b === 0)).toBe(true);
  });

  it('parses what libopus encodes for 20 ms of stereo music', () => {
    const enc = new OpusEncoder(48000, 2);
    const pcm = Buffer.alloc(960 * 2 * 2);
    for (let i = 0; i < 960; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
      pcm.writeInt16LE(v, i * 4);
      pcm.writeInt16LE(v, i * 4 + 2);
    }
    const packet = enc.encode(pcm);
    const t = parseOpusToc(packet);
    expect(t.samples).toBe(960);
    expect(t.durationMs).toBe(20);
    expect(t.stereo).toBe(true);
  });
});

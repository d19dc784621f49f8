/**
 * The passthrough decision rests on the packets: an Opus file's peak 1 s window of RTP bytes (payload + 12-byte
 * header per packet, at the times the pacer sends them) against the bitrate guard's limit for the room. The files
 * are made here with our own Opus encoder and Ogg writer (no system tool).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOpusEncoder } from '../../src/media/opus/encoder.js';
import { PeakWindowScan } from '../../src/media/peakWindow.js';
import { probe } from '../../src/media/probe.js';
import { openTrack } from '../../src/media/track.js';
import { BitrateGuard } from '../../src/pacer/bitrateGuard.js';
import { OggOpusWriter } from '../../src/wire/ogg/opusWriter.js';
import { runCliInProcess } from '../helpers.js';
import { WebmDemuxer } from '../../src/media/decoders/webm.js';
import { chunked, collect, fixture, fixtureBytes } from './helpers.js';

const FRAME = 960;

/** A 20 ms stereo frame of deterministic noise with a moving tone: enough to make Opus spend its whole target. */
function noiseFrame(seed: { s: number }, n: number): Int16Array {
  const pcm = new Int16Array(FRAME * 2);
  for (let i = 0; i < FRAME; i++) {
    seed.s = (Math.imul(seed.s, 1664525) + 1013904223) >>> 0;
    const noise = (seed.s / 0x100000000 - 0.5) * 12000;
    const tone = Math.sin((2 * Math.PI * (220 + (n % 50) * 7) * (n * FRAME + i)) / 48000) * 6000;
    pcm[2 * i] = noise + tone;
    pcm[2 * i + 1] = tone - noise;
  }
  return pcm;
}

/**
 * An Ogg/Opus file made by our encoder: `[seconds, bitrate]` segments in order.
 * @returns the file's bytes and its audio packets as written.
 */
function makeOpusFile(segments: readonly (readonly [number, number])[]): { bytes: Uint8Array; packets: Uint8Array[] } {
  const enc = createOpusEncoder({ bitrate: segments[0]![1] });
  const w = new OggOpusWriter({ serial: 7 });
  const parts: Uint8Array[] = [w.header()];
  const packets: Uint8Array[] = [];
  const seed = { s: 1 };
  let n = 0;
  for (const [seconds, bitrate] of segments) {
    enc.setBitrate(bitrate);
    for (let f = 0; f < seconds * 50; f++, n++) {
      const p = enc.encode(noiseFrame(seed, n));
      packets.push(p);
      parts.push(...w.write(p, FRAME));
    }
  }
  parts.push(w.end());
  enc.close();
  return { bytes: Buffer.concat(parts), packets };
}

/** The peak by brute force: for every packet, the RTP bytes sent within [t - 1 s, t]. */
function naivePeak(sizes: readonly number[], samples: readonly number[]): number {
  const t: number[] = [];
  let acc = 0;
  for (const s of samples) {
    t.push(acc / 48);
    acc += s;
  }
  let peak = 0;
  for (let i = 0; i < sizes.length; i++) {
    let sum = 0;
    for (let j = 0; j <= i; j++) if (t[j]! >= t[i]! - 1000) sum += sizes[j]! + 12;
    peak = Math.max(peak, sum);
  }
  return peak;
}

const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-peak-'));
const save = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

describe('the peak 1 s window of RTP bytes decides passthrough', () => {
  const low = makeOpusFile([[10, 24_000]]);
  const lowPath = save('opus-24k.ogg', low.bytes);

  it('a 24 kbit/s Opus file passes through a 48 kbit/s room untouched', async () => {
    const info = await probe(lowPath, { roomBitrate: 48000 });
    const peak = info.peakWindow!;
    expect(peak.bytes).toBe(naivePeak(low.packets.map((p) => p.length), low.packets.map(() => FRAME)));
    expect(peak).toMatchObject({ packets: 500, measuredSec: 10, whole: true });
    expect(peak.bitrate).toBeLessThan(36_000);
    expect(info.mode).toBe('passthrough');
    expect(info.modeReason).toMatch(/fits the room's 48000 bit\/s \(6000 bytes\)/);

    const track = await openTrack(lowPath, { roomBitrate: 48000 });
    expect(track.info.mode).toBe('passthrough');
    const { frames, error } = await collect(track);
    expect(error).toBeUndefined();
    expect(frames.length).toBe(low.packets.length);
    frames.forEach((f, i) => expect(Buffer.from(f.data).equals(low.packets[i]!)).toBe(true));
  });

  it('a 40 kbit/s file, over the old Opus budget (38 400) but with its peak window under 48 000, passes through', async () => {
    const mid = makeOpusFile([[6, 40_000]]);
    const path = save('opus-40k.ogg', mid.bytes);
    const info = await probe(path, { roomBitrate: 48000 });
    expect(info.bitrate).toBeGreaterThan(38_400);
    expect(info.peakWindow!.bitrate).toBeLessThanOrEqual(48_000);
    expect(info.mode).toBe('passthrough');
    expect((await openTrack(path, { roomBitrate: 48000 }).then(async (t) => (await t.close(), t.info.mode)))).toBe('passthrough');
  });

  it('a quiet start and a loud end: the mean fits the room, the peak window does not, so it is transcoded', async () => {
    const mixed = makeOpusFile([
      [12, 16_000],
      [2, 128_000],
    ]);
    const path = save('opus-quiet-loud.ogg', mixed.bytes);
    const info = await probe(path, { roomBitrate: 48000 });
    expect(info.bitrate).toBeLessThan(38_400); // the old test (mean and first seconds against the budget) let it through
    expect(info.peakWindow!.bitrate).toBeGreaterThan(100_000);
    expect(info.peakWindow!.atSec).toBeGreaterThan(12);
    expect(info.peakWindow!.bytes).toBe(naivePeak(mixed.packets.map((p) => p.length), mixed.packets.map(() => FRAME)));
    expect(info.mode).toBe('transcode');
    expect(info.modeReason).toMatch(/exceeds the room's 48000 bit\/s/);
    const track = await openTrack(path, { roomBitrate: 48000 });
    expect(track.info.mode).toBe('transcode');
    await track.close();
    // A room large enough for the peak takes it unchanged.
    expect((await probe(path, { roomBitrate: 160_000 })).mode).toBe('passthrough');
  });

  it('a stream (read once, by the player) is measured over the packets probing saw, whole when that was all of it', async () => {
    const long = makeOpusFile([[60, 24_000]]);
    const info = await probe(chunked(long.bytes, 4096), { roomBitrate: 48000 });
    expect(info.peakWindow!.whole).toBe(false);
    expect(info.peakWindow!.packets).toBeGreaterThan(50);
    expect(info.peakWindow!.packets).toBeLessThan(3000);
    expect(info.mode).toBe('passthrough');
    expect(info.modeReason).toMatch(/of the first [\d.]+ s\)/);
    const short = await probe(chunked(low.bytes, 4096), { roomBitrate: 48000 });
    expect(short.peakWindow).toMatchObject({ whole: true, packets: 500 });
  });

  it('probe on the command line shows the peak window and the decision for the room given with --bitrate', async () => {
    const r = await runCliInProcess(['probe', lowPath, '--bitrate', '48000']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { mode: string; peakWindow: { bytes: number; bitrate: number; whole: boolean }; modeReason: string };
    expect(doc.mode).toBe('passthrough');
    expect(doc.peakWindow.whole).toBe(true);
    expect(doc.peakWindow.bitrate).toBe(doc.peakWindow.bytes * 8);
    expect(doc.modeReason).toMatch(/^peak 1 s window \d+ RTP bytes/);
    const small = JSON.parse((await runCliInProcess(['probe', lowPath, '--bitrate', '24000'])).out) as { mode: string };
    expect(small.mode).toBe('transcode');
  });
});

/** Samples per frame -> an Opus TOC configuration with that frame size: CELT NB 2.5-20 ms, SILK NB 40 and 60 ms. */
const TOC_CONFIG: Record<number, number> = { 120: 16, 240: 17, 480: 18, 960: 19, 1920: 2, 2880: 3 };

describe('WebM/Opus: the same measure over the blocks', () => {
  it('the fixture: every block measured, as the brute-force sum of its packets says', async () => {
    const path = fixture('sine-opus-48k.webm');
    const demux = new WebmDemuxer();
    const packets = demux.push(fixtureBytes('sine-opus-48k.webm')).map((p) => p.data);
    const info = await probe(path, { roomBitrate: 64000 });
    expect(info.peakWindow).toMatchObject({ whole: true, packets: packets.length });
    expect(info.peakWindow!.bytes).toBe(naivePeak(packets.map((p) => p.length), packets.map(() => FRAME)));
    expect(info.mode).toBe('passthrough');
    expect((await probe(path, { roomBitrate: 48000 })).mode).toBe('transcode'); // its peak window is 53 856 bit/s
  });
});

describe('PeakWindowScan', () => {
  it('equals the guard: the largest window a BitrateGuard records for the same sends, and the brute-force sum', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 3, max: 400 }), fc.constantFrom(120, 240, 480, 960, 1920, 2880)), { minLength: 1, maxLength: 300 }), (spec) => {
        const scan = new PeakWindowScan();
        const guard = new BitrateGuard({ roomBitrate: 1e9 }, 0);
        let samples = 0;
        const sizes: number[] = [];
        const durations: number[] = [];
        for (const [size, n] of spec) {
          // One frame (TOC code 0) of the configuration whose frames last n samples (RFC 6716 §3.1), then filler.
          const packet = new Uint8Array(size);
          packet[0] = TOC_CONFIG[n]! << 3;
          scan.push(packet);
          guard.record(samples / 48, size);
          sizes.push(size);
          durations.push(n);
          samples += n;
        }
        const r = scan.result(true);
        expect(r.bytes).toBe(guard.maxWindowBytes);
        expect(r.bytes).toBe(naivePeak(sizes, durations));
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});

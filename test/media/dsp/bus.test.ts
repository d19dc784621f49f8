/**
 * The track's mix bus alone: gains, overlays with ducking, rewind from checkpoints, crossfade tails, cutBack.
 */
import { describe, expect, it } from 'vitest';
import { OverlayFeed, TrackBus } from '../../../src/media/dsp/bus.js';
import { OggOpusWriter } from '../../../src/wire/ogg/opusWriter.js';
import { createOpusEncoder } from '../../../src/media/opus/encoder.js';
import { openTrack } from '../../../src/media/track.js';
import { createOpusDecoder } from '../../../src/media/opus/decoder.js';
import { toneDb } from '../../engine/wire.js';

/** Frame `k` of a stereo tone (1920 interleaved Int16). */
function toneFrame(freq: number, amp: number, k: number): Int16Array {
  const f = new Int16Array(1920);
  for (let i = 0; i < 960; i++) {
    const v = Math.round(amp * 32767 * Math.sin((2 * Math.PI * freq * (k * 960 + i)) / 48000));
    f[2 * i] = v;
    f[2 * i + 1] = v;
  }
  return f;
}

const left = (f: Int16Array): Float32Array => {
  const x = new Float32Array(960);
  for (let i = 0; i < 960; i++) x[i] = (f[2 * i] as number) / 32768;
  return x;
};

function feedOf(freq: number, frames: number): OverlayFeed {
  const feed = new OverlayFeed();
  for (let k = 0; k < frames; k++) feed.frames.push(toneFrame(freq, 0.25, k));
  feed.ended = true;
  return feed;
}

describe('TrackBus', () => {
  it('applies volume and the loudness gain, ramped over the frame after a change', () => {
    const bus = new TrackBus({ volume: 0.5, normGain: 0.5 });
    const out = bus.process(toneFrame(440, 0.5, 0))[0] as Int16Array;
    expect(toneDb(left(out), 440)).toBeCloseTo(20 * Math.log10(0.125), 1);
    bus.volume = 1;
    bus.process(toneFrame(440, 0.5, 1));
    const after = bus.process(toneFrame(440, 0.5, 2))[0] as Int16Array;
    expect(toneDb(left(after), 440)).toBeCloseTo(20 * Math.log10(0.25), 1);
  });

  it('mixes an overlay from the next frame, ducks the music, reports start and end at output frames', () => {
    const bus = new TrackBus();
    for (let k = 0; k < 5; k++) bus.process(toneFrame(440, 0.25, k));
    bus.addOverlay(7, feedOf(1500, 30), { duckDb: -12, fadeMs: 20 });
    const outs: Int16Array[] = [];
    for (let k = 5; k < 50; k++) outs.push(...bus.process(toneFrame(440, 0.25, k)));
    expect(bus.takeEvents()).toEqual([
      { kind: 'overlayStart', id: 7, frame: 5 },
      { kind: 'overlayEnd', id: 7, frame: 35, read: 30 },
    ]);
    const music = outs.map((o) => toneDb(left(o), 440));
    expect(music[10]! - 20 * Math.log10(0.25)).toBeCloseTo(-12, 0);
    expect(toneDb(left(outs[10]!), 1500)).toBeCloseTo(-12, 0);
    expect(music[44]! - 20 * Math.log10(0.25)).toBeCloseTo(0, 1);
  });

  it('rewind makes the last frames again with a new overlay in them, spliced without a step', () => {
    const bus = new TrackBus();
    const made: Int16Array[] = [];
    for (let k = 0; k < 30; k++) made.push(...bus.process(toneFrame(440, 0.25, k)));
    bus.addOverlay(1, feedOf(1500, 100));
    const again = bus.rewind(10);
    expect(again).not.toBeNull();
    expect(again).toHaveLength(10);
    expect(bus.produced).toBe(30);
    expect(bus.takeEvents()).toEqual([{ kind: 'overlayStart', id: 1, frame: 20 }]);
    // The first frame made again starts where the frame it replaces started (crossfaded over it).
    expect(Math.abs((again![0]![0] as number) - (made[20]![0] as number))).toBeLessThan(400);
    expect(toneDb(left(again![5]!), 1500)).toBeGreaterThan(-14);
    // Too far back, or nothing: null / empty.
    expect(bus.rewind(65)).toBeNull();
    expect(bus.rewind(0)).toEqual([]);
  });

  it('a rewind does not skip an overlay that was already playing: its frames are read again', () => {
    const bus = new TrackBus();
    bus.addOverlay(1, feedOf(1500, 40));
    for (let k = 0; k < 20; k++) bus.process(toneFrame(440, 0.25, k));
    bus.rewind(10);
    let overlayFrames = 0;
    for (let k = 20; k < 60; k++) {
      const o = bus.process(toneFrame(440, 0.25, k))[0] as Int16Array;
      if (toneDb(left(o), 1500) > -20) overlayFrames++;
    }
    // 40 frames in all: 10 before the rewind point, 10 made again, 20 after.
    expect(overlayFrames).toBe(20);
  });

  it('cutBack forgets frames as if unsent: the overlay hands over from there', () => {
    const bus = new TrackBus();
    bus.addOverlay(3, feedOf(1500, 100));
    for (let k = 0; k < 30; k++) bus.process(null);
    expect(bus.cutBack(12)).toBe(true);
    const left_ = bus.beginTail();
    expect(left_.map((o) => [o.id, o.cursor])).toEqual([[3, 18]]);
  });

  it('collects a tail for the next track, which fades it out with equal power while it fades in', () => {
    const a = new TrackBus();
    for (let k = 0; k < 10; k++) a.process(toneFrame(440, 0.25, k));
    a.beginTail();
    for (let k = 10; k < 60; k++) a.processTail(toneFrame(440, 0.25, k));
    const tail = a.takeTail();
    expect(tail.length).toBe(50 * 1920);
    const b = new TrackBus();
    b.setIncomingTail(tail);
    const outs: Int16Array[] = [];
    for (let k = 0; k < 60; k++) outs.push(...b.process(toneFrame(660, 0.25, k)));
    const l440 = outs.map((o) => toneDb(left(o), 440));
    const l660 = outs.map((o) => toneDb(left(o), 660));
    expect(l440[1]!).toBeGreaterThan(-13);
    expect(l660[1]!).toBeLessThan(-25);
    expect(l440[25]! - l660[25]!).toBeLessThan(1); // half way: both at -3 dB
    expect(l440[55]!).toBeLessThan(-60);
    expect(l660[55]!).toBeCloseTo(-12, 0);
  });
});

describe('a track with an overlay', () => {
  it('a rewind right after an overlay was added re-mixes it from its start, and the clip then plays to its end', async () => {
    const { toneWav } = await import('../../engine/wire.js');
    const track = await openTrack(toneWav(4, [[440, 0.25]]), { roomBitrate: 96000 });
    const events: string[] = [];
    track.onEvent = (e) => events.push(`${e.kind} ${e.frame}`);
    const it = track[Symbol.asyncIterator]();
    for (let k = 0; k < 40; k++) await it.next();
    await track.addOverlay?.(1, toneWav(2, [[1500, 0.25]]));
    expect(track.rewind(10)).toBe(true); // the 30 frames from 10 on are made again, with the clip from frame 10
    const dec = createOpusDecoder();
    let clipFrames = 0;
    let n = 10;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const pcm = dec.decode(r.value.data);
      const x = new Float32Array(960);
      for (let i = 0; i < 960; i++) x[i] = (pcm[2 * i] as number) / 32768;
      if (toneDb(x, 1500) > -20) clipFrames++;
      n++;
    }
    dec.close();
    expect(n).toBe(200);
    expect(events).toEqual(['overlayStart 10', 'overlayEnd 110']);
    expect(Math.abs(clipFrames - 100)).toBeLessThanOrEqual(2);
  });
});

describe("normalize: 'track' from tags", () => {
  it('takes the gain from an R128_TRACK_GAIN tag (not a measurement) and moves it to the target', async () => {
    // 2 s of a -6 dBFS tone, tagged as needing -10 dB to reach -23 LUFS: -3 dB to reach -16.
    const enc = createOpusEncoder({ bitrate: 96000 });
    const w = new OggOpusWriter({ comments: [['R128_TRACK_GAIN', String(-10 * 256)]] });
    const parts: Uint8Array[] = [w.header()];
    for (let k = 0; k < 100; k++) parts.push(...w.write(enc.encode(toneFrame(440, 0.5, k)), 960));
    parts.push(w.end());
    enc.close();
    const bytes = Buffer.concat(parts);
    const levels: Record<string, number> = {};
    for (const normalize of ['off', 'track'] as const) {
      const track = await openTrack(new Uint8Array(bytes), { normalize, roomBitrate: 96000 });
      expect(track.info.gainTags).toEqual({ R128_TRACK_GAIN: '-2560' });
      const dec = createOpusDecoder();
      const ls: number[] = [];
      for await (const f of track) {
        const pcm = dec.decode(f.data);
        const x = new Float32Array(960);
        for (let i = 0; i < 960; i++) x[i] = (pcm[2 * i] as number) / 32768;
        ls.push(toneDb(x, 440));
      }
      dec.close();
      levels[normalize] = ls.slice(20, 80).sort((p, q) => p - q)[30] as number;
    }
    expect(levels['track']! - levels['off']!).toBeCloseTo(-3, 0);
  });
});

describe("normalize: 'track' from an MP3's ID3 ReplayGain (TXXX)", () => {
  /** An ID3v2.3 tag with TXXX frames; `wide`: UTF-16 with BOMs (encoding 1), else Latin-1. */
  function id3(pairs: [string, string][], wide: boolean): Buffer {
    const frames = pairs.map(([d, v]) => {
      const text = wide
        ? Buffer.concat([Buffer.from([1, 0xff, 0xfe]), Buffer.from(d, 'utf16le'), Buffer.from([0, 0, 0xff, 0xfe]), Buffer.from(v, 'utf16le')])
        : Buffer.concat([Buffer.from([0]), Buffer.from(d, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1')]);
      const h = Buffer.alloc(10);
      h.write('TXXX', 0, 'latin1');
      h.writeUInt32BE(text.length, 4);
      return Buffer.concat([h, text]);
    });
    const body = Buffer.concat(frames);
    const head = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]);
    let n = body.length;
    for (let i = 9; i >= 6; i--) {
      head[i] = n & 0x7f;
      n >>= 7;
    }
    return Buffer.concat([head, body]);
  }

  it.each([false, true])('reads REPLAYGAIN_TRACK_GAIN / _PEAK (UTF-16 %s) and applies it moved to the target', async (wide) => {
    const { readFileSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const mp3 = readFileSync(fileURLToPath(new URL('../../../fixtures/media/sine-stereo-44k-vbr.mp3', import.meta.url)));
    const tagged = new Uint8Array(Buffer.concat([id3([['replaygain_track_gain', '-6.00 dB'], ['REPLAYGAIN_TRACK_PEAK', '0.5']], wide), mp3]));
    const { probe } = await import('../../../src/media/probe.js');
    expect((await probe(tagged)).gainTags).toEqual({ REPLAYGAIN_TRACK_GAIN: '-6.00 dB', REPLAYGAIN_TRACK_PEAK: '0.5' });
    const levels: Record<string, number> = {};
    for (const normalize of ['off', 'track'] as const) {
      const track = await openTrack(tagged, { normalize, roomBitrate: 96000 });
      const dec = createOpusDecoder();
      let sum = 0;
      let n = 0;
      let k = 0;
      for await (const f of track) {
        const pcm = dec.decode(f.data);
        if (k++ < 10) continue;
        for (let i = 0; i < pcm.length; i++) sum += ((pcm[i] as number) / 32768) ** 2;
        n += pcm.length;
      }
      dec.close();
      levels[normalize] = 10 * Math.log10(sum / n);
    }
    // -6 dB to reach ReplayGain's -18 LUFS reference, so -4 dB to reach -16; the 0.5 peak allows up to +5 dB.
    expect(levels['track']! - levels['off']!).toBeCloseTo(-4, 0);
  });
});

/**
 * Mixing, measured on the wire: what the receiver got is decoded back from Opus and its tones measured (Goertzel).
 * Overlays with ducking, crossfade, loudness normalisation, filters, and the queue moves.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeWire, playerRig, span, toneDb, toneWav, type RigOptions } from './wire.js';

const epoch = (): number => performance.timeOrigin + performance.now();
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const rig = (options: RigOptions = {}): ReturnType<typeof playerRig> => playerRig(cleanups, options);

describe('overlays', () => {
  it('duck the music by duckDb while the clip plays (heard long before the 400 ms buffer), and the music comes back after it', async () => {
    const { player, stop } = await rig();
    const events: { kind: string; at: number }[] = [];
    player.on('overlayStart', () => events.push({ kind: 'start', at: epoch() }));
    player.on('overlayEnd', (e) => events.push({ kind: `end ${e.reason}`, at: epoch() }));
    const item = player.enqueue(toneWav(5, [[440, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = epoch();
    const ov = player.overlay(toneWav(1.5, [[1500, 0.25]]), { duckDb: -12, fadeMs: 150 });
    const end = await ov.done;
    expect(end.reason).toBe('finished');
    expect(Math.abs(end.playedSec - 1.5)).toBeLessThan(0.1);
    expect((await item.done).reason).toBe('finished');
    const got = await stop();
    const frames = decodeWire(got);
    const music = frames.map((f) => toneDb(f, 440));
    const clip = frames.map((f) => toneDb(f, 1500));
    const first = clip.findIndex((l) => l > -20);
    let last = first;
    while ((clip[last + 1] as number) > -20) last++;
    const heardMs = (got.at[first] as number) - t0;
    const base = median(music.filter((_, i) => (got.at[i] as number) < t0 && i > 10));
    const ducked = music.slice(first + 10, last - 1);
    const after = music.slice(last + 15, -8);
    console.log(`overlay heard ${heardMs.toFixed(0)} ms after the call; music ${base.toFixed(2)} dB, ducked ${median(ducked).toFixed(2)} dB (${Math.min(...ducked).toFixed(2)}..${Math.max(...ducked).toFixed(2)}), after ${median(after).toFixed(2)} dB; clip ${median(clip.slice(first + 2, last - 1)).toFixed(2)} dB over ${last - first + 1} frames`);
    expect(heardMs).toBeLessThan(250);
    expect(last - first + 1).toBeGreaterThanOrEqual(74);
    expect(last - first + 1).toBeLessThanOrEqual(77);
    for (const l of ducked) expect(Math.abs(l - (base - 12))).toBeLessThan(1.5);
    for (const l of clip.slice(first + 2, last - 1)) expect(Math.abs(l - -12.04)).toBeLessThan(1.5);
    for (const l of after) expect(Math.abs(l - base)).toBeLessThan(1);
    // The events come when the clip's first and last frames are on the wire.
    expect(events.map((e) => e.kind)).toEqual(['start', 'end finished']);
    const startOff = (events[0] as { at: number }).at - (got.at[first] as number);
    const endOff = (events[1] as { at: number }).at - (got.at[last] as number);
    console.log(`overlayStart ${startOff.toFixed(0)} ms from the clip's first packet, overlayEnd ${endOff.toFixed(0)} ms from its last`);
    expect(Math.abs(startOff)).toBeLessThan(50);
    expect(Math.abs(endOff)).toBeLessThan(50);
  });

  it('with nothing playing a clip plays alone; two clips at once both play over ducked music', async () => {
    const { player, stop } = await rig({ threads: false });
    const trackEvents: string[] = [];
    player.on('trackStart', () => trackEvents.push('start'));
    const alone = player.overlay(toneWav(1, [[1500, 0.25]]));
    expect((await alone.done).reason).toBe('finished');
    await player.drained();
    expect(trackEvents).toEqual([]);
    expect(player.state.status).toBe('idle');
    const item = player.enqueue(toneWav(3, [[440, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 800));
    const a = player.overlay(toneWav(1, [[1500, 0.125]]), { duckDb: -6 });
    const b = player.overlay(toneWav(1, [[2500, 0.125]]), { duckDb: -12 });
    expect(player.overlays.map((o) => o.id)).toEqual([a.id, b.id]);
    expect((await a.done).reason).toBe('finished');
    expect((await b.done).reason).toBe('finished');
    await item.done;
    const frames = decodeWire(await stop());
    const clipAlone = frames.findIndex((f) => toneDb(f, 1500) > -20);
    expect(clipAlone).toBeGreaterThanOrEqual(0);
    expect(clipAlone).toBeLessThan(10);
    const both = frames.map((f, i) => (toneDb(f, 1500) > -26 && toneDb(f, 2500) > -26 ? i : -1)).filter((i) => i >= 0);
    expect(both.length).toBeGreaterThan(45);
    const mid = both.slice(10, -3);
    const base = median(frames.slice((both[0] as number) - 30, (both[0] as number) - 5).map((f) => toneDb(f, 440)));
    // The deepest duck of the clips playing.
    for (const i of mid) expect(Math.abs(toneDb(frames[i] as Float32Array, 440) - (base - 12))).toBeLessThan(1.5);
  });

  it('a clip still playing when its track ends carries on over the next one, without a gap', async () => {
    const { player, stop } = await rig();
    player.enqueue(toneWav(1.5, [[440, 0.25]]));
    const second = player.enqueue(toneWav(3, [[660, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 700));
    const ov = player.overlay(toneWav(2, [[1500, 0.25]]));
    const end = await ov.done;
    expect(end.reason).toBe('finished');
    expect(Math.abs(end.playedSec - 2)).toBeLessThan(0.1);
    await second.done;
    const frames = decodeWire(await stop());
    const clip = frames.map((f) => toneDb(f, 1500) > -20);
    const first = clip.indexOf(true);
    const lastIdx = clip.lastIndexOf(true);
    const holes = clip.slice(first, lastIdx + 1).filter((x) => !x).length;
    const overA = frames.slice(first, lastIdx).filter((f) => toneDb(f, 440) > -40).length;
    const overB = frames.slice(first, lastIdx).filter((f) => toneDb(f, 660) > -40).length;
    console.log(`carried clip: ${lastIdx - first + 1} frames, ${holes} without it; over track 1 ${overA}, over track 2 ${overB}`);
    expect(holes).toBe(0);
    expect(Math.abs(lastIdx - first + 1 - 100)).toBeLessThanOrEqual(3);
    expect(overA).toBeGreaterThan(10);
    expect(overB).toBeGreaterThan(10);
  });

  it('music queued while a clip plays alone starts at once, the clip carrying on over it', async () => {
    const { player, stop } = await rig();
    const ov = player.overlay(toneWav(2, [[1500, 0.25]]));
    await new Promise((r) => player.once('overlayStart', r));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = epoch();
    const item = player.enqueue(toneWav(2, [[440, 0.25]]));
    expect((await ov.done).reason).toBe('finished');
    expect((await item.done).reason).toBe('finished');
    const got = await stop();
    const frames = decodeWire(got);
    const clip = frames.map((f) => toneDb(f, 1500) > -30);
    const first = clip.indexOf(true);
    const lastIdx = clip.lastIndexOf(true);
    const musicAt = got.at[frames.findIndex((f) => toneDb(f, 440) > -30)] as number;
    console.log(`music under a lone clip: on the wire ${(musicAt - t0).toFixed(0)} ms after enqueue; clip ${lastIdx - first + 1} frames, ${clip.slice(first, lastIdx + 1).filter((x) => !x).length} without it`);
    expect(musicAt - t0).toBeLessThan(700);
    expect(clip.slice(first, lastIdx + 1).every((x) => x)).toBe(true);
    expect(Math.abs(lastIdx - first + 1 - 100)).toBeLessThanOrEqual(3);
  });

  it.each([true, false])('a clip asked for while the track is still opening plays over it from its start (threads %s)', async (threads) => {
    const { player, stop } = await rig({ threads });
    const item = player.enqueue(toneWav(2, [[440, 0.25]]));
    const ov = player.overlay(toneWav(1, [[1500, 0.25]]));
    expect((await ov.done).reason).toBe('finished');
    expect((await item.done).reason).toBe('finished');
    const frames = decodeWire(await stop());
    const music = frames.filter((f) => toneDb(f, 440) > -40).length;
    const clip = frames.filter((f) => toneDb(f, 1500) > -30).length;
    expect(Math.abs(music - 100)).toBeLessThanOrEqual(3);
    expect(Math.abs(clip - 50)).toBeLessThanOrEqual(3);
  });

  it.each([true, false])('a clip given as a stream is read once and still carries on over the next track (threads %s)', async (threads) => {
    const { player } = await rig({ threads });
    player.enqueue(toneWav(1, [[440, 0.25]]));
    const second = player.enqueue(toneWav(2, [[660, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    const ov = player.overlay(Readable.from([toneWav(1.5, [[1500, 0.25]])]));
    const end = await ov.done;
    expect(end.reason).toBe('finished');
    expect(Math.abs(end.playedSec - 1.5)).toBeLessThan(0.1);
    await second.done;
  });

  it.each([true, false])('a clip over an Opus track sent unchanged: the track switches to transcoding and both play to their end (threads %s)', async (threads) => {
    const { fileURLToPath } = await import('node:url');
    const { player, stop } = await rig({ threads });
    const infos: string[] = [];
    player.on('trackStart', (e) => infos.push(e.info.mode));
    const item = player.enqueue(fileURLToPath(new URL('../../fixtures/media/sine-opus-48k.ogg', import.meta.url)));
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 300));
    const ov = player.overlay(toneWav(0.5, [[1500, 0.25]]));
    const end = await ov.done;
    expect(end.reason).toBe('finished');
    expect(Math.abs(end.playedSec - 0.5)).toBeLessThan(0.1);
    expect((await item.done).reason).toBe('finished');
    expect(infos).toEqual(['passthrough']);
    const frames = decodeWire(await stop());
    const clip = frames.filter((f) => toneDb(f, 1500) > -30).length;
    expect(Math.abs(clip - 25)).toBeLessThanOrEqual(2);
  });

  it('a clip that cannot be decoded settles with error; the music goes on', async () => {
    const { player } = await rig();
    const item = player.enqueue(toneWav(1.5, [[440, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    const ov = player.overlay(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const end = await ov.done;
    expect(end.reason).toBe('error');
    expect(end.error?.code).toMatch(/INVALID_INPUT|UNSUPPORTED_FORMAT/);
    expect((await item.done).reason).toBe('finished');
    expect(() => player.overlay('x.mp3', { duckDb: 3 })).toThrow(/duckDb/);
  });
});

describe('crossfade', () => {
  it('overlaps the end of one track with the next: no gap, no dip deeper than 3 dB, both tones in the overlap', async () => {
    const { player, stop } = await rig({ crossfadeMs: 1000 });
    const a = player.enqueue(toneWav(3, [[440, 0.25]]));
    const b = player.enqueue(toneWav(3, [[660, 0.25]]));
    expect((await a.done).reason).toBe('finished');
    expect((await b.done).reason).toBe('finished');
    const got = await stop();
    const frames = decodeWire(got);
    // One stream: consecutive sequence numbers and timestamps 960 apart, with one marker at the start.
    for (let i = 1; i < got.seq.length; i++) {
      expect(((got.seq[i] as number) - (got.seq[i - 1] as number) + 65536) % 65536).toBe(1);
      expect(((got.ts[i] as number) - (got.ts[i - 1] as number) + 2 ** 32) % 2 ** 32).toBe(960);
    }
    const sound = frames.map((f) => 20 * Math.log10(Math.sqrt(f.reduce((s, v) => s + v * v, 0) / f.length) + 1e-12));
    const audible = sound.map((l, i) => (l > -40 ? i : -1)).filter((i) => i >= 0);
    const lo = (audible[0] as number) + 3;
    const hi = (audible[audible.length - 1] as number) - 3;
    const base = median(sound.slice(lo, lo + 40));
    const dip = Math.min(...sound.slice(lo, hi)) - base;
    const overlap = frames.filter((f) => toneDb(f, 440) > -30 && toneDb(f, 660) > -30).length;
    console.log(`crossfade: ${audible.length} audible frames (6 s - 1 s = 250 expected), deepest dip ${dip.toFixed(2)} dB, ${overlap} frames with both tones`);
    expect(Math.abs(audible.length - 250)).toBeLessThanOrEqual(4);
    expect(dip).toBeGreaterThan(-3);
    expect(overlap).toBeGreaterThan(35);
  });

  it('clips asked for around a crossfade all play to their end (into the kept tail, the fade, the next track)', async () => {
    const { player, stop } = await rig({ crossfadeMs: 1000 });
    const a = player.enqueue(toneWav(2, [[440, 0.25]]));
    const b = player.enqueue(toneWav(2, [[660, 0.25]]));
    await new Promise((r) => player.once('trackStart', r));
    const clips = [];
    // At 0.3, 0.5 ... 1.3 s: the outgoing track's end (from 1 s) is kept for the fade while they are asked for.
    for (let k = 0; k < 6; k++) {
      await new Promise((r) => setTimeout(r, k === 0 ? 300 : 200));
      clips.push(player.overlay(toneWav(0.5, [[1500, 0.25]])));
    }
    const ends = await Promise.all(clips.map((c) => c.done));
    await a.done;
    await b.done;
    await stop();
    console.log(`clips around a crossfade: ${ends.map((e) => `${e.reason} ${e.playedSec.toFixed(2)}`).join(', ')}`);
    for (const e of ends) {
      expect(e.reason).toBe('finished');
      expect(Math.abs(e.playedSec - 0.5)).toBeLessThan(0.1);
    }
  });
});

describe('loudness normalisation', () => {
  it("brings two tracks recorded 20 dB apart within 1.5 dB of each other and of the target with normalize: 'track'", async () => {
    for (const normalize of ['off', 'track'] as const) {
      const { player, stop } = await rig({ normalize, normalizeTargetLufs: -16 });
      const a = player.enqueue(toneWav(3, [[440, 0.5]]));
      const b = player.enqueue(toneWav(3, [[440, 0.05]]));
      await a.done;
      await b.done;
      const frames = decodeWire(await stop());
      const levels = frames.map((f) => toneDb(f, 440));
      const audible = levels.map((l, i) => (l > -60 ? i : -1)).filter((i) => i >= 0);
      const s = audible[0] as number;
      const la = median(levels.slice(s + 20, s + 140));
      const lb = median(levels.slice(s + 170, s + 290));
      // A stereo sine at -15.3 dBFS measures -16 LUFS (BS.1770: -0.691 + 10 log10 of the summed mean squares).
      console.log(`normalize ${normalize}: track 1 ${la.toFixed(2)} dB, track 2 ${lb.toFixed(2)} dB`);
      if (normalize === 'off') {
        expect(Math.abs(la - lb - 20)).toBeLessThan(1);
      } else {
        expect(Math.abs(la - lb)).toBeLessThan(1.5);
        expect(Math.abs(la - -15.3)).toBeLessThan(1);
      }
      await cleanups.pop()?.();
    }
  });
});

describe('filters', () => {
  const three = (): Uint8Array => toneWav(4, [[100, 0.1], [1000, 0.1], [10000, 0.1]]);

  it('an equalizer band set mid-track is heard within 100 ms, with its gain at its band only', async () => {
    const { player, stop } = await rig();
    const item = player.enqueue(three());
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = epoch();
    player.filters = { equalizer: [{ band: 8, gain: 0.25 }] }; // 1000 Hz, ×2 = +6.02 dB
    expect(player.filters.equalizer).toEqual([{ band: 8, gain: 0.25 }]);
    await item.done;
    const got = await stop();
    const frames = decodeWire(got);
    const k = frames.map((f) => toneDb(f, 1000));
    const before = median(k.filter((_, i) => (got.at[i] as number) < t0 && i > 10));
    const heard = got.at.findIndex((t, i) => t > t0 && (k[i] as number) > before + 3);
    const at = (got.at[heard] as number) - t0;
    const after = frames.slice(heard + 5, -8);
    const gain1k = median(after.map((f) => toneDb(f, 1000))) - before;
    const gain100 = median(after.map((f) => toneDb(f, 100))) - median(frames.slice(10, 40).map((f) => toneDb(f, 100)));
    console.log(`equalizer: heard ${at.toFixed(0)} ms after the change; 1 kHz ${gain1k.toFixed(2)} dB, 100 Hz ${gain100.toFixed(2)} dB`);
    expect(at).toBeLessThan(100);
    expect(Math.abs(gain1k - 6.02)).toBeLessThan(1);
    expect(Math.abs(gain100)).toBeLessThan(1);
  });

  it('lowPass cuts 10 kHz and keeps 100 Hz; timescale speed shortens, pitch raises', async () => {
    {
      const { player, stop } = await rig({ filters: { lowPass: { smoothing: 20 } } });
      await player.enqueue(toneWav(2, [[100, 0.1], [10000, 0.1]])).done;
      const frames = decodeWire(await stop()).slice(10, 80);
      const l100 = median(frames.map((f) => toneDb(f, 100)));
      const l10k = median(frames.map((f) => toneDb(f, 10000)));
      console.log(`lowPass 20: 100 Hz ${l100.toFixed(2)} dB, 10 kHz ${l10k.toFixed(2)} dB (both were -20)`);
      expect(Math.abs(l100 - -20)).toBeLessThan(1);
      expect(l10k).toBeLessThan(-40);
      await cleanups.pop()?.();
    }
    {
      const { player, stop } = await rig({ filters: { timescale: { speed: 1.5 } } });
      await player.enqueue(toneWav(3, [[440, 0.25]])).done;
      const frames = decodeWire(await stop());
      const audible = frames.filter((f) => toneDb(f, 440) > -30).length;
      console.log(`timescale speed 1.5: ${audible} frames of 440 Hz (150 / 1.5 = 100 expected)`);
      expect(Math.abs(audible - 100)).toBeLessThanOrEqual(5);
      await cleanups.pop()?.();
    }
    {
      const { player, stop } = await rig({ filters: { timescale: { pitch: 1.5 } } });
      await player.enqueue(toneWav(2, [[440, 0.25]])).done;
      const frames = decodeWire(await stop()).slice(10, 80);
      const l660 = median(frames.map((f) => toneDb(f, 660)));
      const l440 = median(frames.map((f) => toneDb(f, 440)));
      console.log(`timescale pitch 1.5: 660 Hz ${l660.toFixed(2)} dB, 440 Hz ${l440.toFixed(2)} dB`);
      expect(l660).toBeGreaterThan(-16);
      expect(l440).toBeLessThan(-35);
    }
  });

  it('rejects a bad filter and keeps the ones in force', async () => {
    const { player } = await rig({ threads: false });
    player.filters = { lowPass: { smoothing: 5 } };
    expect(() => (player.filters = { equalizer: [{ band: 15, gain: 0 }] })).toThrow(/band/);
    expect(player.filters).toEqual({ lowPass: { smoothing: 5 } });
  });
});

describe('queue moves', () => {
  const tone = (f: number, s = 1): Uint8Array => toneWav(s, [[f, 0.25]]);
  /** Which tone plays in each 100 ms of what was received. */
  const sequence = (frames: Float32Array[], tones: number[]): number[] => {
    const out: number[] = [];
    for (let i = 0; i + 5 <= frames.length; i += 5) {
      const x = span(frames, i, i + 5);
      const best = tones.map((f) => [f, toneDb(x, f)] as const).sort((p, q) => q[1] - p[1])[0] as readonly [number, number];
      if (best[1] > -30) out.push(best[0]);
    }
    return out;
  };
  const runs = (s: number[]): [number, number][] => {
    const r: [number, number][] = [];
    for (const f of s) {
      const lastRun = r[r.length - 1];
      if (lastRun !== undefined && lastRun[0] === f) lastRun[1]++;
      else r.push([f, 1]);
    }
    return r;
  };

  it('insert, move and shuffle reorder what waits, with the items events and promises of enqueue', async () => {
    const { player, stop } = await rig({ threads: false });
    const a = player.enqueue(tone(440));
    await new Promise((r) => player.once('trackStart', r));
    const b = player.enqueue(tone(550));
    const c = player.insert(tone(660), 0);
    expect(player.queue.map((q) => q.id)).toEqual([c.id, b.id]);
    expect(player.move(1, 0)).toBe(true);
    expect(player.queue.map((q) => q.id)).toEqual([b.id, c.id]);
    expect(player.move(5, 0)).toBe(false);
    const d = player.insert(tone(880), 99);
    player.shuffle();
    expect(player.queue.map((q) => q.id).sort()).toEqual([b.id, c.id, d.id].sort());
    const order = player.queue.map((q) => q.id);
    const ends: number[] = [];
    player.on('trackEnd', (e) => ends.push(e.item.id));
    for (const x of [a, b, c, d]) expect((await x.done).reason).toBe('finished');
    expect(ends).toEqual([a.id, ...order]);
    expect(() => player.insert(tone(440), -1)).toThrow(/index/);
    await stop();
  });

  it('playNow interrupts the current track, which resumes where it was once the new one ends', async () => {
    const { player, stop } = await rig();
    const a = player.enqueue(tone(440, 3));
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 1000));
    const starts: number[] = [];
    player.on('trackStart', (e) => starts.push(e.item.id));
    let aSettled = false;
    void a.done.then(() => (aSettled = true));
    const b = player.playNow(tone(660, 1));
    expect((await b.done).reason).toBe('finished');
    expect(aSettled).toBe(false);
    const endA = await a.done;
    expect(endA.reason).toBe('finished');
    const frames = decodeWire(await stop());
    const r = runs(sequence(frames, [440, 660]));
    console.log(`playNow: ${JSON.stringify(r)} (100 ms blocks)`);
    expect(r.map((x) => x[0])).toEqual([440, 660, 440]);
    // 3 s of A in all, give or take a block on each side of the interruption.
    expect(Math.abs((r[0] as [number, number])[1] + (r[2] as [number, number])[1] - 30)).toBeLessThanOrEqual(3);
    expect(Math.abs((r[1] as [number, number])[1] - 10)).toBeLessThanOrEqual(1);
    expect(starts).toEqual([b.id]);
    expect(Math.abs(endA.playedSec - 3)).toBeLessThan(0.3);
  });

  it('previous plays the item before again, then the current one from its start; again walks further back', async () => {
    const { player, stop } = await rig({ threads: false });
    expect(player.previous()).toBeUndefined();
    const a = player.enqueue(tone(440, 0.6));
    const b = player.enqueue(tone(550, 0.6));
    const c = player.enqueue(tone(660, 1.5));
    await a.done;
    await b.done;
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 300));
    const p1 = player.previous(); // b again, then c from its start
    expect(p1?.input).toBe(b.input);
    expect((await c.done).reason).toBe('skipped');
    await new Promise((r) => player.once('trackStart', r));
    await new Promise((r) => setTimeout(r, 300));
    const p2 = player.previous(); // a (c's interrupted play is not history), then b again
    expect(p2?.input).toBe(a.input);
    await player.drained();
    const seq = runs(sequence(decodeWire(await stop()), [440, 550, 660])).map((x) => x[0]);
    console.log(`previous: ${JSON.stringify(seq)}`);
    expect(seq).toEqual([440, 550, 660, 550, 440, 550, 660]);
  });
});

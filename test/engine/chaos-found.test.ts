/**
 * Bugs found by the chaos monkey (`npm run chaos`, bench/chaos.ts), each reduced to the smallest sequence that showed
 * it, named after what must hold; the comments say what went wrong before the fix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Player } from '../../src/engine/player.js';
import { runChaosChild, type Step } from './chaos.js';
import { playerRig, toneWav } from './wire.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const rig = (threads: boolean): ReturnType<typeof playerRig> => playerRig(cleanups, { threads });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tone = (f: number, s: number): Uint8Array => toneWav(s, [[f, 0.2]]);

/** Every trackStart / trackEnd, in order, as "start 3" / "end 3 finished". */
function trackEvents(player: Player): string[] {
  const ev: string[] = [];
  player.on('trackStart', (e) => ev.push(`start ${e.item.id}`));
  player.on('trackEnd', (e) => ev.push(`end ${e.item.id} ${e.reason}`));
  return ev;
}

describe('an overlay asked for in the last 400 ms of a track, with a short track opened ahead (threads; it livelocked)', () => {
  // The process spins at 100% CPU for good, in microtasks, so no timer ever fires (not even vitest's timeout): it
  // runs in a child process, killed after 20 s. Stack of the spinning thread (inspector, Debugger.pause):
  //   RemoteTrack.addOverlay (mediaPool.ts:229, rejects at once: "the track has ended", B's worker already sent 'end')
  //   ← Player.#attach (player.ts:1204) ← Player.#recarry (player.ts:1230, attaches to #next again: its
  //   `sourceEnded` is only set once it is promoted) ← #attach's rejection handler (player.ts:1213, ABORTED → #recarry)
  //   ← ... for ever.
  it('enqueue A (1 s), enqueue B (0.3 s), overlay 0.75 s into A: everything settles', { timeout: 40_000 }, async () => {
    const steps: Step[] = [
      { op: 'enqueue', sec: 1, freq: 440, ms: 0 },
      { op: 'enqueue', sec: 0.3, freq: 660, ms: 0 },
      { op: 'waitTrackStart', ms: 750 },
      { op: 'overlay', sec: 0.5, freq: 1500, duckDb: -12, fadeMs: 150, volume: 1, ms: 1000 },
    ];
    const r = await runChaosChild(steps, { threads: true, ending: 'drain', probe: false }, 12_000);
    if (r.failures.length > 0) console.error(r.log.join('\n'));
    expect(r.failures).toEqual([]);
  });
});

describe('trackStart once per play of an item', () => {
  it.each([true, false])('seek(0) does not announce trackStart again, as no seek does (threads %s)', async (threads) => {
    const { player } = await rig(threads);
    const ev = trackEvents(player);
    const a = player.enqueue(tone(440, 1));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(300);
    player.seek(0);
    await a.done;
    expect(ev).toEqual([`start ${a.id}`, `end ${a.id} finished`]);
  });
});

describe('playNow: the interrupted track keeps its resume position when it was opened ahead and the queue then changes', () => {
  // A is interrupted by playNow(B) at ~1 s. B is short, so its source is soon all handed to the sender and A is opened
  // ahead behind it (#prefetch → #seekOf, which consumes A's resumeSec). A queue edit then cancels that open
  // (#editQueue → #cancelNext(true)) and puts A back WITHOUT its resumeSec: A starts again from 0.
  it.each([
    ['shuffle()', (p: Player): void => p.shuffle()],
    ['move(0, 0)', (p: Player): void => void p.move(0, 0)],
    ['insert(x, 5)', (p: Player): void => void p.insert(tone(880, 0.3), 5)],
    ['playNow(C)', (p: Player): void => void p.playNow(tone(990, 0.3))],
  ] as const)('after %s, A resumes where it was: one trackStart, 2 s heard in all (threads true)', async (_name, edit) => {
    await check(true, edit);
  });
  it.each([
    ['shuffle()', (p: Player): void => p.shuffle()],
    ['playNow(C)', (p: Player): void => void p.playNow(tone(990, 0.3))],
  ] as const)('after %s, A resumes where it was (threads false)', async (_name, edit) => {
    await check(false, edit);
  });

  async function check(threads: boolean, edit: (p: Player) => void): Promise<void> {
    const { player } = await rig(threads);
    const ev = trackEvents(player);
    const a = player.enqueue(tone(440, 2));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(1000);
    const b = player.playNow(tone(660, 0.6));
    // B's 0.6 s are all handed to the sender (buffer 160 ms, 400 ms threaded) but not yet played: A is opened ahead
    // behind it.
    await sleep(threads ? 450 : 530);
    edit(player);
    const end = await a.done;
    await player.drained();
    const starts = ev.filter((e) => e === `start ${a.id}`).length;
    expect({ starts, playedSec: Math.round(end.playedSec * 10) / 10 }).toEqual({ starts: 1, playedSec: 2 });
    expect((await b.done).reason).toBe('finished');
  }

});

describe('overlays while paused', () => {
  // pause() stops the wire, but the overlay events are scheduled on timers from the frames handed to the sender
  // (#releaseEvents: delay = bufferedMs - ...), which do not know about the pause: the clip is reported heard to its
  // end (overlayStart, overlayEnd 'finished', done settled) though none of it went out.
  it.each([true, false])('a clip added while paused starts and ends only once the stream resumes (threads %s)', async (threads) => {
    const { player, stop } = await rig(threads);
    const events: string[] = [];
    player.on('overlayStart', () => events.push('start'));
    player.on('overlayEnd', (e) => events.push(`end ${e.reason}`));
    const a = player.enqueue(tone(440, 2));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(300);
    player.pause();
    await sleep(300);
    const ov = player.overlay(tone(1500, 0.3));
    let settled = false;
    void ov.done.then(() => (settled = true));
    await sleep(1500);
    const whilePaused = { events: [...events], settled };
    player.resume();
    const end = await ov.done;
    await a.done;
    await stop();
    expect(whilePaused).toEqual({ events: [], settled: false });
    expect(end.reason).toBe('finished');
    expect(events).toEqual(['start', 'end finished']);
  });
});

describe('track events around seek, loop and clear', () => {
  it.each([true, false])("loop 'off' after the track's repeat was opened ahead: the track ends once, no pass after done (threads %s)", async (threads) => {
    const { player } = await rig(threads);
    const ev = trackEvents(player);
    const a = player.enqueue(tone(440, 1));
    player.loop = 'track';
    await new Promise((r) => player.once('trackStart', r));
    // Its source is all handed to the sender (from 0.6 s threaded, 0.84 s in-process): the repeat is opened ahead.
    await sleep(900);
    player.loop = 'off';
    const end = await a.done;
    await player.drained();
    expect(end.reason).toBe('finished');
    // One pass (the loop was off by its end) or, at most, the pass already under way: never a trackEnd after done.
    expect(ev).toEqual([`start ${a.id}`, `end ${a.id} finished`]);
  });

  it.each([true, false])('clear() after playNow(): the interrupted track, announced by trackStart, ends with a trackEnd and what was heard (threads %s)', async (threads) => {
    const { player } = await rig(threads);
    const ev = trackEvents(player);
    const a = player.enqueue(tone(440, 2));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(800);
    const b = player.playNow(tone(660, 0.5));
    await sleep(100);
    player.clear();
    const endA = await a.done;
    await b.done;
    await player.drained();
    // a was heard for ~0.8 s and announced: it should end with a trackEnd (and its playedSec), like a skipped track.
    expect(ev.filter((e) => e.includes(` ${a.id}`))).toEqual([`start ${a.id}`, `end ${a.id} ${endA.reason}`]);
    expect(endA.playedSec).toBeGreaterThan(0.3);
  });
});

describe('overlay playedSec', () => {
  // In-process the same sequence reports ~0.3 s; threaded, the handover counts the frames the worker decoded ahead.
  it('a clip carried over a seek reports no more seconds played than it has (threads true)', async () => {
    const { player } = await rig(true);
    player.enqueue(tone(440, 3));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(500);
    const ov = player.overlay(tone(2500, 0.3));
    await sleep(100);
    player.seek(1.5);
    const end = await ov.done;
    expect(end.reason).toBe('finished');
    expect(end.playedSec).toBeLessThanOrEqual(0.35);
  });

  // On the wire: 47 frames of the 0.6 s clip (30) in both modes. A cut play re-carries its overlays (player.ts
  // #playOnce, after `await track.close()`: `this.#recarry(rec)`) with carriedSec unchanged (0 here), so the next
  // track opens the clip from its start again; threaded, the handover event also adds the frames the worker had
  // mixed ahead (consumedFrames = bus cursor, track.ts handOverOverlays), so playedSec says 1.2.
  it.each([true, false])('a clip playing when the track is skipped goes on from where it was on the next track (threads %s)', async (threads) => {
    const { player } = await rig(threads);
    player.enqueue(tone(440, 3));
    player.enqueue(tone(660, 2));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(500);
    const ov = player.overlay(tone(2500, 0.6));
    await new Promise((r) => player.once('overlayStart', r));
    const t0 = Date.now();
    await sleep(300);
    player.skip();
    const end = await ov.done;
    const heardSec = (Date.now() - t0) / 1000;
    expect(end.reason).toBe('finished');
    // ~0.6 s between overlayStart and overlayEnd, and playedSec 0.6.
    // The wall time adds the gap of the skip itself (the next track opens): up to ~0.15 s.
    expect(Math.round(end.playedSec * 10) / 10).toBe(0.6);
    expect(heardSec).toBeGreaterThan(0.55);
    expect(heardSec).toBeLessThan(0.8);
  });

  it.each([true, false])('removeOverlay() reports the seconds heard of the clip (threads %s)', async (threads) => {
    const { player } = await rig(threads);
    player.enqueue(tone(440, 3));
    await new Promise((r) => player.once('trackStart', r));
    const ov = player.overlay(tone(2500, 1.5));
    await new Promise((r) => player.once('overlayStart', r));
    await sleep(300);
    player.removeOverlay(ov.id);
    const end = await ov.done;
    expect(end.reason).toBe('removed');
    expect(end.playedSec).toBeGreaterThan(0.2);
  });
});

describe('with a timescale filter in force, a change that rewinds the track does not stop it (threads; it stalled for good)', () => {
  // Each change below truncates the sender's buffer (sender.truncate(60)) and rewinds the track: RemoteTrack.rewind
  // (mediaPool.ts ~277) switches to a new epoch at once and returns true, but the worker's replay fails with
  // timescale on (Track.rewind → bus.rewind returns null; worker.ts ~128 answers 'replayed' ok: false), and that
  // answer is ignored (mediaPool.ts ~343, `case 'replayed': return`). The worker goes on under the old epoch, its
  // frames are all dropped (wrong epoch) without giving credit back, so it soon stops: no frame ever comes again,
  // done never settles, drained() never resolves. In-process the same rewind fails and the player skips the
  // buffered frames instead (player.ts onTruncate), so it goes on.
  it.each([
    ['volume = 0.2', (p: Player): void => void (p.volume = 0.2)],
    ['filters = { timescale, equalizer }', (p: Player): void => void (p.filters = { timescale: { speed: 1.25 }, equalizer: [{ band: 3, gain: 0.5 }] })],
    ['filters = {}', (p: Player): void => void (p.filters = {})],
    ['overlay(clip)', (p: Player): void => void p.overlay(tone(3000, 0.3))],
  ] as const)('timescale { speed: 1.25 }, then %s: the track plays to its end', async (_name, change) => {
    const { player } = await rig(true);
    const a = player.enqueue(tone(440, 2));
    await new Promise((r) => player.once('trackStart', r));
    player.filters = { timescale: { speed: 1.25 } };
    await sleep(250);
    change(player);
    const end = await Promise.race([a.done, sleep(5000).then(() => 'hang' as const)]);
    expect(end === 'hang' ? 'hang' : end.reason).toBe('finished');
  });

  it('a clip playing alone (no music) under timescale, then volume = 0.2: the clip plays to its end', async () => {
    const { player } = await rig(true);
    const ov = player.overlay(tone(3000, 1.1));
    await new Promise((r) => player.once('overlayStart', r));
    player.filters = { timescale: { speed: 0.8, pitch: 1.2 } };
    await sleep(450);
    player.volume = 0.2;
    const end = await Promise.race([ov.done, sleep(5000).then(() => 'hang' as const)]);
    expect(end === 'hang' ? 'hang' : end.reason).toBe('finished');
  });
});

describe('loop and clear, pause and timescale (chaos seeds 13 and 14)', () => {
  it.each([true, false])("clear() under loop 'track' leaves the playing item alone: it ends once, finished (threads %s)", async (threads) => {
    const { player } = await rig(threads);
    const ev = trackEvents(player);
    const a = player.enqueue(tone(440, 0.6));
    player.loop = 'track';
    await new Promise((r) => player.once('trackStart', r));
    await sleep(450); // its repeat is opened ahead by now
    expect(player.queue.map((q) => q.id)).toEqual([]);
    player.clear();
    player.loop = 'off';
    const end = await a.done;
    await player.drained();
    expect(end.reason).toBe('finished');
    expect(ev[ev.length - 1]).toBe(`end ${a.id} finished`);
  });

  it.each([true, false])('a clip added while paused, then timescale set, still reports its start (threads %s)', async (threads) => {
    const { player } = await rig(threads);
    const events: string[] = [];
    player.on('overlayStart', () => events.push('start'));
    player.on('overlayEnd', (e) => events.push(`end ${e.reason}`));
    const a = player.enqueue(tone(440, 3));
    await new Promise((r) => player.once('trackStart', r));
    await sleep(300);
    player.pause();
    const ov = player.overlay(tone(2000, 0.6));
    await sleep(300);
    player.filters = { timescale: { rate: 1.5 } };
    await sleep(300);
    player.resume();
    expect((await ov.done).reason).toBe('finished');
    await a.done;
    expect(events).toEqual(['start', 'end finished']);
  });
});

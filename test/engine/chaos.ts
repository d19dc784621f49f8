/**
 * The chaos monkey: a seeded random sequence of player operations against a real UDP receiver, with the invariants
 * that must hold whatever the sequence (every promise settles, no unhandled rejection, one continuous RTP stream,
 * sane events, destroy resolves). Shared by bench/chaos.ts (`npm run chaos`: the seeds) and chaos-found.test.ts (reduced sequences).
 *
 * Run it by hand with more seeds or under load: npm run chaos -- --seeds 1-40 --repeat 3
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPlayer, type OverlayEnd, type OverlayItem, type Player, type QueueItem, type TrackEnd } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';
import type { Filters } from '../../src/media/dsp/filters.js';
import { prng } from '../prng.js';
import { decodeWire, threadReceiver, toneDb, toneWav, type Received } from './wire.js';


/** One operation; `ms` is the pause after it. Plain data, so a reduced sequence can be written out in a test. */
export type Op =
  | { op: 'enqueue' | 'playNow'; sec: number; freq: number }
  | { op: 'insert'; sec: number; freq: number; index: number }
  | { op: 'overlay'; sec: number; freq: number; duckDb: number; fadeMs: number; volume: number }
  | { op: 'skip' | 'clear' | 'shuffle' | 'previous' | 'pause' | 'resume' }
  | { op: 'seek'; sec: number }
  | { op: 'remove'; nth: number }
  | { op: 'removeOverlay'; nth: number }
  | { op: 'move'; from: number; to: number }
  | { op: 'volume'; v: number }
  | { op: 'filters'; f: Filters }
  | { op: 'crossfade'; xfMs: number }
  | { op: 'loop'; mode: 'off' | 'track' | 'queue' }
  | { op: 'wait' }
  /** For reduced sequences: waits (up to 5 s) for the next trackStart, then `ms` as usual. */
  | { op: 'waitTrackStart' };

export type Step = Op & { ms: number };

const FILTER_CHOICES: Filters[] = [
  {},
  { timescale: { speed: 1.25 } },
  { timescale: { speed: 0.8, pitch: 1.2 } },
  { timescale: { rate: 1.5 } },
  { equalizer: [{ band: 0, gain: 0.25 }, { band: 8, gain: -0.2 }] },
  { equalizer: [{ band: 3, gain: 0.5 }], lowPass: { smoothing: 10 } },
  { lowPass: { smoothing: 20 }, timescale: { speed: 1.5 } },
  { tremolo: { frequency: 4, depth: 0.5 }, rotation: { rotationHz: 0.2 } },
  { volume: 0.7, karaoke: {}, equalizer: [{ band: 14, gain: -0.25 }] },
];

/** A random sequence of `n` operations. */
export function randomSteps(seed: number, n: number): Step[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
  const sec = (lo: number, hi: number): number => Math.round((lo + rnd() * (hi - lo)) * 10) / 10;
  const freq = (): number => pick([330, 440, 550, 660, 770, 880, 990, 1100, 1210]);
  const table: [number, () => Op][] = [
    [14, () => ({ op: 'enqueue', sec: sec(0.3, 2), freq: freq() })],
    [5, () => ({ op: 'insert', sec: sec(0.3, 2), freq: freq(), index: int(0, 4) })],
    [4, () => ({ op: 'playNow', sec: sec(0.3, 2), freq: freq() })],
    [12, () => ({ op: 'overlay', sec: sec(0.2, 1.5), freq: pick([1500, 2000, 2500, 3000]), duckDb: pick([-12, -6, 0, -30]), fadeMs: pick([0, 50, 150, 400]), volume: pick([1, 0.5, 2]) })],
    [6, () => ({ op: 'skip' })],
    [5, () => ({ op: 'seek', sec: sec(0, 1.8) })],
    [4, () => ({ op: 'remove', nth: int(0, 1000) })],
    [2, () => ({ op: 'clear' })],
    [3, () => ({ op: 'move', from: int(0, 4), to: int(0, 4) })],
    [2, () => ({ op: 'shuffle' })],
    [3, () => ({ op: 'previous' })],
    [3, () => ({ op: 'pause' })],
    [3, () => ({ op: 'resume' })],
    [3, () => ({ op: 'volume', v: pick([0.5, 1, 1.5, 0.2]) })],
    [5, () => ({ op: 'filters', f: pick(FILTER_CHOICES) })],
    [4, () => ({ op: 'crossfade', xfMs: pick([0, 300, 1000]) })],
    [3, () => ({ op: 'loop', mode: pick(['off', 'off', 'track', 'queue'] as const) })],
    [3, () => ({ op: 'removeOverlay', nth: int(0, 1000) })],
  ];
  const total = table.reduce((s, [w]) => s + w, 0);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    let x = rnd() * total;
    let op: Op | undefined;
    for (const [w, make] of table) {
      x -= w;
      if (x < 0) {
        op = make();
        break;
      }
    }
    steps.push({ ...(op ?? { op: 'skip' }), ms: Math.floor(rnd() * 300) });
  }
  return steps;
}

const wavCache = new Map<string, Uint8Array>();
function wav(sec: number, freq: number): Uint8Array {
  const k = `${sec}/${freq}`;
  let w = wavCache.get(k);
  if (w === undefined) {
    w = toneWav(sec, [[freq, 0.2]]);
    wavCache.set(k, w);
  }
  // A copy each time: the same bytes queued twice would be the same input object.
  return w.slice();
}

const epoch = (): number => performance.timeOrigin + performance.now();

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

interface TrackRec {
  item: QueueItem;
  how: string;
  events: { kind: string; at: number; loop: string }[];
  end?: TrackEnd;
}
interface OverlayRec {
  item: OverlayItem;
  sec: number;
  events: { kind: string; at: number }[];
  end?: OverlayEnd;
}

export interface ChaosResult {
  failures: string[];
  log: string[];
  got?: Received;
}

export interface ChaosOptions {
  threads: boolean;
  /** The ending: 'drain' clears the queue, turns loop off and waits for drained(), then plays a probe; 'stop' stops at once. */
  ending: 'drain' | 'stop';
  /** How long the promises have to settle after the last operation, ms. */
  settleMs?: number;
  /** Play a probe track and clip at the end (drain only) and check they are heard in full. */
  probe?: boolean;
  /** Gets each log line as it is written. */
  stream?: (line: string) => void;
}

/**
 * Runs the steps on a fresh player and checks the invariants. Never throws: the failures are returned with the log.
 */
export async function runChaos(steps: readonly Step[], options: ChaosOptions): Promise<ChaosResult> {
  const settleMs = options.settleMs ?? 15_000;
  const log: string[] = [];
  const failures: string[] = [];
  const t0 = epoch();
  const note = (s: string): void => {
    const line = `${((epoch() - t0) / 1000).toFixed(3)} ${s}`;
    log.push(line);
    // In a child process (chaosChild.ts) every line goes out at once: a livelocked or killed run keeps its log.
    options.stream?.(line);
  };
  const fail = (s: string): void => {
    failures.push(s);
    note(`FAIL ${s}`);
  };

  const onRejection = (reason: unknown): void => fail(`unhandledRejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
  const onException = (err: Error): void => fail(`uncaughtException: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  const rx = await threadReceiver();
  const sender = createRtpSender({ target: { host: '127.0.0.1', port: rx.port }, roomBitrate: 96000, threads: options.threads });
  const player: Player = createPlayer({ sender, roomBitrate: 96000 });
  const tracks = new Map<number, TrackRec>();
  const overlays = new Map<number, OverlayRec>();
  const trackOrder: TrackRec[] = [];
  const overlayOrder: OverlayRec[] = [];
  let loop = 'off';
  let got: Received | undefined;

  const trackRec = (item: QueueItem, how: string): TrackRec => {
    const rec: TrackRec = { item, how, events: [] };
    tracks.set(item.id, rec);
    trackOrder.push(rec);
    void item.done.then(
      (end) => {
        rec.end = end;
        note(`track ${item.id} done ${end.reason} ${end.playedSec.toFixed(2)}s${end.error ? ` ${end.error.code} ${end.error.message}` : ''}`);
      },
      (err: unknown) => fail(`track ${item.id} done REJECTED: ${String(err)}`),
    );
    return rec;
  };
  const overlayRec = (item: OverlayItem, sec: number): void => {
    const rec: OverlayRec = { item, sec, events: [] };
    overlays.set(item.id, rec);
    overlayOrder.push(rec);
    void item.done.then(
      (end) => {
        rec.end = end;
        note(`overlay ${item.id} done ${end.reason} ${end.playedSec.toFixed(2)}s${end.error ? ` ${end.error.code} ${end.error.message}` : ''}`);
      },
      (err: unknown) => fail(`overlay ${item.id} done REJECTED: ${String(err)}`),
    );
  };

  player.on('trackStart', ({ item }) => {
    note(`event trackStart ${item.id}`);
    tracks.get(item.id)?.events.push({ kind: 'start', at: epoch(), loop });
  });
  player.on('trackEnd', (e) => {
    note(`event trackEnd ${e.item.id} ${e.reason}`);
    tracks.get(e.item.id)?.events.push({ kind: `end ${e.reason}`, at: epoch(), loop });
  });
  player.on('overlayStart', ({ overlay }) => {
    note(`event overlayStart ${overlay.id}`);
    overlays.get(overlay.id)?.events.push({ kind: 'start', at: epoch() });
  });
  player.on('overlayEnd', (e) => {
    note(`event overlayEnd ${e.overlay.id} ${e.reason}`);
    overlays.get(e.overlay.id)?.events.push({ kind: `end ${e.reason}`, at: epoch() });
  });
  player.on('error', (e) => note(`event error ${e.item?.id ?? '-'} ${e.error.code} ${e.error.message}`));
  player.on('stateChange', (_o, n) => note(`state ${n.status}${'item' in n ? ` ${n.item.id}` : ''}`));

  const allIds = (): number[] => trackOrder.map((r) => r.item.id);
  const allOverlayIds = (): number[] => overlayOrder.map((r) => r.item.id);

  try {
    for (const s of steps) {
      let res: unknown = '';
      try {
        switch (s.op) {
          case 'enqueue':
            res = trackRec(player.enqueue(wav(s.sec, s.freq)), 'enqueue').item.id;
            break;
          case 'insert':
            res = trackRec(player.insert(wav(s.sec, s.freq), s.index), 'insert').item.id;
            break;
          case 'playNow':
            res = trackRec(player.playNow(wav(s.sec, s.freq)), 'playNow').item.id;
            break;
          case 'overlay': {
            const item = player.overlay(wav(s.sec, s.freq), { duckDb: s.duckDb, fadeMs: s.fadeMs, volume: s.volume });
            overlayRec(item, s.sec);
            res = item.id;
            break;
          }
          case 'skip':
            res = player.skip();
            break;
          case 'seek':
            res = player.seek(s.sec);
            break;
          case 'remove': {
            const ids = allIds();
            const id = ids.length === 0 ? 1 : (ids[s.nth % ids.length] as number);
            res = `${id} → ${String(player.remove(id))}`;
            break;
          }
          case 'removeOverlay': {
            const ids = allOverlayIds();
            const id = ids.length === 0 ? 1 : (ids[s.nth % ids.length] as number);
            res = `${id} → ${String(player.removeOverlay(id))}`;
            break;
          }
          case 'clear':
            player.clear();
            break;
          case 'move':
            res = player.move(s.from, s.to);
            break;
          case 'shuffle':
            player.shuffle();
            break;
          case 'previous': {
            const item = player.previous();
            res = item === undefined ? 'none' : trackRec(item, 'previous').item.id;
            break;
          }
          case 'pause':
            player.pause();
            break;
          case 'resume':
            player.resume();
            break;
          case 'volume':
            player.volume = s.v;
            break;
          case 'filters':
            player.filters = s.f;
            break;
          case 'crossfade':
            player.crossfadeMs = s.xfMs;
            break;
          case 'loop':
            player.loop = s.mode;
            loop = s.mode;
            break;
          case 'wait':
            break;
          case 'waitTrackStart':
            res = await new Promise<string>((r) => {
              const t = setTimeout(() => r('timeout'), 5000);
              player.once('trackStart', (e) => {
                clearTimeout(t);
                r(`track ${e.item.id}`);
              });
            });
            break;
        }
      } catch (err) {
        res = `THREW ${err instanceof Error ? err.message : String(err)}`;
        fail(`${JSON.stringify(s)} threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
      note(`op ${JSON.stringify(s)} ${String(res)} | ${player.state.status}${player.current ? ` cur ${player.current.id}` : ''} q [${player.queue.map((q) => q.id).join(',')}] ov [${player.overlays.map((o) => o.id).join(',')}]`);
      if (s.ms > 0) await new Promise((r) => setTimeout(r, s.ms));
    }

    // The ending.
    if (options.ending === 'drain') {
      player.loop = 'off';
      loop = 'off';
      player.clear();
      player.resume();
      note(`ending: drain | ${player.state.status} q [${player.queue.map((q) => q.id).join(',')}] ov [${player.overlays.map((o) => o.id).join(',')}]`);
      if ((await withTimeout(player.drained(), settleMs)) === 'timeout') {
        fail(`drained() did not resolve within ${settleMs} ms (state ${player.state.status}, current ${player.current?.id ?? '-'}, queue [${player.queue.map((q) => q.id).join(',')}], overlays [${player.overlays.map((o) => o.id).join(',')}])`);
      }
    } else {
      note('ending: stop');
      player.stop();
    }

    // 1. Every promise settles.
    const pending = [...trackOrder.map((r) => r.item.done), ...overlayOrder.map((r) => r.item.done)];
    if ((await withTimeout(Promise.all(pending), settleMs)) === 'timeout') {
      for (const r of trackOrder) {
        if (r.end === undefined) fail(`track ${r.item.id} (${r.how}) never settled; events ${JSON.stringify(r.events.map((e) => e.kind))}; player ${player.state.status}, current ${player.current?.id ?? '-'}, queue [${player.queue.map((q) => q.id).join(',')}]`);
      }
      for (const r of overlayOrder) {
        if (r.end === undefined) fail(`overlay ${r.item.id} (${r.sec}s) never settled; events ${JSON.stringify(r.events.map((e) => e.kind))}; still listed ${player.overlays.some((o) => o.id === r.item.id)}`);
      }
    }

    // A probe after the chaos: the player still plays a track and a clip in full.
    let probe: { track: QueueItem; clip: OverlayItem; at: number } | undefined;
    if (options.ending === 'drain' && options.probe !== false && failures.length === 0) {
      player.filters = {};
      player.volume = 1;
      player.crossfadeMs = 0;
      note('probe');
      const track = player.enqueue(toneWav(1.5, [[4000, 0.2]]), { title: 'probe' });
      trackRec(track, 'probe');
      await new Promise((r) => setTimeout(r, 300));
      const clip = player.overlay(toneWav(0.6, [[6000, 0.2]]), { duckDb: 0 });
      overlayRec(clip, 0.6);
      probe = { track, clip, at: epoch() };
      const ends = await withTimeout(Promise.all([track.done, clip.done]), settleMs);
      if (ends === 'timeout') fail(`probe did not settle: track ${String(tracks.get(track.id)?.end?.reason)}, clip ${String(overlays.get(clip.id)?.end?.reason)}`);
      else {
        const [te, ce] = ends;
        if (te.reason !== 'finished' || Math.abs(te.playedSec - 1.5) > 0.1) fail(`probe track ended ${te.reason} after ${te.playedSec.toFixed(2)} s (1.5 s finished expected)`);
        if (ce.reason !== 'finished' || Math.abs(ce.playedSec - 0.6) > 0.1) fail(`probe clip ended ${ce.reason} after ${ce.playedSec.toFixed(2)} s (0.6 s finished expected)`);
      }
      if ((await withTimeout(player.drained(), settleMs)) === 'timeout') fail('drained() after the probe did not resolve');
    }

    // 5. destroy() resolves.
    if ((await withTimeout(player.destroy(), settleMs)) === 'timeout') fail(`destroy() did not resolve within ${settleMs} ms`);
    got = await withTimeout(rx.stop(), 5000).then((g) => (g === 'timeout' ? undefined : g));
    if (got === undefined) fail('receiver did not stop');

    // 3. One continuous stream.
    if (got !== undefined) {
      if (got.seq.length === 0) fail('nothing was received');
      let breaks = 0;
      for (let i = 1; i < got.seq.length; i++) {
        const d = ((got.seq[i] as number) - (got.seq[i - 1] as number) + 65536) % 65536;
        if (d !== 1 && breaks++ < 5) fail(`RTP sequence jumps by ${d} at packet ${i} (${got.seq[i - 1]} → ${got.seq[i]})`);
      }
      if (probe !== undefined) {
        // The probe heard in full on the wire.
        const frames = decodeWire(got);
        const from = got.at.findIndex((t) => t >= (probe as { at: number }).at - 2000);
        const tail = frames.slice(Math.max(0, from));
        const t4 = tail.filter((f) => toneDb(f, 4000) > -30).length;
        const t6 = tail.filter((f) => toneDb(f, 6000) > -30).length;
        note(`probe on the wire: ${t4} frames of the track (75), ${t6} of the clip (30)`);
        if (Math.abs(t4 - 75) > 4) fail(`probe track: ${t4} frames on the wire, 75 expected`);
        if (Math.abs(t6 - 30) > 4) fail(`probe clip: ${t6} frames on the wire, 30 expected`);
      }
    }

    // 4. Events.
    for (const r of trackOrder) {
      const ev = r.events;
      const ends = ev.filter((e) => e.kind.startsWith('end'));
      // Under loop 'track' every finished pass ends with a trackEnd 'finished' and starts again: those repeat.
      const finals = ends.filter((e) => !(e.kind === 'end finished' && e.loop === 'track'));
      if (finals.length > 1) fail(`track ${r.item.id}: ${finals.length} final trackEnd events ${JSON.stringify(ev.map((e) => e.kind))}`);
      let open = false;
      for (const e of ev) {
        if (e.kind === 'start') {
          if (open) fail(`track ${r.item.id}: trackStart twice without a trackEnd ${JSON.stringify(ev.map((x) => x.kind))}`);
          open = true;
        } else open = false;
      }
      const last = ev[ev.length - 1];
      if (last?.kind === 'start') fail(`track ${r.item.id}: trackStart after its last trackEnd (or none) ${JSON.stringify(ev.map((x) => x.kind))}, done ${String(r.end?.reason)}`);
      if (r.end !== undefined) {
        if (!['finished', 'skipped', 'removed', 'stopped', 'error'].includes(r.end.reason)) fail(`track ${r.item.id}: done reason ${r.end.reason}`);
        if (!(Number.isFinite(r.end.playedSec) && r.end.playedSec >= 0)) fail(`track ${r.item.id}: playedSec ${r.end.playedSec}`);
        if (last !== undefined && last.kind !== `end ${r.end.reason}`) fail(`track ${r.item.id}: last event ${last.kind}, done ${r.end.reason}`);
        if (last === undefined && r.end.reason !== 'removed') fail(`track ${r.item.id}: done ${r.end.reason} without a trackEnd`);
        if (r.end.reason === 'error') fail(`track ${r.item.id}: error ${r.end.error?.code} ${r.end.error?.message}`);
      }
    }
    for (const r of overlayOrder) {
      const ev = r.events.map((e) => e.kind);
      const ends = ev.filter((e) => e.startsWith('end'));
      if (ends.length > 1) fail(`overlay ${r.item.id}: ${ends.length} overlayEnd events ${JSON.stringify(ev)}`);
      if (ev.filter((e) => e === 'start').length > 1) fail(`overlay ${r.item.id}: overlayStart twice ${JSON.stringify(ev)}`);
      if (ev.indexOf('start') > 0) fail(`overlay ${r.item.id}: overlayStart after overlayEnd ${JSON.stringify(ev)}`);
      if (r.end !== undefined) {
        if (!['finished', 'removed', 'stopped', 'error'].includes(r.end.reason)) fail(`overlay ${r.item.id}: done reason ${r.end.reason}`);
        if (r.end.reason === 'error') fail(`overlay ${r.item.id}: error ${r.end.error?.code} ${r.end.error?.message}`);
        if (ends.length === 1 && ends[0] !== `end ${r.end.reason}`) fail(`overlay ${r.item.id}: overlayEnd ${ends[0]}, done ${r.end.reason}`);
        if (ends.length === 0) fail(`overlay ${r.item.id}: done ${r.end.reason} without an overlayEnd`);
        if (r.end.reason === 'finished' && !ev.includes('start')) fail(`overlay ${r.item.id}: finished without an overlayStart`);
        if (r.end.reason === 'finished' && r.end.playedSec > r.sec + 0.1) fail(`overlay ${r.item.id}: finished with playedSec ${r.end.playedSec.toFixed(2)} > its ${r.sec} s`);
      }
    }
  } catch (err) {
    fail(`harness threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  } finally {
    if (got === undefined) {
      await withTimeout(player.destroy(), 5000);
      await withTimeout(rx.stop(), 2000);
    }
    // Late rejections from the teardown.
    await new Promise((r) => setTimeout(r, 50));
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  return { failures, log, ...(got === undefined ? {} : { got }) };
}

/** The report of a failed run: the seed, what failed, and the whole log. */
export function describeFailure(name: string, steps: readonly Step[], r: ChaosResult): string {
  return [
    `${name}: ${r.failures.length} failure(s)`,
    ...r.failures.map((f) => `  - ${f}`),
    'steps:',
    ...steps.map((s, i) => `  ${i}: ${JSON.stringify(s)}`),
    'log:',
    ...r.log.map((l) => `  ${l}`),
  ].join('\n');
}

export interface ChildResult {
  failures: string[];
  log: string[];
  /** ms from the result to the child's exit (it must exit by itself: no handle left open). */
  exitMs: number | undefined;
}

/**
 * Runs the steps in a child process (chaosChild.ts), killed after `killMs`: a livelock (a microtask loop never lets a
 * timer run, so no in-process timeout can fire) or a hang fails the run instead of the whole suite, with the log up
 * to that point. The child must exit by itself within 5 s of its result (a handle left open keeps it alive).
 */
export async function runChaosChild(steps: readonly Step[], options: Omit<ChaosOptions, 'stream'>, killMs = 60_000): Promise<ChildResult> {
  const script = fileURLToPath(new URL('./chaosChild.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(JSON.stringify({ steps, options }));
  const log: string[] = [];
  let result: { failures: string[] } | undefined;
  let resultAt = 0;
  let buf = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('RESULT ')) {
        result = JSON.parse(line.slice(7)) as { failures: string[] };
        resultAt = epoch();
      } else if (line.startsWith('LOG ')) log.push(line.slice(4));
      else log.push(`(stdout) ${line}`);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = await new Promise<{ code: number | null; killed: boolean; at: number }>((resolve) => {
    let killed = false;
    const kill = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killMs);
    // After the result, 5 s to exit by itself.
    const poll = setInterval(() => {
      if (result !== undefined && epoch() - resultAt > 5000 && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 200);
    child.on('exit', (code) => {
      clearTimeout(kill);
      clearInterval(poll);
      resolve({ code, killed, at: epoch() });
    });
  });
  const failures = [...(result?.failures ?? [])];
  if (result === undefined) {
    failures.push(
      exit.killed
        ? `HANG: no result within ${killMs} ms, child killed (a livelock spins the event loop so no timer fires); last log line: ${log[log.length - 1] ?? '-'}`
        : `child exited with code ${String(exit.code)} and no result`,
    );
  } else if (exit.killed) failures.push('the process did not exit by itself within 5 s of the end (a handle left open)');
  else if (exit.code !== 0) failures.push(`child exit code ${String(exit.code)}`);
  if (err.trim() !== '') log.push(`(stderr) ${err.trim().slice(0, 4000)}`);
  return { failures, log, exitMs: result === undefined ? undefined : exit.at - resultAt };
}

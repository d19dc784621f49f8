/**
 * Chaos monkey of the player API: for each seed, a random sequence of ~30-60 operations (enqueue, insert, playNow,
 * overlays, skip, seek, remove, clear, move, shuffle, previous, pause/resume, volume, filters, crossfade, loop,
 * removeOverlay) with 0-300 ms between them, threaded and in-process, on a real UDP receiver. Then every promise must
 * settle, no rejection may go unhandled, the RTP stream must be one (contiguous sequence numbers), the events sane,
 * a probe track and clip afterwards heard in full, and destroy() must resolve. See chaos.ts.
 *
 * A failure prints the seed, the steps and the whole log; replay one with CHAOS_SEEDS=<seed>.
 */
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeFailure, mulberry32, randomSteps, runChaosChild } from './chaos.js';

/** "1-8" or "3,17,40". */
function parseSeeds(s: string | undefined): number[] {
  if (s === undefined || s === '') return [1, 2, 3, 4, 5, 6, 7, 8];
  return s.split(',').flatMap((part) => {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    if (m === null) return [Number(part)];
    const out: number[] = [];
    for (let i = Number(m[1]); i <= Number(m[2]); i++) out.push(i);
    return out;
  });
}

const seeds = parseSeeds(process.env.CHAOS_SEEDS);
const repeat = Number(process.env.CHAOS_REPEAT ?? 1);

const cases = seeds.flatMap((seed) =>
  [true, false].flatMap((threads) => Array.from({ length: repeat }, (_, k) => ({ seed, threads, k }))),
);

describe.concurrent('player chaos', () => {
  it.each(cases)('seed $seed threads $threads (run $k)', { timeout: 60_000 }, async ({ seed, threads }) => {
    const rnd = mulberry32(seed * 7919 + 1);
    const n = 30 + Math.floor(rnd() * 31);
    const steps = randomSteps(seed, n);
    // Most runs drain to the end and play a probe; every third stops in the middle of things instead.
    const ending = seed % 3 === 0 ? 'stop' : 'drain';
    const r = await runChaosChild(steps, { threads, ending, settleMs: 8000 }, 35_000);
    if (r.failures.length > 0) {
      const report = describeFailure(`chaos seed ${seed} threads ${threads} ending ${ending}`, steps, r);
      console.error(report);
      // CHAOS_LOG=<file>: every failed run's report appended there too (for long runs by hand).
      if (process.env.CHAOS_LOG) appendFileSync(process.env.CHAOS_LOG, `${report}\n\n`);
    }
    expect(r.failures).toEqual([]);
  });
});

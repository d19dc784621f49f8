/**
 * The player's chaos monkey, run by hand: for each seed a random sequence of ~30-60 operations of the player API
 * (test/engine/chaos.ts), threaded and in-process, each run in its own child process (killed on a hang). A failure
 * prints the seed, its steps and the log; the bugs it finds are reduced into test/engine/chaos-found.test.ts, which
 * the suite runs. Random runs stay out of the suite: a rare race would make CI flaky, and a hang costs minutes.
 *
 * Run: npm run chaos [-- --seeds 1-40] [--repeat 2] [--threads on|off|both] [--parallel 2] [--log FILE]
 */
import { appendFileSync } from 'node:fs';
import { describeFailure, randomSteps, runChaosChild } from '../test/engine/chaos.js';
import { prng } from '../test/prng.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};

function parseSeeds(s: string): number[] {
  return s.split(',').flatMap((part) => {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    if (m === null) return [Number(part)];
    const out: number[] = [];
    for (let i = Number(m[1]); i <= Number(m[2]); i++) out.push(i);
    return out;
  });
}

const seeds = parseSeeds(arg('--seeds', '1-8'));
const repeat = Number(arg('--repeat', '1'));
const threadsArg = arg('--threads', 'both');
const modes = threadsArg === 'on' ? [true] : threadsArg === 'off' ? [false] : [true, false];
const parallel = Math.max(1, Number(arg('--parallel', '2')));
const logFile = arg('--log', '');

const cases = seeds.flatMap((seed) => modes.flatMap((threads) => Array.from({ length: repeat }, () => ({ seed, threads }))));
let failed = 0;
let next = 0;
const started = Date.now();

async function worker(): Promise<void> {
  for (;;) {
    const c = cases[next++];
    if (c === undefined) return;
    const rnd = prng(c.seed * 7919 + 1);
    const n = 30 + Math.floor(rnd() * 31);
    const steps = randomSteps(c.seed, n);
    const ending = c.seed % 3 === 0 ? 'stop' : 'drain';
    const r = await runChaosChild(steps, { threads: c.threads, ending, settleMs: 8000 }, 35_000);
    const name = `seed ${c.seed} threads ${c.threads ? 'on' : 'off'} (${n} ops, ending ${ending})`;
    if (r.failures.length === 0) {
      console.log(`ok    ${name}`);
      continue;
    }
    failed++;
    const report = describeFailure(`chaos ${name}`, steps, r);
    console.log(`FAIL  ${name}: ${r.failures.join('; ')}`);
    if (logFile !== '') appendFileSync(logFile, `${report}\n\n`);
    else console.error(report);
  }
}

await Promise.all(Array.from({ length: parallel }, () => worker()));
console.log(`${cases.length - failed} of ${cases.length} runs passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = failed > 0 ? 1 : 0;

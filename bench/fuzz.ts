/**
 * The structure-aware fuzz runner, outside `npm test`:
 *
 *   npm run fuzz -- --seed S --cases N [--only FORMAT] [--case I] [--timeout MS] [--quiet]
 *
 * Runs cases 0..N-1 of test/fuzz/structured.ts for seed S: first the systematic ones (every truncation point of every
 * header, every length/count/value field at its boundaries), in an order shuffled by S, then random combinations.
 * Exits 0 when every case ended in success or a KookRtpError; otherwise 1, printing the seed, the case number and its
 * id for each failure (`--case I` re-runs just that one). `--only` keeps the cases of formats whose name contains it.
 * The cases run in a worker watched from here, so a case that hangs the event loop is reported (and the run goes on
 * in a new worker) instead of hanging the runner.
 */
import { Worker } from 'node:worker_threads';
import { fuzzSeeds, systematicCases } from '../test/fuzz/structured.js';
import type { FuzzWorkerData, FuzzWorkerMessage } from './fuzzWorker.js';

interface Args {
  seed: number;
  cases: number | undefined;
  only: string | undefined;
  one: number | undefined;
  timeoutMs: number;
  quiet: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seed: Date.now() % 2 ** 31, cases: undefined, only: undefined, one: undefined, timeoutMs: 10_000, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--seed') args.seed = int();
    else if (a === '--cases') args.cases = int();
    else if (a === '--only') args.only = value();
    else if (a === '--case') args.one = int();
    else if (a === '--timeout') args.timeoutMs = int();
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('npm run fuzz -- --seed S --cases N [--only FORMAT] [--case I] [--timeout MS] [--quiet]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${String(a)}`);
  }
  return args;
}

/** Runs `numbers` in a worker; resolves with the numbers it did not get to when a case hung (empty when done). */
function runInWorker(args: Args, numbers: readonly number[], report: (m: FuzzWorkerMessage) => void, onHang: (m: Extract<FuzzWorkerMessage, { type: 'start' }>) => void): Promise<number[]> {
  const data: FuzzWorkerData = { seed: args.seed, only: args.only, numbers, timeoutMs: args.timeoutMs };
  // tsx's loader is per thread: the worker registers it before importing the TypeScript entry.
  const entry = new URL('./fuzzWorker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    let current: Extract<FuzzWorkerMessage, { type: 'start' }> | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (rest: number[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      resolve(rest);
    };
    worker.on('message', (m: FuzzWorkerMessage) => {
      report(m);
      clearTimeout(watchdog);
      if (m.type === 'start') {
        current = m;
        // The case's own time-out fires first unless it blocks the event loop.
        watchdog = setTimeout(() => {
          onHang(m);
          void worker.terminate();
          finish(numbers.slice(numbers.indexOf(m.i) + 1));
        }, args.timeoutMs + 5000);
      } else current = undefined;
    });
    worker.on('error', (err) => {
      if (current !== undefined) {
        onHang(current);
        finish(numbers.slice(numbers.indexOf(current.i) + 1));
      } else if (!settled) {
        settled = true;
        clearTimeout(watchdog);
        reject(err);
      }
    });
    worker.on('exit', () => finish([]));
  });
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n`);
    return 2;
  }
  const seeds = fuzzSeeds().filter((s) => args.only === undefined || s.format.includes(args.only));
  if (seeds.length === 0) {
    process.stderr.write(`fuzz: no format matches --only ${args.only}\n`);
    return 2;
  }
  const systematic = systematicCases(seeds).length;
  const total = args.cases ?? systematic;
  let numbers = args.one === undefined ? Array.from({ length: total }, (_, i) => i) : [args.one];
  const count = numbers.length;
  process.stdout.write(`fuzz: seed ${args.seed}, ${count} case(s) (${systematic} systematic over ${seeds.length} samples, then random)\n`);
  const t0 = performance.now();
  const failures: number[] = [];
  const perFormat = new Map<string, { n: number; ms: number }>();
  let slowest = { id: '', ms: 0 };
  let started: Extract<FuzzWorkerMessage, { type: 'start' }> | undefined;
  let done = 0;
  const report = (m: FuzzWorkerMessage): void => {
    if (m.type === 'start') {
      started = m;
      return;
    }
    done++;
    const c = started!;
    const f = perFormat.get(c.format) ?? { n: 0, ms: 0 };
    f.n++;
    f.ms += m.ms;
    perFormat.set(c.format, f);
    if (m.ms > slowest.ms) slowest = { id: c.id, ms: m.ms };
    if (!m.ok) {
      failures.push(m.i);
      process.stdout.write(`FAIL seed ${args.seed} case ${m.i} ${c.id} (${c.size} bytes)\n  ${m.error ?? ''}\n`);
    }
    if (!args.quiet && done % 1000 === 0) process.stdout.write(`  ${done}/${count} cases, ${failures.length} failure(s), ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  const onHang = (m: Extract<FuzzWorkerMessage, { type: 'start' }>): void => {
    done++;
    failures.push(m.i);
    process.stdout.write(`FAIL seed ${args.seed} case ${m.i} ${m.id} (${m.size} bytes)\n  the case blocked the event loop for over ${args.timeoutMs + 5000} ms (or crashed its worker)\n`);
  };
  while (numbers.length > 0) numbers = await runInWorker(args, numbers, report, onHang);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (!args.quiet) {
    for (const [format, f] of [...perFormat].sort()) process.stdout.write(`  ${format.padEnd(28)} ${String(f.n).padStart(7)} cases ${(f.ms / f.n).toFixed(2).padStart(8)} ms/case\n`);
    process.stdout.write(`  slowest: ${slowest.id} (${slowest.ms.toFixed(0)} ms)\n`);
  }
  if (failures.length > 0) {
    process.stdout.write(`fuzz: ${failures.length} of ${count} case(s) FAILED in ${secs} s; seed ${args.seed}; re-run one with --seed ${args.seed} --case ${failures[0]!}\n`);
    return 1;
  }
  if (done !== count) {
    process.stdout.write(`fuzz: the worker stopped after ${done} of ${count} case(s); seed ${args.seed}\n`);
    return 1;
  }
  process.stdout.write(`fuzz: all ${count} case(s) ended in success or a KookRtpError, ${secs} s, seed ${args.seed}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: runner crashed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(3);
  },
);

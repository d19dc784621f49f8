/**
 * The structure-aware fuzz runner, outside `npm test`:
 *
 *   npm run fuzz -- --seed S --cases N [--only FORMAT] [--case I] [--timeout MS] [--quiet]
 *
 * Runs cases 0..N-1 of test/fuzz/structured.ts for seed S: first the systematic ones (every truncation point of every
 * header, every length/count/value field at its boundaries), in an order shuffled by S, then random combinations.
 * Exits 0 when every case ended in success or a KookRtpError; otherwise 1, printing the seed, the case number and its
 * id for each failure (`--case I` re-runs just that one). `--only` keeps the cases of formats whose name contains it.
 */
import { inspect } from 'node:util';
import { caseAt, fuzzSeeds, randomCase, runCase, shuffledOrder, systematicCases, type FuzzCase } from '../test/fuzz/structured.js';

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
  const systematic = systematicCases(seeds);
  const order = shuffledOrder(systematic.length, args.seed);
  const total = args.cases ?? systematic.length;
  const at = (i: number): FuzzCase => (i < systematic.length ? caseAt(args.seed, i, systematic, order) : randomCase(args.seed, i - systematic.length, seeds));
  const numbers = args.one === undefined ? Array.from({ length: total }, (_, i) => i) : [args.one];
  process.stdout.write(`fuzz: seed ${args.seed}, ${numbers.length} case(s) (${systematic.length} systematic over ${seeds.length} samples, then random)\n`);
  const t0 = performance.now();
  const failures: { i: number; id: string; error: unknown }[] = [];
  const perFormat = new Map<string, { n: number; ms: number }>();
  let slowest = { id: '', ms: 0 };
  for (const [k, i] of numbers.entries()) {
    const c = at(i);
    const out = await runCase(c, args.timeoutMs);
    const f = perFormat.get(c.format) ?? { n: 0, ms: 0 };
    f.n++;
    f.ms += out.ms;
    perFormat.set(c.format, f);
    if (out.ms > slowest.ms) slowest = { id: c.id, ms: out.ms };
    if (!out.ok) {
      failures.push({ i, id: c.id, error: out.error });
      process.stdout.write(`FAIL seed ${args.seed} case ${i} ${c.id} (${c.bytes.length} bytes)\n  ${inspect(out.error).split('\n').slice(0, 6).join('\n  ')}\n`);
    }
    if (!args.quiet && (k + 1) % 1000 === 0) process.stdout.write(`  ${k + 1}/${numbers.length} cases, ${failures.length} failure(s), ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (!args.quiet) {
    for (const [format, f] of [...perFormat].sort()) process.stdout.write(`  ${format.padEnd(28)} ${String(f.n).padStart(7)} cases ${(f.ms / f.n).toFixed(2).padStart(8)} ms/case\n`);
    process.stdout.write(`  slowest: ${slowest.id} (${slowest.ms.toFixed(0)} ms)\n`);
  }
  if (failures.length > 0) {
    process.stdout.write(`fuzz: ${failures.length} of ${numbers.length} case(s) FAILED in ${secs} s; seed ${args.seed}; re-run one with --seed ${args.seed} --case ${failures[0]!.i}\n`);
    return 1;
  }
  process.stdout.write(`fuzz: all ${numbers.length} case(s) ended in success or a KookRtpError, ${secs} s, seed ${args.seed}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: runner crashed: ${inspect(err)}\n`);
    process.exit(3);
  },
);

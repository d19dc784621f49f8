/**
 * The fuzz runner's worker: runs a range of cases and reports each one's start and end to the main thread, which
 * watches the clock. A case that never yields (a synchronous endless loop) cannot time itself out; the main thread
 * then ends this worker and reports the case.
 */
import { inspect } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzSeeds, randomCase, runCase, shuffledOrder, systematicCases } from '../test/fuzz/structured.js';

/** What the main thread sends. */
export interface FuzzWorkerData {
  readonly seed: number;
  readonly only: string | undefined;
  /** Case numbers to run, in order. */
  readonly numbers: readonly number[];
  readonly timeoutMs: number;
}

/** What the worker reports. */
export type FuzzWorkerMessage =
  | { readonly type: 'start'; readonly i: number; readonly id: string; readonly format: string; readonly size: number }
  | { readonly type: 'done'; readonly i: number; readonly ok: boolean; readonly ms: number; readonly error?: string };

const data = workerData as FuzzWorkerData;
const seeds = fuzzSeeds().filter((s) => data.only === undefined || s.format.includes(data.only));
const systematic = systematicCases(seeds);
const order = shuffledOrder(systematic.length, data.seed);
const post = (m: FuzzWorkerMessage): void => parentPort?.postMessage(m);

for (const i of data.numbers) {
  const c = i < systematic.length ? systematic[order[i]!]! : randomCase(data.seed, i - systematic.length, seeds);
  post({ type: 'start', i, id: c.id, format: c.format, size: c.bytes.length });
  const out = await runCase(c, data.timeoutMs);
  post(out.ok ? { type: 'done', i, ok: true, ms: out.ms } : { type: 'done', i, ok: false, ms: out.ms, error: inspect(out.error).split('\n').slice(0, 6).join('\n  ') });
}

/**
 * Shared helpers of the fuzz tests: the "parses or throws KookRtpError" rule, byte mutations of real inputs and
 * random chunk splits. Every fast-check run is seeded so a failure reproduces.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { KookRtpError } from '../../src/errors.js';

/** The fixed seed of every property in test/fuzz (change it locally to explore, never in a commit). */
export const SEED = 0x6b6f6f6b;

/** Runs `fn`; any error other than a {@link KookRtpError} fails the test. Returns the error (or undefined). */
export function onlyOurErrors(fn: () => unknown): KookRtpError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof KookRtpError) return err;
    throw err;
  }
}

/** Bytes of a file under fixtures/. */
export function fixture(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url)));
}

/** A mutation applied to a valid input. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: readonly number[] }
  | { readonly kind: 'set'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'cut'; readonly at: number; readonly len: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 24 }) }),
  // Runs of 0x00 / 0xff make lengths and counts huge or zero.
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), bytes: fc.array(fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }),
);

/** Applies mutations in order to a copy of `src`. */
export function mutate(src: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = src.slice();
  for (const m of mutations) {
    if (b.length === 0) break;
    switch (m.kind) {
      case 'flip':
        for (const a of m.at) {
          const i = a % b.length;
          b[i] = b[i]! ^ (1 << (a % 8));
        }
        break;
      case 'set': {
        const at = m.at % b.length;
        m.bytes.forEach((v, i) => {
          if (at + i < b.length) b[at + i] = v;
        });
        break;
      }
      case 'truncate':
        b = b.slice(0, m.at % (b.length + 1));
        break;
      case 'cut': {
        const at = m.at % b.length;
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      }
      case 'insert': {
        const at = m.at % (b.length + 1);
        b = Buffer.concat([b.subarray(0, at), Uint8Array.from(m.bytes), b.subarray(at)]);
        break;
      }
    }
  }
  return new Uint8Array(b);
}

/** Cut points (as fractions 0..1) to split an input into chunks. */
export const splitsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

/** Splits `bytes` at the given fractions of its length (sorted), including empty chunks. */
export function split(bytes: Uint8Array, fractions: readonly number[]): Uint8Array[] {
  const cuts = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

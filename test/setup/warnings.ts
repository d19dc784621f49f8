/**
 * Fails the suite on any process warning (a FileHandle closed by the garbage collector, a listener leak, a
 * deprecation): each is a bug somewhere. Registered in vitest.config.ts as a setup file.
 *
 * A test that provokes a warning on purpose (a listener that throws, reported through `process.emitWarning`) says so
 * with {@link expectWarnings}; anything else seen during a test fails that test, and anything seen after the last
 * test of a file (a handle the collector closes late; `gc()` is run to find those) fails the file.
 */
import { afterAll, afterEach } from 'vitest';

const seen: (Error & { code?: string })[] = [];
let expected: ((w: Error & { code?: string }) => boolean)[] = [];

process.on('warning', (w: Error & { code?: string }) => {
  if (expected.some((match) => match(w))) return;
  seen.push(w);
});

/**
 * Declares that the current test provokes warnings matching `match` (by code, or a predicate); they are not
 * failures. Reset after each test.
 */
export function expectWarnings(match: string | RegExp | ((w: Error & { code?: string }) => boolean)): void {
  expected.push(
    typeof match === 'function' ? match : (w) => (typeof match === 'string' ? w.code === match : match.test(`${w.code ?? ''} ${w.message}`)),
  );
}

function report(where: string): void {
  if (seen.length === 0) return;
  const all = seen.splice(0).map((w) => `${w.name}${w.code === undefined ? '' : ` [${w.code}]`}: ${w.message}`);
  throw new Error(`process warning(s) ${where}:\n${all.join('\n')}`);
}

afterEach(async () => {
  // A warning is emitted on the next tick after its cause.
  await new Promise((r) => setImmediate(r));
  expected = [];
  report('during this test');
});

afterAll(async () => {
  // Unreachable FileHandles are closed (with a warning) only when collected: collect now, while we can still fail.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  report('after the last test of this file (found by gc())');
});

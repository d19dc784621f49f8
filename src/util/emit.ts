/**
 * The package's one way to emit an event: every listener is called on its own, guarded, so a listener that throws
 * cannot stop the others, the pacer, or a promise the docs promise will settle. Its throw is reported as a process
 * warning (with `code`) instead.
 */

import type { EventEmitter } from 'node:events';

/**
 * Calls every listener of `event` on `emitter` with `args`, each in its own try/catch.
 *
 * @param emitter - the emitter.
 * @param event - the event name.
 * @param args - the arguments.
 * @param code - the warning code a throwing listener is reported under.
 * @returns whether anyone listened.
 */
export function emitGuarded(emitter: EventEmitter<any>, event: string, args: readonly unknown[], code: string): boolean {
  const listeners = emitter.rawListeners(event as never) as ((...a: unknown[]) => unknown)[];
  if (listeners.length === 0) return false;
  for (const l of listeners) {
    try {
      // rawListeners gives `once` wrappers, which remove themselves when called.
      l.apply(emitter, args as unknown[]);
    } catch (err) {
      try {
        process.emitWarning(`kook-rtp: a '${event}' listener threw: ${err instanceof Error ? err.message : String(err)}`, { code });
      } catch {
        // Warnings must never break the emitter.
      }
    }
  }
  return true;
}

/**
 * Wall time and waiting on it, injectable so rate limiters, retries and backoffs run on a fake clock in tests.
 * (The pacer's monotonic clock, which schedules packets, is `pacer/clock.ts`: a different thing.)
 */
import { KookRtpError } from '../errors.js';

/** Wall time and timers. */
export interface WallClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Schedules `fn` after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from {@link WallClock.setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and Node's timers. */
export const systemClock: WallClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Resolves after `ms` (at least 0) on `clock`, or rejects when `signal` aborts (at once if it already has).
 *
 * @param ms - how long to wait.
 * @param options - `signal` cancels the wait; `clock` (default {@link systemClock}) runs it.
 * @returns a promise of the wait.
 * @throws (rejects) with the signal's `reason` when aborted, or `ABORTED` when the signal gives none.
 */
export function sleep(ms: number, options: { readonly signal?: AbortSignal | undefined; readonly clock?: WallClock | undefined } = {}): Promise<void> {
  const { signal } = options;
  const clock = options.clock ?? systemClock;
  const reason = (): unknown => signal?.reason ?? new KookRtpError('ABORTED', 'the wait was aborted');
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(reason());
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(reason());
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Injected time: a monotonic ms clock plus timer scheduling, with a real implementation and a fake one.
 *
 * The pacer, the RTCP scheduler and the bitrate guard only ever read time through a {@link Clock}, so tests run
 * hours of stream in milliseconds with {@link FakeClock}.
 */

import { KookRtpError } from '../errors.js';

/** An opaque handle returned by {@link Clock.setTimer} and {@link Clock.setImmediate}. */
export interface ClockTimer {
  /** Brand so handles from different clocks are not mixed up by accident. */
  readonly __clockTimer: true;
}

/** Time source and timer scheduler used by the engine. */
export interface Clock {
  /** Monotonic time in ms, fractional (e.g. `performance.now()`); never goes backwards. */
  now(): number;
  /** Wall-clock time in Unix ms that corresponds to `now()`, for NTP timestamps in RTCP sender reports. */
  wallNow(): number;
  /** Calls `callback` once after at least `delayMs` ms. */
  setTimer(callback: () => void, delayMs: number): ClockTimer;
  /** Calls `callback` once after pending I/O has been polled (a `setImmediate`); used for the final spin. */
  setImmediate(callback: () => void): ClockTimer;
  /** Cancels a timer or immediate; a no-op when it already ran. */
  clearTimer(timer: ClockTimer): void;
  /**
   * How many ms before a deadline the scheduler should stop trusting timers and wait precisely instead (short
   * blocking sleeps, or immediates on clocks without {@link Clock.sleep}). 0 for clocks whose timers fire exactly
   * (the fake clock).
   */
  readonly spinMs: number;
  /**
   * Blocks the calling thread for about `ms` ms (sub-millisecond, no CPU burnt), then returns. Optional: clocks
   * without it make the scheduler fall back to immediates (a busy wait) for its precise final approach.
   *
   * @remarks The system clock uses `Atomics.wait`, which the Linux kernel wakes ~0.05-0.2 ms late; the scheduler
   * learns that bias and aims early by it.
   */
  sleep?(ms: number): void;
}

/** Options of {@link createSystemClock}. */
export interface SystemClockOptions {
  /**
   * Precise-approach window before each deadline, in ms. Default 1.5: `setTimeout` wakes up to ~1-2 ms early or
   * late (libuv counts whole ms from a cached loop time), so the scheduler aims its timer early and covers the rest
   * with short sleeps (see {@link Clock.sleep}). It is the starting lead; the scheduler then learns the timer's
   * actual error. 0 disables it (timers only: lowest overhead, ~1 ms jitter).
   */
  spinMs?: number;
  /** Whether timers keep the process alive. Default true. */
  ref?: boolean;
  /**
   * Provide {@link Clock.sleep} (a blocking `Atomics.wait`) so the scheduler's final approach to a deadline sleeps
   * instead of spinning. Default true.
   */
  sleep?: boolean;
}

/** One shared word nobody ever notifies: `Atomics.wait` on it is a plain sub-ms sleep (allowed on Node's main thread). */
let sleepCell: Int32Array | undefined;

function sleepSync(ms: number): void {
  if (!(ms > 0)) return;
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * The real clock: `performance.now()` for monotonic time, `setTimeout`/`setImmediate` for timers.
 *
 * @param options - see {@link SystemClockOptions}.
 * @returns a new clock.
 */
export function createSystemClock(options: SystemClockOptions = {}): Clock {
  const spinMs = options.spinMs ?? 1.5;
  const ref = options.ref ?? true;
  const sleep = options.sleep ?? true;
  // timeOrigin + now() keeps wall time and monotonic time in lockstep, so SR NTP/RTP pairs don't drift apart
  // when the system clock is stepped.
  const origin = performance.timeOrigin;
  return {
    now: () => performance.now(),
    wallNow: () => origin + performance.now(),
    setTimer(callback, delayMs) {
      const t = setTimeout(callback, Math.max(0, delayMs));
      if (!ref) t.unref();
      return t as unknown as ClockTimer;
    },
    setImmediate(callback) {
      const t = setImmediate(callback);
      if (!ref) t.unref();
      return t as unknown as ClockTimer;
    },
    clearTimer(timer) {
      const t = timer as unknown as NodeJS.Timeout | NodeJS.Immediate;
      // Timeouts have refresh(), immediates don't.
      if (typeof (t as Partial<NodeJS.Timeout>).refresh === 'function') clearTimeout(t as NodeJS.Timeout);
      else clearImmediate(t as NodeJS.Immediate);
    },
    spinMs,
    ...(sleep ? { sleep: sleepSync } : {}),
  };
}

let systemClock: Clock | undefined;

/**
 * The process-wide real clock (created on first use, default options).
 *
 * @returns the shared system clock.
 */
export function getSystemClock(): Clock {
  systemClock ??= createSystemClock();
  return systemClock;
}

interface FakeTimer extends ClockTimer {
  due: number;
  order: number;
  callback: (() => void) | undefined;
}

/**
 * A manual clock for tests: time moves only when {@link FakeClock.advance} or {@link FakeClock.advanceAsync} is
 * called, and timers fire exactly at their due time, in due order (FIFO among equal times).
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #wallOffset: number;
  #order = 0;
  // Few timers are pending at once (one per scheduler plus test timers): a sorted array is simplest and fast.
  readonly #timers: FakeTimer[] = [];
  /** Always 0: fake timers fire exactly at their due time. */
  readonly spinMs = 0;

  /**
   * @param startMs - initial monotonic time. Default 0.
   * @param wallStartMs - the Unix ms that corresponds to `startMs`. Default 2024-01-01T00:00:00Z.
   */
  constructor(startMs = 0, wallStartMs = Date.UTC(2024, 0, 1)) {
    this.#now = startMs;
    this.#wallOffset = wallStartMs - startMs;
  }

  /** Current fake monotonic time in ms. */
  now(): number {
    return this.#now;
  }

  /** Current fake wall time in Unix ms. */
  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  /** Schedules `callback` at `now() + delayMs`. */
  setTimer(callback: () => void, delayMs: number): ClockTimer {
    return this.#insert(callback, this.#now + Math.max(0, delayMs));
  }

  /** Schedules `callback` at `now()`, after timers already due. */
  setImmediate(callback: () => void): ClockTimer {
    return this.#insert(callback, this.#now);
  }

  /** Cancels a pending timer. */
  clearTimer(timer: ClockTimer): void {
    const t = timer as FakeTimer;
    t.callback = undefined;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, synchronously.
   *
   * @param ms - how far to move; non-negative.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a negative or non-finite `ms`.
   */
  advance(ms: number): void {
    const target = this.#target(ms);
    while (this.#fireNext(target)) {
      // keep firing
    }
    this.#now = target;
  }

  /**
   * Like {@link FakeClock.advance}, but lets promises settle after every fired timer (one macrotask turn), so
   * async producers (async iterables feeding a sender) keep up with the fake time.
   *
   * @param ms - how far to move; non-negative.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a negative or non-finite `ms`.
   */
  /**
   * Moves time forward WITHOUT firing timers, as a blocked event loop looks to the code that runs afterwards; the
   * overdue timers fire on the next {@link FakeClock.advance}.
   *
   * @param ms - how far to jump; non-negative.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a negative or non-finite `ms`.
   */
  jump(ms: number): void {
    this.#now = this.#target(ms);
  }

  async advanceAsync(ms: number): Promise<void> {
    const target = this.#target(ms);
    await settle();
    while (this.#fireNext(target)) await settle();
    this.#now = target;
    await settle();
  }

  #target(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new KookRtpError('INVALID_ARGUMENT', `advance() needs a finite non-negative ms count, found ${ms}`);
    }
    return this.#now + ms;
  }

  #fireNext(target: number): boolean {
    const t = this.#timers[0];
    if (t === undefined || t.due > target) return false;
    this.#timers.shift();
    if (t.due > this.#now) this.#now = t.due;
    const cb = t.callback;
    t.callback = undefined;
    cb?.();
    return true;
  }

  #insert(callback: () => void, due: number): ClockTimer {
    const timer: FakeTimer = { __clockTimer: true, due, order: this.#order++, callback };
    // Insert after every timer with due <= this one (stable FIFO order).
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#timers[mid] as FakeTimer).due <= due) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
    return timer;
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

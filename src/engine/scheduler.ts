/**
 * One scheduler drives every paced stream in the process: a min-heap of absolute deadlines on an injected clock.
 *
 * Wake-up is hybrid: a timer until `spinMs` before the earliest deadline, then `setImmediate` checks until it is due
 * (timers alone wake up to ~1 ms late). Every task due by the time the loop wakes runs in the same tick, so many
 * streams share one wake-up. Pure: no sockets, no globals except the lazily created default instance.
 */

import { type Clock, type ClockTimer, getSystemClock } from './clock.js';

/** A unit of periodic work (a stream's pacer, an RTCP timer...). */
export interface SchedulerTask {
  /**
   * Runs the task. Called once the clock reaches `deadline` (or up to `batchMs` before it).
   *
   * @param deadline - the absolute time the task asked for.
   * @param now - the clock reading when the tick started (read the clock again for precise measurements).
   * @returns the next absolute deadline (keep it absolute: `deadline + period`, never `now + period`), or
   *   `undefined` to leave the scheduler.
   */
  run(deadline: number, now: number): number | undefined;
  /** Receives anything `run` throws; the task is then removed. Without it, errors are counted and dropped. */
  onError?(error: unknown): void;
}

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Spin window before a deadline in ms. Default: `clock.spinMs` (1.5 on the system clock, 0 on a fake one). */
  spinMs?: number;
  /** Tasks due within this many ms of the wake-up run in the same tick, slightly early. Default 0.05 (0 when spinMs is 0). */
  batchMs?: number;
  /**
   * Most CPU the spin may burn, as a fraction of wall time. Default 0.1 (10% of one core). One stream spins 1.5 ms
   * per 20 ms (7.5%); many streams with deadlines spread over the frame would spin all the time, so past the budget
   * wake-ups fall back to timers alone (about 1 ms less precise, no busy wait).
   */
  maxSpinShare?: number;
}

/** Counters of a {@link Scheduler}. */
export interface SchedulerStats {
  /** Tasks currently scheduled. */
  readonly tasks: number;
  /** Loop wake-ups (timer or immediate). */
  readonly ticks: number;
  /** Wake-ups that ran nothing (spin checks before the deadline). */
  readonly idleSpins: number;
  /** Task runs. */
  readonly runs: number;
  /** Largest number of runs in one tick. */
  readonly maxBatch: number;
  /** Errors thrown by tasks. */
  readonly taskErrors: number;
  /** Wake-ups that used a timer inside the spin window because the spin budget was spent. */
  readonly spinFallbacks: number;
}

interface Entry {
  readonly task: SchedulerTask;
  deadline: number;
  order: number;
  /** Position in the heap, -1 when not in it. */
  index: number;
  /** Set when schedule()/cancel() touches the entry while its own run() is on the stack. */
  touched: boolean;
}

/** Pacing loop shared by many tasks; see the module comment. */
export class Scheduler {
  /** The scheduler's clock. */
  readonly clock: Clock;
  readonly #spinMs: number;
  readonly #batchMs: number;
  readonly #spinShare: number;
  /** Spin budget in ms (a token bucket refilled at `spinShare` ms per ms, capped at 2 frames' worth of spin). */
  #spinTokens: number;
  #spinRefillAt: number;
  #lastWake = 0;
  #spinning = false;
  #spinFallbacks = 0;
  readonly #heap: Entry[] = [];
  readonly #entries = new Map<SchedulerTask, Entry>();
  #order = 0;
  #timer: ClockTimer | undefined;
  /** The time the armed timer will fire at (immediates: -Infinity). */
  #armedAt = Number.POSITIVE_INFINITY;
  #inTick = false;
  #ticks = 0;
  #idleSpins = 0;
  #runs = 0;
  #maxBatch = 0;
  #taskErrors = 0;
  readonly #onWake = (): void => {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    this.#tick();
  };

  /** @param options - see {@link SchedulerOptions}. */
  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? getSystemClock();
    this.#spinMs = Math.max(0, options.spinMs ?? this.clock.spinMs);
    this.#batchMs = Math.max(0, options.batchMs ?? (this.#spinMs > 0 ? 0.05 : 0));
    this.#spinShare = Math.min(1, Math.max(0, options.maxSpinShare ?? 0.1));
    this.#spinTokens = this.#spinMs * 2;
    this.#spinRefillAt = this.clock.now();
  }

  /**
   * Adds `task` at the absolute time `deadline`, or moves it there if already scheduled.
   *
   * @param task - the task.
   * @param deadline - absolute clock time in ms.
   */
  schedule(task: SchedulerTask, deadline: number): void {
    let e = this.#entries.get(task);
    if (e === undefined) {
      e = { task, deadline, order: this.#order++, index: -1, touched: true };
      this.#entries.set(task, e);
    } else {
      e.touched = true;
      e.deadline = deadline;
      e.order = this.#order++;
    }
    if (e.index < 0) this.#push(e);
    else this.#update(e);
    if (!this.#inTick) this.#arm();
  }

  /**
   * Removes `task`; a no-op when it is not scheduled.
   *
   * @param task - the task.
   */
  cancel(task: SchedulerTask): void {
    const e = this.#entries.get(task);
    if (e === undefined) return;
    e.touched = true;
    this.#entries.delete(task);
    if (e.index >= 0) this.#remove(e);
    if (!this.#inTick && this.#heap.length === 0) this.#disarm();
  }

  /** Whether `task` is scheduled. */
  has(task: SchedulerTask): boolean {
    return this.#entries.has(task);
  }

  /** The deadline `task` is scheduled at, or undefined. */
  deadlineOf(task: SchedulerTask): number | undefined {
    return this.#entries.get(task)?.deadline;
  }

  /** Counters. */
  stats(): SchedulerStats {
    return {
      tasks: this.#entries.size,
      ticks: this.#ticks,
      idleSpins: this.#idleSpins,
      runs: this.#runs,
      maxBatch: this.#maxBatch,
      taskErrors: this.#taskErrors,
      spinFallbacks: this.#spinFallbacks,
    };
  }

  #tick(): void {
    this.#ticks++;
    if (this.#spinning) {
      // Time since the spin was armed counts against the budget (the work done in between is not spin).
      this.#spinTokens -= this.clock.now() - this.#lastWake;
      this.#spinning = false;
    }
    this.#inTick = true;
    let batch = 0;
    // Bounded so a task that keeps asking for past deadlines cannot starve the event loop.
    const limit = this.#heap.length * 2 + 16;
    try {
      let now = this.clock.now();
      while (batch < limit) {
        const e = this.#heap[0];
        if (e === undefined || e.deadline > now + this.#batchMs) break;
        this.#remove(e);
        e.touched = false;
        let next: number | undefined;
        try {
          next = e.task.run(e.deadline, now);
        } catch (error) {
          next = undefined;
          this.#taskErrors++;
          try {
            e.task.onError?.(error);
          } catch {
            // An error sink that throws must not take the loop down.
          }
        }
        batch++;
        if (!e.touched) {
          if (next === undefined || !Number.isFinite(next)) this.#entries.delete(e.task);
          else {
            e.deadline = next;
            e.order = this.#order++;
            this.#push(e);
          }
        }
        // Sends take time: re-read the clock so tasks that fell due meanwhile join this batch.
        if ((batch & 7) === 0) now = this.clock.now();
        else if (this.#heap[0] !== undefined && this.#heap[0].deadline > now + this.#batchMs) now = this.clock.now();
      }
    } finally {
      this.#inTick = false;
    }
    this.#runs += batch;
    if (batch === 0) this.#idleSpins++;
    if (batch > this.#maxBatch) this.#maxBatch = batch;
    this.#arm();
  }

  #arm(): void {
    const top = this.#heap[0];
    if (top === undefined) {
      this.#disarm();
      return;
    }
    const now = this.clock.now();
    const wait = top.deadline - now - this.#spinMs;
    // Timers run on whole ms: anything under 1 ms is cheaper and more precise as immediate checks, while the
    // spin budget lasts.
    let useTimer = this.#spinMs > 0 ? wait >= 1 : wait > 0;
    if (!useTimer && this.#spinMs > 0 && top.deadline > now + this.#batchMs) {
      this.#spinTokens = Math.min(this.#spinMs * 2, this.#spinTokens + (now - this.#spinRefillAt) * this.#spinShare);
      this.#spinRefillAt = now;
      if (this.#spinTokens <= 0) {
        useTimer = true;
        this.#spinFallbacks++;
      }
    }
    const delay = this.#spinMs > 0 ? Math.max(Math.floor(wait), wait + this.#spinMs > 0 ? 1 : 0) : wait;
    const wakeAt = useTimer ? now + delay : Number.NEGATIVE_INFINITY;
    if (this.#timer !== undefined) {
      if (this.#armedAt <= wakeAt) return;
      this.clock.clearTimer(this.#timer);
    }
    this.#armedAt = wakeAt;
    this.#spinning = !useTimer && top.deadline > now + this.#batchMs;
    this.#lastWake = now;
    this.#timer = useTimer
      ? this.clock.setTimer(this.#onWake, wakeAt - now)
      : this.clock.setImmediate(this.#onWake);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  // --- binary min-heap on (deadline, order) ---

  #less(a: Entry, b: Entry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  #push(e: Entry): void {
    e.index = this.#heap.length;
    this.#heap.push(e);
    this.#up(e.index);
  }

  #update(e: Entry): void {
    this.#up(e.index);
    this.#down(e.index);
  }

  #remove(e: Entry): void {
    const i = e.index;
    const last = this.#heap.pop() as Entry;
    e.index = -1;
    if (last !== e) {
      this.#heap[i] = last;
      last.index = i;
      this.#update(last);
    }
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Entry;
      if (!this.#less(e, pe)) break;
      h[i] = pe;
      pe.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.#less(h[r] as Entry, h[l] as Entry)) c = r;
      const ce = h[c] as Entry;
      if (!this.#less(ce, e)) break;
      h[i] = ce;
      ce.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}

/**
 * Creates a scheduler.
 *
 * @param options - see {@link SchedulerOptions}.
 * @returns a new scheduler (idle until a task is scheduled).
 */
export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  return new Scheduler(options);
}

let defaultScheduler: Scheduler | undefined;

/**
 * The process-wide scheduler on the system clock, used by senders that are not given one.
 *
 * @returns the shared scheduler.
 */
export function getDefaultScheduler(): Scheduler {
  defaultScheduler ??= new Scheduler();
  return defaultScheduler;
}

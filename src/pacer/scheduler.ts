/**
 * One scheduler drives every paced stream in the process: a min-heap of absolute deadlines on an injected clock.
 *
 * Wake-up is hybrid. Node's timers wake 1-2 ms early or late (libuv counts whole ms from a cached loop time), so the
 * timer is aimed early by a lead the scheduler learns from its own wake-ups (the 99.5th percentile of the observed
 * error, plus a margin), and the last stretch is covered precisely:
 * - `'balanced'` (default): short blocking sleeps ({@link Clock.sleep}, `Atomics.wait`) of at most 2 ms each (usually one), one
 *   per `setImmediate` turn so I/O is still polled in between, aimed at the deadline minus the sleep's learned
 *   oversleep. Costs no CPU to speak of (one short extra wake-up per deadline); lands within ~0.1 ms.
 * - `'high'`: the same, then a busy wait of at most 0.3 ms for the last bit (within a CPU budget): ~0.02 ms.
 * - `'low'`: timers only, a task running as soon as its timer fires within 1 ms of it: ±1-2 ms, one wake-up per
 *   deadline.
 * On a clock without `sleep` the final approach is `setImmediate` checks (a busy wait) under the spin budget.
 * Every task due by the time the loop wakes runs in the same tick, so many streams share one wake-up. Pure: no
 * sockets, no globals except the lazily created default instance.
 */

import { KookRtpError } from '../errors.js';
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

/**
 * How precisely the scheduler wakes up for a deadline, against what it costs; see the module comment.
 *
 * Measured for one 48 kbit/s stream on a shared 2-core EPYC VM, where every wake-up from idle costs ~150 µs of CPU
 * and a loopback send ~120 µs. Pacing only (bench/stream-cpu.ts: pre-encoded frames, sender lateness):
 * `'high'` 1.39 CPU s per minute of audio, p99 0.28 ms; `'balanced'` 1.29, p99 0.10 ms; `'low'` 0.90, p99 0.28 ms
 * (but up to 1 ms early). Whole CLI against ffmpeg (bench/compare.ts, receiver in another process):
 * `'high'` 2.5 s/min, jitter 0.2-0.3 ms; `'balanced'` 2.3-2.6 s/min, jitter 0.2-0.4 ms; `'low'` 2.15 s/min, jitter
 * 0.8 ms; inter-arrival gap p99 21-22.5 ms in all three (receiver noise); ffmpeg: 1.3 s/min, jitter 9 ms, gap p99
 * 31 ms. The previous busy wait on immediates cost ~5.4 s/min by itself.
 */
export type SchedulerPrecision = 'high' | 'balanced' | 'low';

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /**
   * Precision mode. Default `'balanced'`; `getDefaultScheduler()` reads the `KOOK_RTP_PRECISION` environment
   * variable (`high`, `balanced` or `low`) so a deployment can change it without code.
   */
  precision?: SchedulerPrecision;
  /**
   * Precise-approach window before a deadline in ms: the timer's initial lead, before the actual timer error has
   * been learned. Default: `clock.spinMs` (1.5 on the system clock, 0 on a fake one); 0 (or precision `'low'`)
   * means timers only.
   */
  spinMs?: number;
  /**
   * Tasks due within this many ms of the wake-up run in the same tick, slightly early. Default 0.05; 0 when spinMs
   * is 0, except 1 for precision `'low'` on a clock with `spinMs > 0` (timers fire up to ~1 ms early there: running
   * at once saves a second wake-up).
   */
  batchMs?: number;
  /**
   * Most CPU busy waiting may burn, as a fraction of wall time. Default 0.02 (2% of one core) when the clock can
   * sleep (the final ≤0.3 ms busy wait of `'high'`), 0.1 otherwise (the whole approach is a busy wait then). Past
   * the budget, wake-ups fall back to the sleeps or to timers alone (about 1 ms less precise, no busy wait).
   */
  maxSpinShare?: number;
  /**
   * Most wall time the event loop may spend blocked in precise-approach sleeps. Default 0.25. One stream needs about
   * 1 ms per 20 ms frame (5%); many streams with deadlines spread over the frame would sleep most of the time, so
   * past the budget wake-ups fall back to timers alone.
   */
  maxBlockShare?: number;
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
  /** Wake-ups that used a timer inside the approach window because the spin or sleep budget was spent. */
  readonly spinFallbacks: number;
  /** The learned timer lead in ms: timers are aimed this much before a deadline (0 in timers-only mode). */
  readonly leadMs: number;
  /** Precise-approach sleeps (each at most 2 ms). */
  readonly sleeps: number;
  /** Total time blocked in those sleeps, ms. */
  readonly sleptMs: number;
  /** Total time spent busy waiting, ms (the final approach of `'high'`, or immediates on a clock that cannot sleep). */
  readonly spunMs: number;
}

/**
 * Longest single blocking sleep: the most the event loop waits before it polls I/O again. One sleep usually covers
 * the whole approach: every extra wake-up costs CPU (~25 µs for a short sleep on a VM, ~150 µs for a loop turn
 * after a long idle), so the approach is one sleep, not many short ones.
 */
const SLEEP_SLICE_MS = 2;
/** Sleeps shorter than this are not worth a turn of the loop. */
const MIN_SLEEP_MS = 0.02;
/** `'high'` busy-waits at most this long, after sleeping. */
const FINAL_SPIN_MAX_MS = 0.3;
/** Added to the learned timer error percentile. */
const LEAD_MARGIN_MS = 0.2;
/**
 * The timer error percentile the lead covers. High on purpose: a timer that fires later than the lead makes that
 * packet late (the receiver sees a longer gap), while an early one only costs a longer sleep (no CPU).
 */
const LEAD_QUANTILE = 0.995;
const MIN_LEAD_MS = 0.3;
const MAX_LEAD_MS = 4;
/** Timer errors remembered (a power of two). */
const TIMER_SAMPLES = 256;
/** Sleep oversleeps remembered (a power of two). */
const SLEEP_SAMPLES = 32;

function quantile(ring: Float64Array, count: number, q: number): number {
  const n = Math.min(count, ring.length);
  const sorted = ring.slice(0, n).sort();
  return sorted[Math.min(n - 1, Math.floor(n * q))] as number;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
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
  /** The scheduler's precision mode. */
  readonly precision: SchedulerPrecision;
  readonly #spinMs: number;
  readonly #batchMs: number;
  readonly #spinShare: number;
  readonly #blockShare: number;
  readonly #canSleep: boolean;
  /** Spin budget in ms (a token bucket refilled at `spinShare` ms per ms). */
  #spinTokens: number;
  readonly #spinCap: number;
  #spinRefillAt: number;
  /** Sleep budget in ms (refilled at `blockShare` ms per ms). */
  #blockTokens: number;
  readonly #blockCap: number;
  #blockRefillAt: number;
  #lastWake = 0;
  #spinning = false;
  #spinFallbacks = 0;
  /** How early timers are aimed, learned from {@link Scheduler.#timerErr}. */
  #lead: number;
  readonly #timerErr = new Float64Array(TIMER_SAMPLES);
  #timerErrCount = 0;
  /** When the armed timer was aimed to wake, for learning its error (NaN: not a learning timer). */
  #aimAt = Number.NaN;
  /** Learned oversleep of {@link Clock.sleep}: median (balanced) and 90th percentile (high, then busy wait). */
  #sleepBias = 0.1;
  #sleepBiasHigh = 0.2;
  readonly #sleepErr = new Float64Array(SLEEP_SAMPLES);
  #sleepErrCount = 0;
  #sleeps = 0;
  #sleptMs = 0;
  #spunMs = 0;
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
    if (this.#aimAt === this.#aimAt) {
      this.#learnTimer(this.clock.now() - this.#aimAt);
      this.#aimAt = Number.NaN;
    }
    this.#tick();
  };

  /**
   * @param options - see {@link SchedulerOptions}.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an unknown precision.
   */
  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? getSystemClock();
    const precision = options.precision ?? 'balanced';
    if (precision !== 'high' && precision !== 'balanced' && precision !== 'low') {
      throw new KookRtpError('INVALID_ARGUMENT', `precision must be 'high', 'balanced' or 'low', found ${String(precision)}`);
    }
    this.precision = precision;
    this.#spinMs = precision === 'low' ? 0 : Math.max(0, options.spinMs ?? this.clock.spinMs);
    // 'low' on a real clock: a timer that fires up to 1 ms early runs its task at once rather than waking again.
    const defaultBatch = this.#spinMs > 0 ? 0.05 : precision === 'low' && this.clock.spinMs > 0 ? 1 : 0;
    this.#batchMs = Math.max(0, options.batchMs ?? defaultBatch);
    this.#canSleep = typeof this.clock.sleep === 'function';
    this.#spinShare = clamp(options.maxSpinShare ?? (this.#canSleep ? 0.02 : 0.1), 0, 1);
    this.#blockShare = clamp(options.maxBlockShare ?? 0.25, 0, 1);
    this.#lead = this.#spinMs;
    const now = this.clock.now();
    this.#spinCap = this.#canSleep ? FINAL_SPIN_MAX_MS * 2 : this.#spinMs * 2;
    this.#spinTokens = this.#spinCap;
    this.#spinRefillAt = now;
    this.#blockCap = Math.max(5, this.#spinMs * 4);
    this.#blockTokens = this.#blockCap;
    this.#blockRefillAt = now;
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
      leadMs: this.#spinMs > 0 ? this.#lead : 0,
      sleeps: this.#sleeps,
      sleptMs: this.#sleptMs,
      spunMs: this.#spunMs,
    };
  }

  #tick(): void {
    this.#ticks++;
    if (this.#spinning) {
      // Time since the spin was armed counts against the budget (the work done in between is not spin).
      const spun = this.clock.now() - this.#lastWake;
      this.#spinTokens -= spun;
      this.#spunMs += spun;
      this.#spinning = false;
    }
    if (this.#canSleep && this.#spinMs > 0) {
      // The approach sleeps right in this turn, whether a timer (aimed `lead` early) or an immediate woke us: a
      // bounce through setImmediate would cost one more turn of the loop per deadline.
      const top = this.#heap[0];
      if (top !== undefined) {
        const now = this.clock.now();
        const rem = top.deadline - now;
        if (rem > this.#batchMs && rem - this.#lead < 1 && this.#takeBlockBudget(now)) this.#sleepTowards();
      }
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

  /** One precise-approach step: sleep towards the earliest deadline (and, in 'high', busy-wait the rest). */
  #sleepTowards(): void {
    const top = this.#heap[0];
    if (top === undefined) return;
    const clock = this.clock;
    let now = clock.now();
    let rem = top.deadline - now;
    if (rem <= this.#batchMs) return;
    const high = this.precision === 'high';
    const slice = Math.min(SLEEP_SLICE_MS, rem - (high ? this.#sleepBiasHigh : this.#sleepBias));
    if (slice >= MIN_SLEEP_MS) {
      (clock.sleep as (ms: number) => void)(slice);
      const after = clock.now();
      const slept = after - now;
      this.#learnSleep(slept - slice);
      this.#blockTokens -= slept;
      this.#sleptMs += slept;
      this.#sleeps++;
      now = after;
      rem = top.deadline - now;
    }
    if (high && rem > 0 && rem <= FINAL_SPIN_MAX_MS && this.#takeSpinBudget(now)) {
      const start = now;
      while (now < top.deadline) now = clock.now();
      this.#spinTokens -= now - start;
      this.#spunMs += now - start;
    }
  }

  /** Refills the busy-wait budget; whether there is any left. */
  #takeSpinBudget(now: number): boolean {
    this.#spinTokens = Math.min(this.#spinCap, this.#spinTokens + (now - this.#spinRefillAt) * this.#spinShare);
    this.#spinRefillAt = now;
    return this.#spinTokens > 0;
  }

  /** Refills the sleep budget; whether there is any left. */
  #takeBlockBudget(now: number): boolean {
    this.#blockTokens = Math.min(this.#blockCap, this.#blockTokens + (now - this.#blockRefillAt) * this.#blockShare);
    this.#blockRefillAt = now;
    return this.#blockTokens > 0;
  }

  #learnTimer(error: number): void {
    this.#timerErr[this.#timerErrCount & (TIMER_SAMPLES - 1)] = error;
    this.#timerErrCount++;
    if (this.#timerErrCount >= 32 && (this.#timerErrCount & 15) === 0) {
      this.#lead = clamp(quantile(this.#timerErr, this.#timerErrCount, LEAD_QUANTILE) + LEAD_MARGIN_MS, MIN_LEAD_MS, Math.max(MAX_LEAD_MS, this.#spinMs));
    }
  }

  #learnSleep(error: number): void {
    this.#sleepErr[this.#sleepErrCount & (SLEEP_SAMPLES - 1)] = error;
    this.#sleepErrCount++;
    if (this.#sleepErrCount >= 8 && (this.#sleepErrCount & 7) === 0) {
      this.#sleepBias = clamp(quantile(this.#sleepErr, this.#sleepErrCount, 0.5), 0, 0.5);
      this.#sleepBiasHigh = clamp(quantile(this.#sleepErr, this.#sleepErrCount, 0.9), this.#sleepBias, 0.5);
    }
  }

  #arm(): void {
    const top = this.#heap[0];
    if (top === undefined) {
      this.#disarm();
      return;
    }
    const now = this.clock.now();
    const rem = top.deadline - now;
    /** Timer delay in ms, or -1 for an immediate. */
    let delay: number;
    let approach = false;
    let learn = false;
    if (this.#spinMs === 0) {
      // Timers only (fake clocks, precision 'low').
      delay = rem > 0 ? rem : -1;
    } else if (rem <= this.#batchMs) {
      delay = -1;
    } else if (rem - this.#lead >= 1) {
      // Node rounds timers under 1 ms up to 1 ms: shorter waits go straight to the approach.
      delay = rem - this.#lead;
      learn = true;
    } else {
      delay = -1;
      approach = true;
      if (this.#canSleep) {
        if (!this.#takeBlockBudget(now)) approach = false;
      } else if (!this.#takeSpinBudget(now)) {
        approach = false;
      }
      if (!approach) {
        // Budget spent: a plain timer at the deadline (about 1 ms less precise, no waiting).
        delay = rem;
        this.#spinFallbacks++;
      }
    }
    const wakeAt = delay >= 0 ? now + delay : Number.NEGATIVE_INFINITY;
    if (this.#timer !== undefined) {
      if (this.#armedAt <= wakeAt) return;
      this.clock.clearTimer(this.#timer);
    }
    this.#armedAt = wakeAt;
    this.#aimAt = learn ? wakeAt : Number.NaN;
    this.#spinning = approach && !this.#canSleep;
    this.#lastWake = now;
    this.#timer = delay >= 0 ? this.clock.setTimer(this.#onWake, delay) : this.clock.setImmediate(this.#onWake);
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
 * @remarks Its precision is `'balanced'` unless the `KOOK_RTP_PRECISION` environment variable says `high`, `balanced`
 * or `low` (anything else is ignored).
 * @returns the shared scheduler.
 */
export function getDefaultScheduler(): Scheduler {
  if (defaultScheduler === undefined) {
    const env = typeof process === 'undefined' ? undefined : process.env['KOOK_RTP_PRECISION'];
    defaultScheduler = new Scheduler(env === 'high' || env === 'balanced' || env === 'low' ? { precision: env } : {});
  }
  return defaultScheduler;
}

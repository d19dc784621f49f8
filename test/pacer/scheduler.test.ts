import { describe, expect, it } from 'vitest';
import { FakeClock, createSystemClock, type Clock } from '../../src/pacer/clock.js';
import { createScheduler, type Scheduler } from '../../src/pacer/scheduler.js';


/** Runs one 20 ms periodic task for 25 deadlines on a real clock; returns each run's lateness in ms, sorted. */
async function realClockLateness(s: Scheduler, clock: Clock): Promise<number[]> {
  const lateness: number[] = [];
  await new Promise<void>((resolve) => {
    let n = 0;
    s.schedule(
      {
        run: (deadline) => {
          lateness.push(clock.now() - deadline);
          if (++n === 25) {
            resolve();
            return undefined;
          }
          return deadline + 20;
        },
      },
      clock.now() + 20,
    );
  });
  return lateness.sort((a, b) => a - b);
}

describe('FakeClock', () => {
  it('fires timers in due order, FIFO among equal times, and only when time reaches them', () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.setTimer(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => log.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimer(() => log.push('never'), 15);
    clock.clearTimer(cancelled);
    clock.advance(19);
    expect(log).toEqual(['a@10']);
    clock.advance(1);
    expect(log).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(20);
  });

  it('jump() moves time without firing; the overdue timer fires on the next advance', () => {
    const clock = new FakeClock(0);
    let firedAt = -1;
    clock.setTimer(() => (firedAt = clock.now()), 10);
    clock.jump(100);
    expect(firedAt).toBe(-1);
    clock.advance(0);
    expect(firedAt).toBe(100);
  });

  it('keeps wall time in lockstep with monotonic time', () => {
    const clock = new FakeClock(5, 1_700_000_000_000);
    clock.advance(1234.5);
    expect(clock.wallNow() - clock.now()).toBe(1_700_000_000_000 - 5);
  });

  it('rejects a negative advance with INVALID_ARGUMENT', () => {
    expect(() => new FakeClock().advance(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('Scheduler', () => {
  it('keeps absolute deadlines: a 20 ms task runs 180 000 times in an hour with zero drift', () => {
    const clock = new FakeClock(0);
    const s = createScheduler({ clock });
    let runs = 0;
    let worst = 0;
    s.schedule(
      {
        run: (deadline) => {
          worst = Math.max(worst, Math.abs(clock.now() - deadline));
          runs++;
          return deadline + 20;
        },
      },
      20,
    );
    clock.advance(3_600_000);
    expect(runs).toBe(180_000);
    expect(worst).toBe(0);
  });

  it('runs every task due in the same tick as one batch, in deadline order', () => {
    const clock = new FakeClock(0);
    const s = createScheduler({ clock });
    const order: number[] = [];
    for (const [id, d] of [[3, 30], [1, 10], [2, 10], [4, 40]] as const) {
      s.schedule({ run: () => void order.push(id) as undefined }, d);
    }
    clock.jump(35);
    clock.advance(0);
    expect(order).toEqual([1, 2, 3]);
    expect(s.stats().maxBatch).toBe(3);
    expect(s.stats().tasks).toBe(1);
  });

  it('reschedules and cancels, including from inside a task', () => {
    const clock = new FakeClock(0);
    const s = createScheduler({ clock });
    const log: string[] = [];
    const b = { run: () => (log.push('b'), undefined) };
    const a = {
      run: () => {
        log.push('a');
        s.cancel(b);
        return undefined;
      },
    };
    s.schedule(a, 10);
    s.schedule(b, 20);
    s.schedule(b, 5); // moved earlier
    expect(s.deadlineOf(b)).toBe(5);
    clock.advance(30);
    expect(log).toEqual(['b', 'a']);
    s.schedule(b, 50);
    s.cancel(b);
    clock.advance(100);
    expect(log).toEqual(['b', 'a']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('isolates a throwing task: it is removed, its error sink gets the error, the others keep running', () => {
    const clock = new FakeClock(0);
    const s = createScheduler({ clock });
    const errors: unknown[] = [];
    let good = 0;
    s.schedule({ run: () => { throw new Error('bad'); }, onError: (e) => errors.push(e) }, 10);
    s.schedule({ run: (d) => (good++, d + 10) }, 10);
    clock.advance(100);
    expect(errors).toHaveLength(1);
    expect(good).toBe(10);
    expect(s.stats().taskErrors).toBe(1);
  });

  it('bounds a tick when a task keeps asking for past deadlines (continues on the next turn)', () => {
    const clock = new FakeClock(0);
    const s = createScheduler({ clock });
    let runs = 0;
    s.schedule({ run: () => (++runs < 200 ? 0 : undefined) }, 0);
    clock.advance(0);
    expect(runs).toBe(200);
    expect(s.stats().maxBatch).toBeLessThan(200); // split over several ticks
    expect(s.stats().ticks).toBeGreaterThan(1);
  });

  it('rejects an unknown precision with INVALID_ARGUMENT', () => {
    expect(() => createScheduler({ clock: new FakeClock(), precision: 'ultra' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  /**
   * A fake clock modelled on Node's: timers run at least 1 ms and fire `timerError` ms off (never at once), an
   * immediate takes 10 µs, and sleep() oversleeps by `oversleep` ms.
   */
  function sleepyClock(fake: FakeClock, opts: { timerError?: number; oversleep?: number; sleep?: boolean } = {}): Clock & { sleeps: number[] } {
    const sleeps: number[] = [];
    return {
      now: () => fake.now(),
      wallNow: () => fake.wallNow(),
      setTimer: (cb, ms) => fake.setTimer(cb, Math.max(0.01, Math.max(1, ms) + (opts.timerError ?? 0))),
      setImmediate: (cb) => fake.setTimer(cb, 0.01), // a turn of the loop takes a little time
      clearTimer: (t) => fake.clearTimer(t),
      spinMs: 1.5,
      sleeps,
      ...(opts.sleep === false
        ? {}
        : {
            sleep(ms: number) {
              sleeps.push(ms);
              fake.jump(ms + (opts.oversleep ?? 0));
            },
          }),
    };
  }

  it("'balanced': one wake-up per deadline, a timer aimed early by the learned lead, then one sleep that lands on time", () => {
    const fake = new FakeClock(0);
    const clock = sleepyClock(fake, { timerError: 0.4, oversleep: 0.08 });
    const s = createScheduler({ clock });
    const lateness: number[] = [];
    s.schedule({ run: (d) => (lateness.push(fake.now() - d), d + 20) }, 20);
    fake.advance(20 * 200 + 1);
    expect(lateness).toHaveLength(200);
    const settled = lateness.slice(50);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(-0.05);
    expect(Math.max(...settled)).toBeLessThanOrEqual(0.1);
    const st = s.stats();
    expect(st.ticks).toBeLessThanOrEqual(st.runs + 5);
    expect(st.sleeps).toBeGreaterThanOrEqual(190);
    // Timers fire 0.4 ms late: the lead settles at that error plus the margin, far under the 1.5 ms it starts from.
    expect(st.leadMs).toBeGreaterThan(0.4);
    expect(st.leadMs).toBeLessThan(0.8);
    expect(st.spunMs).toBe(0);
  });

  it("'high' adds a short busy wait after the sleep and lands within a few µs", () => {
    const fake = new FakeClock(0);
    let t = 0;
    // now() advances 2 µs per reading, as a busy wait would see it.
    const clock: Clock = { ...sleepyClock(fake, { oversleep: 0.1 }), now: () => (t = Math.max(t + 0.002, fake.now())) };
    const s = createScheduler({ clock, precision: 'high' });
    const lateness: number[] = [];
    s.schedule({ run: (d) => (lateness.push(clock.now() - d), d + 20) }, 20);
    fake.advance(20 * 100 + 1);
    const settled = lateness.slice(30);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...settled)).toBeLessThan(0.02);
    expect(s.stats().spunMs).toBeGreaterThan(0);
  });

  it("'low': timers only; a timer firing up to 1 ms early runs its task at once (one wake-up per deadline)", () => {
    const fake = new FakeClock(0);
    const clock = sleepyClock(fake, { timerError: -0.8 });
    const s = createScheduler({ clock, precision: 'low' });
    const lateness: number[] = [];
    s.schedule({ run: (d) => (lateness.push(fake.now() - d), d + 20) }, 20);
    fake.advance(20 * 50 + 1);
    expect(lateness.length).toBeGreaterThanOrEqual(50);
    for (const l of lateness) expect(l).toBeCloseTo(-0.8, 9);
    expect(s.stats().ticks).toBe(s.stats().runs);
    expect(clock.sleeps).toHaveLength(0);
    expect(s.stats().leadMs).toBe(0);
  });

  it('past the sleep budget, wake-ups fall back to plain timers', () => {
    const fake = new FakeClock(0);
    const clock = sleepyClock(fake, { timerError: -0.9 });
    const s = createScheduler({ clock, maxBlockShare: 0.01 });
    let runs = 0;
    s.schedule({ run: (d) => (runs++, d + 20) }, 20);
    fake.advance(20 * 100 + 1);
    expect(runs).toBeGreaterThanOrEqual(99);
    expect(s.stats().spinFallbacks).toBeGreaterThan(50);
    // About 1% of 2 s may be spent asleep (plus the initial budget).
    expect(s.stats().sleptMs).toBeLessThan(2000 * 0.01 + 8);
  });

  it('on a clock without sleep(), the approach is immediates (a busy wait) under the spin budget', () => {
    const fake = new FakeClock(0);
    const clock = sleepyClock(fake, { sleep: false });
    const s = createScheduler({ clock });
    const lateness: number[] = [];
    s.schedule({ run: (d) => (lateness.push(fake.now() - d), d + 20) }, 20);
    fake.advance(20 * 50 + 1);
    expect(lateness.length).toBeGreaterThanOrEqual(49);
    for (const l of lateness) expect(Math.abs(l)).toBeLessThanOrEqual(0.05);
    expect(s.stats().idleSpins).toBeGreaterThan(0);
    expect(s.stats().spunMs).toBeGreaterThan(0);
  });

  it.each(['balanced', 'high', 'low'] as const)('on the real clock, precision %s stays close to the deadline (generous bounds: loaded machine)', async (precision) => {
    const clock = createSystemClock();
    const s = createScheduler({ clock, precision });
    const lateness = await realClockLateness(s, clock);
    expect(lateness[0]).toBeGreaterThanOrEqual(precision === 'low' ? -1.01 : -0.06);
    expect(lateness[12]).toBeLessThan(15);
  });

  it('on the real clock, a hybrid timer+spin wake-up lands close to the deadline (generous bound: loaded machine)', async () => {
    const clock = createSystemClock({ spinMs: 1.5 });
    const s = createScheduler({ clock });
    const lateness = await realClockLateness(s, clock);
    expect(lateness).toHaveLength(25);
    expect(lateness[0]).toBeGreaterThanOrEqual(-0.06); // never more than batchMs early
    expect(lateness[12]).toBeLessThan(15); // median: far under a frame even on a busy machine
  });
});

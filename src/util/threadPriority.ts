/**
 * Per-thread scheduling priority on Linux: `setpriority(PRIO_PROCESS, tid)` changes one thread when given a thread
 * id, and `/proc/thread-self` names the calling thread's id. The pacer thread asks for a higher priority (allowed for
 * root or with CAP_SYS_NICE; silently kept as it is otherwise), so that on a busy machine the thread with a deadline
 * runs first. Media workers may be given a nice value through their worker data (default: unchanged).
 */

import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets the calling thread's nice value when the platform and the user's rights allow.
 *
 * @param nice - -20 (highest) to 19 (lowest).
 * @returns whether it was applied.
 */
export function setThreadNice(nice: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = currentThreadId();
    if (tid === undefined) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks for real-time scheduling (SCHED_FIFO at `priority`) for the calling thread, through util-linux's `chrt`
 * (Node has no binding for sched_setscheduler). On kernels with the EEVDF scheduler (Linux 6.6+) a nice value alone
 * does not make a waking thread preempt a busy one at once: it may wait out the running thread's slice (~3 ms), which
 * is what a pacer with 20 ms deadlines cannot afford. Granted to root or with CAP_SYS_NICE; otherwise nothing changes.
 *
 * @returns whether it was applied.
 */
export function setThreadRealtime(priority: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = currentThreadId();
    if (tid === undefined) return false;
    const r = spawnSync('chrt', ['-f', '-p', String(priority), String(tid)], { stdio: 'ignore', timeout: 2000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** The calling thread's kernel id (Linux: `/proc/thread-self` links to `PID/task/TID`), or undefined. */
function currentThreadId(): number | undefined {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  return Number.isInteger(tid) && tid > 0 ? tid : undefined;
}

/**
 * Per-thread scheduling priority on Linux: `setpriority(PRIO_PROCESS, tid)` changes one thread when given a thread
 * id, and `/proc/thread-self` names the calling thread's id. The pacer thread asks for a higher priority (allowed for
 * root or with CAP_SYS_NICE; silently kept as it is otherwise), so that on a busy machine the thread with a deadline
 * runs first. Media workers may be given a nice value through their worker data (default: unchanged).
 */

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
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

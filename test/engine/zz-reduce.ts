import { readFileSync, writeFileSync } from 'node:fs';
import { runChaosChild, type Step } from './chaos.js';
const [file, threadsArg, pattern, triesArg, out] = process.argv.slice(2) as [string, string, string, string, string];
let steps = JSON.parse(readFileSync(file, 'utf8')) as Step[];
const re = new RegExp(pattern);
const tries = Number(triesArg);
async function fails(s: Step[]): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const r = await runChaosChild(s, { threads: threadsArg === 'true', ending: 'drain', probe: false, settleMs: 5000 }, 40_000);
    if (r.failures.some((f) => re.test(f))) return true;
  }
  return false;
}
// Cut the tail first: the shortest prefix that still fails.
let n = steps.length;
for (let k = steps.length - 1; k >= 1; k--) {
  if (await fails(steps.slice(0, k))) n = k; else break;
}
steps = steps.slice(0, n);
console.log(`prefix ${n}`);
for (let size = Math.max(1, Math.floor(steps.length / 4)); size >= 1; size = Math.floor(size / 2)) {
  for (let i = 0; i + size <= steps.length; ) {
    const cand = [...steps.slice(0, i), ...steps.slice(i + size)];
    if (await fails(cand)) {
      steps = cand;
      console.log(`removed ${size} at ${i}: ${steps.length} left`);
      writeFileSync(out, JSON.stringify(steps));
    } else i += size;
  }
  if (size === 1) break;
}
writeFileSync(out, JSON.stringify(steps));
console.log(JSON.stringify(steps));

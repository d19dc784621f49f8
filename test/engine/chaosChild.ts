/**
 * Run by chaos.ts (runChaosChild) in a child process: reads `{ steps, options }` as JSON on stdin, runs them with
 * runChaos, writes each log line as `LOG ...` and the failures as `RESULT {...}` on stdout, then returns: the process
 * must exit by itself (the parent kills it after 5 s otherwise and reports a handle left open).
 */
import { runChaos, type ChaosOptions, type Step } from './chaos.js';

let input = '';
for await (const c of process.stdin) input += (c as Buffer).toString();
const { steps, options } = JSON.parse(input) as { steps: Step[]; options: Omit<ChaosOptions, 'stream'> };
const r = await runChaos(steps, { ...options, stream: (line) => process.stdout.write(`LOG ${line}\n`) });
process.stdout.write(`RESULT ${JSON.stringify({ failures: r.failures })}\n`);

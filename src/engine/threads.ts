/**
 * Starting the package's worker threads from source (tsx, vitest) or from the built `dist/`.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker from a module next to the caller.
 *
 * @param base - the caller's `import.meta.url`.
 * @param relative - the module's path relative to it, without extension (`'../pacer/worker'`).
 * @param options - worker options.
 * @returns the worker.
 */
export function startWorker(base: string, relative: string, options: WorkerOptions = {}): Worker {
  const fromSource = base.endsWith('.ts');
  const url = new URL(`${relative}.${fromSource ? 'ts' : 'js'}`, base);
  if (!fromSource) return new Worker(url, options);
  // From source (tsx, vitest) the worker needs a TypeScript loader: register tsx's ESM hooks in the worker, then load
  // the module (Node 20 does not take `--import` in a worker's execArgv).
  const tsxDir = dirname(createRequire(base).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** Whether worker threads are used unless an option says otherwise (`KOOK_RTP_THREADS=0` turns them off). */
export function threadsByDefault(): boolean {
  const v = process.env['KOOK_RTP_THREADS'];
  return !(v === '0' || v === 'false' || v === 'off');
}

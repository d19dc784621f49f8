import { PassThrough } from 'node:stream';
import { runCli } from '../src/cli/main.js';
import { KookRtpError, type ErrorCode } from '../src/errors.js';

/**
 * Runs `fn` and names how it ended: the `KookRtpError` code it threw, `'no error'`, or `'not a KookRtpError'`, so a
 * table test can compare one string (and a wrong error type shows in the diff).
 */
export function codeOf(fn: () => unknown): ErrorCode | 'no error' | 'not a KookRtpError' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof KookRtpError ? err.code : 'not a KookRtpError';
  }
}

/** Runs the CLI in this process, as a script would (not a terminal); collects stdout and stderr. */
export async function runCliInProcess(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(args, { stdout, stderr, isTty: false });
  return { code, out, err };
}

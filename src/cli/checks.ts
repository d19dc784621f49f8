/** Checks made before anything plays: the inputs exist, and every output can be written (exit 2 naming the path). */
import { statSync } from 'node:fs';
import { access, constants as fsConstants, stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { KookRtpError, isKookRtpError } from '../errors.js';

/**
 * Checks that a file can be written at `path` before anything plays: its folder exists and is writable, and the
 * path is not a folder. Nothing is created.
 * @throws {@link KookRtpError} `USAGE` naming the flag and the path
 */
export async function checkOutputPath(flag: string, path: string): Promise<void> {
  const abs = resolvePath(path);
  const dir = dirname(abs);
  const fail = (why: string): never => {
    throw new KookRtpError('USAGE', `${flag} ${path}: ${why}`);
  };
  let dirStat;
  try {
    dirStat = await stat(dir);
  } catch {
    return fail(`the folder ${dir} does not exist (create it first)`);
  }
  if (!dirStat.isDirectory()) fail(`${dir} is not a folder`);
  try {
    await access(dir, fsConstants.W_OK);
  } catch {
    fail(`the folder ${dir} is not writable`);
  }
  try {
    const st = await stat(abs);
    if (st.isDirectory()) fail('is a folder, not a file');
    await access(abs, fsConstants.W_OK).catch(() => fail('exists and is not writable'));
  } catch (err) {
    if (isKookRtpError(err)) throw err;
    // Does not exist yet: it will be created.
  }
}

/**
 * Checks that every local input exists and is a file before anything starts (URLs are left to the player).
 * @throws {@link KookRtpError} `USAGE` naming the input
 */
export function checkInputs(inputs: readonly string[]): void {
  for (const input of inputs) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) continue;
    let st;
    try {
      st = statSync(input);
    } catch {
      throw new KookRtpError('USAGE', `input ${input} does not exist`);
    }
    if (!st.isFile()) throw new KookRtpError('USAGE', `input ${input} is not a file`);
  }
}

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

import { describe, expect, it } from 'vitest';
import { KookRtpError, isKookRtpError } from '../src/index.js';

describe('KookRtpError', () => {
  it('carries a stable code and is recognised by isKookRtpError', () => {
    const err = new KookRtpError('INVALID_INPUT', 'expected audio, found nothing');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('INVALID_INPUT');
    expect(isKookRtpError(err)).toBe(true);
    expect(isKookRtpError(err, 'INVALID_INPUT')).toBe(true);
    expect(isKookRtpError(err, 'DECODE_FAILED')).toBe(false);
    expect(isKookRtpError(new Error('x'))).toBe(false);
  });
});

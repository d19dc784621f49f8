import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/emulator/kook/rateLimiter.js';

describe('emulator rate limiter', () => {
  it('counts per bucket in fixed windows and reports the reset in whole seconds', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 2, windowMs: 14_000 }, undefined, () => now);
    expect(limiter.take('a').headers).toMatchObject({ 'X-Rate-Limit-Remaining': '1', 'X-Rate-Limit-Reset': '14', 'X-Rate-Limit-Bucket': 'a' });
    now = 500;
    expect(limiter.take('a').headers['X-Rate-Limit-Remaining']).toBe('0');
    expect(limiter.take('b').allowed).toBe(true); // another bucket
    now = 1000;
    const refused = limiter.take('a');
    expect(refused.allowed).toBe(false);
    expect(refused.headers['X-Rate-Limit-Reset']).toBe('13');
    now = 14_000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(Object.fromEntries(limiter.refusals)).toEqual({ a: 1 });
  });

  it('refuses every bucket once the global window is spent, with the Global header', () => {
    let now = 0;
    const limiter = new RateLimiter(undefined, { limit: 2, windowMs: 1000 }, () => now);
    limiter.take('a');
    limiter.take('b');
    const refused = limiter.take('c');
    expect(refused).toMatchObject({ allowed: false, global: true });
    expect('X-Rate-Limit-Global' in refused.headers).toBe(true);
    now = 1000;
    expect(limiter.take('c').allowed).toBe(true);
  });
});

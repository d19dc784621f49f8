/**
 * The KOOK client's parts, each on its own: the rate-limit state, what a failed attempt means, and the envelope.
 * (The whole client against real loopback servers is client.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { envelopeData, envelopeOf, statusError } from '../../src/kook/envelope.js';
import { RateLimits, readRateInfo } from '../../src/kook/rateLimit.js';
import { attemptFailure, type RequestTarget } from '../../src/kook/request.js';
import { codeOf } from '../helpers.js';

const TOKEN = 'tok-SECRET-123';
const target: RequestTarget = { apiBase: 'http://127.0.0.1:9/api/v3', token: TOKEN, acceptLanguage: undefined, timeoutMs: 500, maxResponseBytes: 1024, fetch: globalThis.fetch };

describe('rateLimit: buckets and the global limit', () => {
  it('a 429 closes its bucket until the advertised reset; the wait rolls it over', () => {
    let now = 1000;
    const limits = new RateLimits(() => now, 60_000, 250);
    expect(limits.pending('voice/join')).toBeUndefined();
    const info = readRateInfo(new Headers({ 'x-rate-limit-bucket': 'voice', 'x-rate-limit-reset': '2', 'x-rate-limit-remaining': '0' }), [TOKEN]);
    limits.record('voice/join', info, 429);
    const wait = limits.pending('voice/join')!;
    expect(wait).toMatchObject({ waitMs: 2000, bucket: 'voice', global: false });
    now += 2000;
    wait.done();
    expect(limits.pending('voice/join')).toBeUndefined();
  });

  it('a global reset holds every endpoint; one longer than the maximum throws RATE_LIMITED at once', () => {
    const limits = new RateLimits(() => 0, 5000, 250);
    limits.record('voice/list', readRateInfo(new Headers({ 'x-rate-limit-global': '', 'x-rate-limit-reset': '3' }), []), 200);
    expect(limits.pending('voice/leave')).toMatchObject({ waitMs: 3000, global: true });
    limits.record('voice/list', readRateInfo(new Headers({ 'x-rate-limit-global': '', 'x-rate-limit-reset': '30' }), []), 200);
    expect(codeOf(() => limits.pending('voice/leave'))).toBe('RATE_LIMITED');
  });

  it('header values are scrubbed; an implausible reset is not believed', () => {
    const info = readRateInfo(new Headers({ 'x-rate-limit-bucket': `b-${TOKEN}`, 'x-rate-limit-reset': '99999999' }), [TOKEN]);
    expect(info.bucket).toBe('b-[REDACTED]');
    expect(info.resetMs).toBeUndefined();
    expect(info.implausibleReset).toBe('99999999');
  });
});

describe('request: what an attempt without an answer means', () => {
  it.each([
    { name: 'refused: never sent', err: Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error(`connect ECONNREFUSED ${TOKEN}`), { code: 'ECONNREFUSED' }) }), code: 'HTTP_ERROR', unsent: true },
    { name: 'reset: maybe sent', err: Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }), code: 'HTTP_ERROR', unsent: false },
    { name: 'timeout', err: Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), code: 'TIMEOUT', unsent: false },
  ])('$name -> $code', ({ err, code, unsent }) => {
    const r = attemptFailure(err, 'voice/join', target, [TOKEN]);
    expect(r.error.code).toBe(code);
    expect(r.unsent).toBe(unsent);
    expect(r.error.message).toContain('127.0.0.1:9');
    expect(JSON.stringify({ m: r.error.message, c: String((r.error.cause as Error).cause ?? '') })).not.toContain(TOKEN);
  });
});

describe('envelope: the answer mapped to data or a typed error', () => {
  const answer = (status: number, json: unknown, text = JSON.stringify(json)) => ({ status, headers: new Headers(), json, text });
  it.each([
    { name: 'code 0: the data, scrubbed', status: 200, json: { code: 0, message: '', data: { ip: `1.2.3.4 ${TOKEN}` } }, data: { ip: '1.2.3.4 [REDACTED]' } },
    { name: 'code != 0: KOOK_API', status: 200, json: { code: 40000, message: 'no' }, errorCode: 'KOOK_API' },
    { name: 'not the envelope: HTTP_ERROR', status: 200, json: ['x'], errorCode: 'HTTP_ERROR' },
  ])('$name', ({ status, json, data, errorCode }) => {
    const a = answer(status, json);
    const run = (): unknown => envelopeData('voice/join', a, envelopeOf(a.json, [TOKEN]), [TOKEN]);
    if (errorCode === undefined) expect(run()).toEqual(data);
    else expect(codeOf(run)).toBe(errorCode);
  });

  it('a non-2xx answer keeps the envelope it carried and hints at the path', () => {
    const env = envelopeOf({ code: 401, message: `bad token ${TOKEN}` }, [TOKEN]);
    const err = statusError('voice/join', 401, env, 'http://127.0.0.1:9/api/v3', [TOKEN]);
    expect(err).toMatchObject({ code: 'HTTP_ERROR', status: 401, apiCode: 401, apiMessage: 'bad token [REDACTED]' });
    expect(err.message).toContain('check the bot token');
    const notFound = statusError('voice/join', 404, envelopeOf(undefined, []), 'http://127.0.0.1:9/api', []);
    expect(notFound.message).toMatch(/api\/v3/);
  });
});

/**
 * Verdicts that arrive after the stop: the services analyse the last seconds of a stream after the player stopped
 * sending, and their callbacks come late (Tupu's did in 2 of 6 runs of a strict emulator). Every verdict that arrives
 * within the grace period is delivered, marked `afterStop`; later ones are not routed any more.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createShumeiEmulator } from '../../src/emulator/services/shumei.js';
import { createTupuEmulator } from '../../src/emulator/services/tupu.js';
import { createCallbackServer } from '../../src/services/callbackServer.js';
import { DEFAULT_VERDICT_GRACE_MS, moderate, type ModerationEvent } from '../../src/services/moderate.js';
import { createShumeiClient } from '../../src/services/shumei.js';
import { createModerationTap } from '../../src/services/tap.js';
import { createTupuClient } from '../../src/services/tupu.js';
import { http, keys, waitFor } from './helpers.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const json = { 'content-type': 'application/json' };
/** A Tupu callback as the service sends it: `{ signature, json }`, signed with Tupu's key. */
const tupuSigned = (inner: unknown): string => {
  const text = JSON.stringify(inner);
  return JSON.stringify({ signature: sign('sha256', Buffer.from(text), createPrivateKey(keys.tupuPkcs1)).toString('base64'), json: text });
};
const late = {
  shumei: (requestId: string, n: number) => JSON.stringify({ requestId: `${requestId}_${n}`, code: 1100, message: 'ok', audioDetail: { riskLevel: 'REJECT', riskLabel1: 'abuse', audioText: `last words ${n}` } }),
  tupu: (requestId: string, n: number) => tupuSigned({ task1: { texts: [{ requestId, content: `last words ${n}`, label: 1, sliceStartTime: n * 1000, sliceEndTime: n * 1000 + 1000 }] } }),
};

async function setup(graceMs: number | undefined) {
  const cb = await createCallbackServer({ tupuPublicKey: keys.tupuPublic });
  cleanup.push(() => cb.close());
  const shumei = await createShumeiEmulator({ accessKeys: ['ak-g'] });
  cleanup.push(() => shumei.close());
  const tupu = await createTupuEmulator({ customers: { 'sid-g': keys.clientPublic }, signingKey: keys.tupuPkcs8 });
  cleanup.push(() => tupu.close());
  const tap = await createModerationTap();
  cleanup.push(() => tap.close());
  tap.start();
  const session = moderate({
    tap,
    callbackServer: cb,
    shumei: { client: createShumeiClient({ accessKey: 'ak-g', baseUrl: shumei.baseUrl }), submitOptions: { eventId: 'voiceroom', type: 'POLITICS', data: { tokenId: 't', btId: 'b' } } },
    tupu: { client: createTupuClient({ secretId: 'sid-g', privateKey: keys.clientPkcs8, host: tupu.baseUrl }), stream: { callbackRules: 1 } },
    ...(graceMs === undefined ? {} : { verdictGraceMs: graceMs }),
  });
  cleanup.push(() => session.close());
  const verdicts: ModerationEvent[] = [];
  session.on('moderation', (v) => verdicts.push(v));
  await session.ready;
  return { cb, tap, session, verdicts, ids: session.requestIds() };
}

describe('moderate: verdicts after the stop', () => {
  it('documents a default grace of 30 s', () => {
    expect(DEFAULT_VERDICT_GRACE_MS).toBe(30_000);
  });

  it.each(['shumei', 'tupu'] as const)('%s: a verdict before the stop is not marked; one after the stop (services closed) is delivered with afterStop', async (provider) => {
    const { cb, tap, session, verdicts, ids } = await setup(undefined);
    const id = ids[provider]!;
    expect(id).toBeTruthy();
    expect((await http(cb.urls[provider], { method: 'POST', headers: json, body: late[provider](id, 1) })).status).toBe(200);
    await waitFor(() => verdicts.length === 1, 5000, 'the verdict before the stop');
    expect(verdicts[0]).toMatchObject({ provider, riskLevel: 'REJECT', afterStop: false });

    tap.stop(); // what the player's stop does
    await session.close();
    expect((await http(cb.urls[provider], { method: 'POST', headers: json, body: late[provider](id, 2) })).status).toBe(200);
    await waitFor(() => verdicts.length === 2, 5000, 'the verdict after the stop');
    expect(verdicts[1]).toMatchObject({ provider, requestId: id, riskLevel: 'REJECT', afterStop: true, text: expect.stringContaining('last words 2') });
  });

  it('stops routing once the grace period is over', async () => {
    const { cb, tap, session, verdicts, ids } = await setup(300);
    tap.stop();
    await session.close();
    await http(cb.urls.tupu, { method: 'POST', headers: json, body: late.tupu(ids.tupu!, 3) });
    await waitFor(() => verdicts.length === 1, 5000, 'the verdict inside the grace');
    await new Promise((r) => setTimeout(r, 400));
    await http(cb.urls.tupu, { method: 'POST', headers: json, body: late.tupu(ids.tupu!, 4) });
    await http(cb.urls.shumei, { method: 'POST', headers: json, body: late.shumei(ids.shumei!, 4) });
    await new Promise((r) => setTimeout(r, 100));
    expect(verdicts.map((v) => v.text)).toEqual(['last words 3']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createShumeiEmulator, type ShumeiEmulator } from '../../../src/emulator/services/shumei.js';
import { createTupuEmulator, type TupuEmulator } from '../../../src/emulator/services/tupu.js';
import { createCallbackServer, type CallbackServer } from '../../../src/services/callbackServer.js';
import { moderate, type ModerationEvent } from '../../../src/services/moderate.js';
import { createShumeiClient } from '../../../src/services/shumei.js';
import { createModerationTap, type ModerationTap } from '../../../src/services/tap.js';
import { createTupuClient } from '../../../src/services/tupu.js';
import { feed, keys, waitFor } from '../../services/helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(): Promise<{ tap: ModerationTap; cb: CallbackServer; shumei: ShumeiEmulator; tupu: TupuEmulator }> {
  const tap = await createModerationTap();
  cleanup.push(() => tap.close());
  const cb = await createCallbackServer({ tupuPublicKey: keys.tupuPublic });
  cleanup.push(() => cb.close());
  // Quiet audio (-26 dBFS) passes, loud (-7 dBFS) is rejected.
  const shumei = await createShumeiEmulator({ accessKeys: ['ak-e2e'], segmentMs: 500, callbackIntervalMs: 30, rejectAboveDb: -15 });
  cleanup.push(() => shumei.close());
  const tupu = await createTupuEmulator({ customers: { 'sid-e2e': keys.clientPublic }, signingKey: keys.tupuPkcs8, segmentMs: 500, rejectAboveDb: -15, signAnswers: true });
  cleanup.push(() => tupu.close());
  return { tap, cb, shumei, tupu };
}

describe('end to end: tap -> emulators pull -> callbacks -> events', () => {
  it('Shumei and Tupu pull the tap, report PASS then REJECT when it gets loud, and are closed on stop', async () => {
    const { tap, cb, shumei, tupu } = await setup();
    let amplitude = 1500; // about -26 dBFS
    tap.start();
    const stopFeed = feed((f) => tap.writePcm(f), () => amplitude, 5, 100);
    cleanup.push(async () => stopFeed());
    const session = moderate({
      tap,
      callbackServer: cb,
      shumei: {
        client: createShumeiClient({ accessKey: 'ak-e2e', baseUrl: shumei.baseUrl }),
        submitOptions: { eventId: 'voiceroom', type: 'POLITICS_PORN_ABUSE', data: { tokenId: 'bot-1', btId: 'channel-42', returnAllText: 1 } },
      },
      tupu: {
        client: createTupuClient({ secretId: 'sid-e2e', privateKey: keys.clientPkcs1, tupuPublicKey: keys.tupuPublic, host: tupu.baseUrl }),
        stream: { roomId: 'channel-42', callbackRules: 3 },
      },
    });
    const events: ModerationEvent[] = [];
    const errors: Error[] = [];
    const closed: string[] = [];
    session.on('moderation', (e) => events.push(e));
    session.on('error', (e) => errors.push(e));
    session.on('closed', (e) => closed.push(e.provider));
    await session.ready;
    const ids = session.requestIds();
    expect(ids.shumei).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.tupu).toBeTruthy();
    await waitFor(() => tap.stats().connections === 2, 5000, 'both services pulling');

    await waitFor(() => events.some((e) => e.provider === 'shumei' && e.riskLevel === 'PASS') && events.some((e) => e.provider === 'tupu' && e.riskLevel === 'PASS'), 15_000, 'PASS from both');
    amplitude = 14000; // about -7 dBFS
    await waitFor(() => events.some((e) => e.provider === 'shumei' && e.riskLevel === 'REJECT') && events.some((e) => e.provider === 'tupu' && e.riskLevel === 'REJECT'), 15_000, 'REJECT from both');

    const rejected = events.find((e) => e.provider === 'shumei' && e.riskLevel === 'REJECT')!;
    expect(rejected.requestId).toBe(ids.shumei);
    expect(rejected.label).toBe('abuse');
    expect(events.every((e) => e.requestId === (e.provider === 'shumei' ? ids.shumei : ids.tupu))).toBe(true);

    tap.stop();
    await waitFor(() => closed.length === 2, 5000, 'both closed');
    expect(errors).toEqual([]);
    expect(shumei.streams.get(ids.shumei!)?.state).not.toBe('pulling');
    expect(tupu.streams.get(ids.tupu!)?.state).not.toBe('pulling');
    // Every Shumei callback was answered 200 the first time, so none was re-sent.
    expect(shumei.deliveries.every((d) => d.delivered && d.attempts === 1)).toBe(true);
    expect(cb.stats().rejected).toBe(0);
  });

  it('closes a lost stream on a duplicate push and submits again', async () => {
    const { tap, cb, shumei } = await setup();
    tap.start();
    const stopFeed = feed((f) => tap.writePcm(f), () => 1500, 5, 100);
    cleanup.push(async () => stopFeed());
    const client = createShumeiClient({ accessKey: 'ak-e2e', baseUrl: shumei.baseUrl });
    // A first submit whose answer the bot "lost".
    const lost = await client.submit({ type: 'PORN', callback: cb.urls.shumei, data: { tokenId: 't', btId: 'dup-room', url: tap.url } });
    const session = moderate({ tap, callbackServer: cb, shumei: { client, submitOptions: { type: 'PORN', data: { tokenId: 't', btId: 'dup-room' } } } });
    await session.ready;
    expect(session.requestIds().shumei).toBeDefined();
    expect(session.requestIds().shumei).not.toBe(lost.requestId);
    expect(shumei.streams.get(lost.requestId)?.state).toBe('closed');
    await session.close();
  });
});

import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createShumeiEmulator } from '../../src/emulator/services/shumei.js';
import { createTupuEmulator } from '../../src/emulator/services/tupu.js';
import { createPlayer } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';
import { createCallbackServer } from '../../src/services/callbackServer.js';
import type { ModerationEvent } from '../../src/services/moderate.js';
import { moderatePlayer } from '../../src/services/moderatePlayer.js';
import { createShumeiClient } from '../../src/services/shumei.js';
import { createTupuClient } from '../../src/services/tupu.js';
import { keys, waitFor } from './helpers.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('moderatePlayer: a playing player under Shumei and Tupu (emulated) moderation', () => {
  it('taps what the player sends, gets verdicts as the link\'s events, and closes the moderation (and the link) when the player stops', async () => {
    const sink = createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => sink.close(() => r())));
    const cb = await createCallbackServer({ tupuPublicKey: keys.tupuPublic });
    cleanup.push(() => cb.close());
    // Anything louder than -45 dBFS is "rejected": the speech fixture is.
    const shumei = await createShumeiEmulator({ accessKeys: ['ak-p'], segmentMs: 500, callbackIntervalMs: 30, rejectAboveDb: -45 });
    cleanup.push(() => shumei.close());
    const tupu = await createTupuEmulator({ customers: { 'sid-p': keys.clientPublic }, signingKey: keys.tupuPkcs8, segmentMs: 500, rejectAboveDb: -45, signAnswers: true });
    cleanup.push(() => tupu.close());

    const sender = createRtpSender({ target: { host: '127.0.0.1', port: sink.address().port, rtcpMux: true }, roomBitrate: 48000 });
    const player = createPlayer({ sender, roomBitrate: 48000 });
    cleanup.push(() => player.destroy());
    const m = await moderatePlayer(player, {
      callbackServer: cb,
      shumei: {
        client: createShumeiClient({ accessKey: 'ak-p', baseUrl: shumei.baseUrl }),
        submitOptions: { eventId: 'voiceroom', type: 'POLITICS_PORN_ABUSE', data: { tokenId: 'bot-1', btId: 'channel-1' } },
      },
      tupu: {
        client: createTupuClient({ secretId: 'sid-p', privateKey: keys.clientPkcs8, tupuPublicKey: keys.tupuPublic, host: tupu.baseUrl }),
        stream: { roomId: 'channel-1', callbackRules: 1 },
      },
    });
    const verdicts: ModerationEvent[] = [];
    const errors: unknown[] = [];
    m.on('moderation', (e) => verdicts.push(e));
    let linkClosed = 0;
    m.on('closed', () => linkClosed++);
    m.session.on('error', (e) => errors.push(e));
    const closed: string[] = [];
    m.session.on('closed', (e) => closed.push(e.provider));

    player.enqueue(new URL('../../fixtures/media/speech.ogg', import.meta.url).pathname);
    await m.session.ready;
    const ids = m.session.requestIds();
    await waitFor(
      () => verdicts.some((v) => v.provider === 'shumei' && v.riskLevel === 'REJECT') && verdicts.some((v) => v.provider === 'tupu' && v.riskLevel === 'REJECT'),
      20_000,
      'REJECT verdicts from both services as the link\'s events',
    );
    expect(m.tap.stats().connections).toBe(2);
    player.stop();
    await waitFor(() => closed.length === 2, 5000, 'both moderations closed');
    expect(shumei.streams.get(ids.shumei!)?.state).not.toBe('pulling');
    expect(tupu.streams.get(ids.tupu!)?.state).not.toBe('pulling');
    expect(errors).toEqual([]);
    await waitFor(() => linkClosed === 1, 5000, 'the link closed');
    expect(player.listenerCount('stateChange')).toBe(0);
  });
});

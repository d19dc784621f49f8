import { describe, expect, it } from 'vitest';
import { createPlayer } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';
import { PcmFramer } from '../../src/media/dsp/framer.js';
import { checkVolume, MAX_VOLUME } from '../../src/util/volume.js';
import { runCliInProcess } from '../helpers.js';

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    return (err as Error).message;
  }
  throw new Error('expected a throw');
};

describe('one volume rule: a finite linear gain from 0 to 16', () => {
  it.each([0, 0.5, 1, MAX_VOLUME])('%s is accepted', (v) => {
    expect(checkVolume(v)).toBe(v);
  });

  it.each([-0.1, 16.01, Number.NaN, Number.POSITIVE_INFINITY, '1', undefined])('%s is INVALID_ARGUMENT', (v) => {
    expect(messageOf(() => checkVolume(v))).toMatch(/^volume must be a linear gain from 0 to 16/);
  });

  it('the player and the framer apply the same rule with the same message', () => {
    const sender = createRtpSender({ target: { host: '127.0.0.1', port: 9, rtcpMux: true }, roomBitrate: 48000, threads: false });
    const player = createPlayer({ sender, roomBitrate: 48000, threads: false });
    try {
      const fromPlayer = messageOf(() => {
        player.volume = 17;
      });
      const fromFramer = messageOf(() => new PcmFramer({ sampleRate: 48000, channels: 2, volume: 17 }));
      expect(fromPlayer).toBe(messageOf(() => checkVolume(17)));
      expect(fromFramer).toBe(fromPlayer);
      expect(messageOf(() => createPlayer({ sender, roomBitrate: 48000, volume: -1, threads: false }))).toBe(messageOf(() => checkVolume(-1)));
    } finally {
      void player.destroy();
    }
  });

  it('the CLI says the same range', async () => {
    const r = await runCliInProcess(['play', new URL('../../fixtures/media/sine-s16-44k.wav', import.meta.url).pathname, '--volume', '17']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kook-rtp: USAGE: --volume must be a number 0-16, found "17"/);
  });
});

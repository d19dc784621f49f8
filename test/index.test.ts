import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public entry', () => {
  it('exports the main building blocks as named values', () => {
    for (const name of [
      'createVoiceSession',
      'createKookClient',
      'createPlayer',
      'createRtpSender',
      'openTrack',
      'probe',
      'createOpusEncoder',
      'startKookEmulator',
      'createModerationTap',
      'moderate',
      'createCallbackServer',
      'createShumeiClient',
      'createTupuClient',
      'createAnyRtcClient',
      'encodeRtpPacket',
      'decodeRtpPacket',
      'encodeCompound',
      'decodeCompound',
      'ReceiverStatistics',
      'buildOpusSdp',
      'KookRtpError',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});

import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public entry (kook-rtp): what a bot needs', () => {
  it('exports the session, player, sender, errors, configuration and watching as named values', () => {
    for (const name of [
      'createVoiceSession',
      'createKookClient',
      'createPlayer',
      'createRtpSender',
      'configureMediaPool',
      'configurePacerThread',
      'opusBackendInfo',
      'createPcapRecorder',
      'createDashboard',
      'KookRtpError',
      'isKookRtpError',
      'KookApiError',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('does not export the emulators (kook-rtp/emulator has them)', () => {
    for (const name of ['startKookEmulator', 'createShumeiEmulator', 'createTupuEmulator', 'createAnyRtcEmulator']) {
      expect(name in api, name).toBe(false);
    }
  });
});

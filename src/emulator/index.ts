/**
 * kook-rtp/emulator: the KOOK voice emulator and the Shumei, Tupu and anyRTC emulators, for tests and offline runs.
 *
 * This file is the one list of what the folder exports (`kook-rtp`, the bots' entry, does not repeat it), with
 * `KookRtpError` so that code importing only this part can match on error codes. Named exports only.
 */

export { KookRtpError, isKookRtpError } from '../errors.js';
export type { ErrorCode } from '../errors.js';

export { startKookEmulator } from './kook/emulator.js';
export type {
  KookEmulator,
  KookEmulatorOptions,
  KookEmulatorChannelConfig,
  KookEmulatorChannelView,
  KookEmulatorFault,
  KookEmulatorEvents,
  KookEmulatorRequestLog,
} from './kook/emulator.js';
export type {
  KookStreamReport,
  KookStreamKick,
  KookStreamReclaim,
  KookStreamRtcpReport,
  KookStreamCloseReason,
  KookStreamEvents,
} from './kook/stream.js';
export type { RateLimitRule } from './kook/rateLimiter.js';
export { createShumeiEmulator } from './services/shumei.js';
export type { ShumeiEmulator, ShumeiEmulatorOptions } from './services/shumei.js';
export { createTupuEmulator, TupuEmulatorCode } from './services/tupu.js';
export type { TupuEmulator, TupuEmulatorOptions } from './services/tupu.js';
export { createAnyRtcEmulator } from './services/anyrtc.js';
export type { AnyRtcEmulator, AnyRtcEmulatorOptions } from './services/anyrtc.js';

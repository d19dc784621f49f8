/**
 * kook-rtp/services: the Shumei, Tupu and anyRTC clients, the callback server, and the moderation tap and link.
 *
 * This file is the one list of what the folder exports (`kook-rtp`, the bots' entry, does not repeat it), with
 * `KookRtpError` so that code importing only this part can match on error codes. Named exports only.
 */

export { KookRtpError, isKookRtpError } from '../errors.js';
export type { ErrorCode } from '../errors.js';

export { createModerationTap, TAP_FRAME_SAMPLES } from './tap.js';
export type { ModerationTap, ModerationTapOptions, ModerationTapStats, ModerationTapEvents } from './tap.js';
export { moderate } from './moderate.js';
export { moderatePlayer } from './moderatePlayer.js';
export { PlayerModeration } from './moderatePlayer.js';
export type { ModeratePlayerOptions, PlayerModerationEvents } from './moderatePlayer.js';
export type { ModerationSession, ModerationEvent, ModerateOptions, ModerationSessionEvents } from './moderate.js';
export { createCallbackServer } from './callbackServer.js';
export type {
  CallbackServer,
  CallbackServerOptions,
  CallbackServerEvents,
  CallbackServerStats,
  RejectedEvent,
  RejectReason,
} from './callbackServer.js';
export type { RiskLevel, ShumeiCallbackEvent, TupuCallbackEvent, TupuSlice, AnyRtcCallbackEvent } from './callbacks.js';
export { ServiceError } from './errors.js';
export { DEFAULT_MAX_RESPONSE_BYTES } from '../util/body.js';
export type { ServiceProvider } from './errors.js';
export { createShumeiClient, SHUMEI_CLUSTERS, ShumeiCode } from './shumei.js';
export type {
  ShumeiClient,
  ShumeiClientOptions,
  ShumeiSubmitOptions,
  ShumeiStreamData,
  ShumeiSubmitResult,
  ShumeiCluster,
} from './shumei.js';
export { createTupuClient, TUPU_DEFAULT_HOST } from './tupu.js';
export type { TupuClient, TupuClientOptions, TupuStream, TupuSubmitted, TupuCallbackRules } from './tupu.js';
export { createAnyRtcClient, anyRtcSignature, AnyRtcCode } from './anyrtc.js';
export type { AnyRtcClient, AnyRtcClientOptions, AnyRtcListResult, AnyRtcRecording, AnyRtcStartOptions } from './anyrtc.js';

/**
 * kook-rtp: the bots' entry. A bot joins a voice channel (`createVoiceSession`) or pushes to any RTP endpoint
 * (`createRtpSender`), plays a queue (`createPlayer`), watches it (`createDashboard`, the recorders) and configures
 * the threads; every error is a `KookRtpError` with a stable `code`. Named exports only.
 *
 * The rest has entries of its own, each the one list of its folder: `kook-rtp/wire` (pure formats),
 * `kook-rtp/media` (probing, tracks, Opus, DSP), `kook-rtp/services` (moderation and recording services),
 * `kook-rtp/emulator` (KOOK and the services, for tests and offline runs).
 */

// ---------------------------------------------------------------- errors
export { KookRtpError, isKookRtpError } from './errors.js';
export type { ErrorCode } from './errors.js';

// ---------------------------------------------------------------- KOOK voice: client, session
export { createKookClient, KOOK_API_BASE } from './kook/client.js';
export type {
  KookClient,
  KookClientOptions,
  KookClientEvent,
  KookClientStats,
  KookCallOptions,
  KookJoinOptions,
  KookJoinRaw,
  KookVoiceJoin,
  KookVoiceChannel,
  KookPageMeta,
  KookVoiceListPage,
} from './kook/client.js';
export { KookApiError, KookHttpError, KookRateLimitError } from './kook/errors.js';
export { createVoiceSession, VoiceSession } from './kook/session.js';
export type { VoiceSessionOptions, VoiceSessionEvents, StreamClosedReason } from './kook/session.js';

// ---------------------------------------------------------------- player and sender
export { createPlayer, Player } from './engine/player.js';
export type {
  PlayerOptions,
  PlayerEvents,
  PlayerState,
  PlayerProgress,
  QueueItem,
  EnqueueOptions,
  TrackEnd,
  TrackEndReason,
  LoopMode,
  PcmTap,
  OverlayItem,
  OverlayItemOptions,
  OverlayEnd,
  OverlayEndReason,
} from './engine/player.js';
export type { Filters } from './media/dsp/filters.js';
export { createRtpSender, RtpSender } from './engine/sender.js';
export type {
  RtpSenderOptions,
  RtpTarget,
  SenderGuardOptions,
  SenderRtcpOptions,
  PlayOptions,
  FrameSource,
  RtpSenderEvents,
} from './engine/sender.js';
export type {
  SenderState,
  SenderStats,
  PlayResult,
  ProgressEvent,
  SendErrorEvent,
  StallEvent,
  UnderrunEvent,
  BitrateAdviceEvent,
} from './pacer/stats.js';
export type { LatenessSummary } from './pacer/histogram.js';
// What the player's and the sender's options and events speak of (types; the values are in kook-rtp/media).
export type { OpusFrame } from './media/frame.js';
export type { TrackInput } from './media/input.js';
export type { Track, TrackOptions, TrackEvent, OverlayOptions } from './media/track.js';
export type { TrackInfo } from './media/probe.js';
export type { PeakRtpWindow } from './media/peakWindow.js';

// ---------------------------------------------------------------- configuration: threads, clock, socket, guard
export { configureMediaPool } from './engine/mediaPool.js';
export type { MediaPoolOptions } from './engine/mediaPool.js';
export { configurePacerThread } from './engine/pacerLink.js';
export type { PacerThreadOptions } from './engine/pacerLink.js';
export { opusBackendInfo } from './media/opus/encoder.js';
export { createScheduler, getDefaultScheduler, Scheduler } from './pacer/scheduler.js';
export type { SchedulerOptions, SchedulerTask, SchedulerStats } from './pacer/scheduler.js';
export { createSystemClock, getSystemClock, FakeClock } from './pacer/clock.js';
export type { Clock, ClockTimer } from './pacer/clock.js';
export { MAX_GUARD_CEILING, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD } from './pacer/bitrateGuard.js';
export type { GuardCount } from './pacer/bitrateGuard.js';
export { openUdpTransport, UdpTransport } from './transport/udp.js';
export type { UdpTransportOptions } from './transport/udp.js';
export { SendErrorPolicy } from './transport/transport.js';
export type {
  PacketTransport,
  PacketTransportHandlers,
  TransportInfo,
  TransportStats,
  TransportSendError,
  PacketKind,
} from './transport/transport.js';

// ---------------------------------------------------------------- watching: recorders, dashboard and metrics
export { createPcapRecorder, createOggRecorder } from './record/recorders.js';
export type { PacketRecorder } from './record/recorders.js';
export { createDashboard } from './dashboard/dashboard.js';
export type { Dashboard, DashboardOptions } from './dashboard/dashboard.js';
export type { DashboardSource, DashboardAddOptions, DashboardRowKind, PlayerView, SessionView } from './dashboard/sources.js';
export type { DashboardRow, DashboardPoint, DashboardTick, SenderView, EmulatorView } from './dashboard/sampler.js';

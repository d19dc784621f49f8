/**
 * kook-rtp: the one public entry. Named exports only, grouped the way the source is laid out: a packet flows from
 * `media/` (decode, resample, encode) to `engine/` (player, pacing, guard, RTCP) to `transport/` (UDP); `kook/` talks
 * to KOOK's voice API; `services/` to Shumei, Tupu and anyRTC; `emulator/` fakes all four; `wire/` holds the pure
 * formats; `record/` writes pcap and Ogg files.
 */

// ---------------------------------------------------------------- errors
export { KookRtpError, isKookRtpError } from './errors.js';
export type { ErrorCode } from './errors.js';

// ---------------------------------------------------------------- KOOK voice: client, session
export { createKookClient, KOOK_API_BASE, parseJoin, parseListPage } from './kook/client.js';
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

// ---------------------------------------------------------------- engine: player, sender, pacing, guard, RTCP
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
} from './engine/player.js';
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
export { configureMediaPool, openTrackInWorker } from './engine/mediaPool.js';
export type { MediaPoolOptions } from './engine/mediaPool.js';
export { configurePacerThread } from './engine/pacerLink.js';
export type { PacerThreadOptions } from './engine/pacerLink.js';
export { PacedStream } from './pacer/stream.js';
export type { PacedStreamListener, PacedStreamState, PacerEvent, PacerFrame, StreamConfig } from './pacer/stream.js';
export { RtcpSession } from './pacer/rtcpSession.js';
export type { RemoteReport } from './pacer/rtcpSession.js';
export { createScheduler, getDefaultScheduler, Scheduler } from './pacer/scheduler.js';
export type { SchedulerOptions, SchedulerTask, SchedulerStats } from './pacer/scheduler.js';
export { createSystemClock, getSystemClock, FakeClock } from './pacer/clock.js';
export type { Clock, ClockTimer } from './pacer/clock.js';
export { LatenessHistogram } from './pacer/histogram.js';
export type { LatenessSummary } from './pacer/histogram.js';
export { BitrateGuard, MAX_GUARD_CEILING, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD } from './pacer/bitrateGuard.js';
export type { BitrateGuardOptions, GuardCount } from './pacer/bitrateGuard.js';
export { TokenBucket, SlidingWindowMeter } from './pacer/tokenBucket.js';
export { RtpPacketizer } from './pacer/packetizer.js';

// ---------------------------------------------------------------- transport
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

// ---------------------------------------------------------------- media: tracks, probing, PCM, Opus
export type { OpusFrame } from './media/frame.js';
export { openTrack } from './media/track.js';
export type { Track, TrackOptions } from './media/track.js';
export { probe } from './media/probe.js';
export type { TrackInfo, RawPcmFormat, ProbeOptions, ContainerName, CodecName } from './media/probe.js';
export type { TrackInput } from './media/input.js';
export { PcmFramer, FRAME_SAMPLES } from './media/dsp/framer.js';
export type { PcmFramerOptions } from './media/dsp/framer.js';
export { Resampler } from './media/dsp/resampler.js';
export { stereoDownmix } from './media/dsp/mix.js';
export type { StereoDownmix } from './media/dsp/mix.js';
export { FilterChain, validateFilters, EQUALIZER_BANDS_HZ } from './media/dsp/filters.js';
export type {
  Filters,
  EqualizerBand,
  KaraokeFilter,
  TimescaleFilter,
  TremoloFilter,
  VibratoFilter,
  RotationFilter,
  DistortionFilter,
  ChannelMixFilter,
  LowPassFilter,
} from './media/dsp/filters.js';
export {
  LoudnessMeter,
  gainForTarget,
  gainFromTags,
  parseReplayGainDb,
  parseR128GainDb,
  dbToGain,
} from './media/dsp/loudness.js';
export type { TagGain, TagGainSource } from './media/dsp/loudness.js';
export { DuckingMixer, equalPowerGains, crossfadeInto } from './media/dsp/mixer.js';
export type { DuckingMixerOptions, OverlayFrame } from './media/dsp/mixer.js';
export { createOpusEncoder, opusBackendInfo, opusBitrateForRoom } from './media/opus/encoder.js';
export type { OpusEncoderOptions, OpusFrameEncoder, RoomBitrateOptions } from './media/opus/encoder.js';
export { createOpusDecoder } from './media/opus/decoder.js';
export type { OpusFrameDecoder } from './media/opus/decoder.js';

// ---------------------------------------------------------------- recording what was sent
export { createPcapRecorder, createOggRecorder } from './record/recorders.js';
export type { PacketRecorder } from './record/recorders.js';

// ---------------------------------------------------------------- moderation and recording services
export { createModerationTap, TAP_FRAME_SAMPLES } from './services/tap.js';
export type { ModerationTap, ModerationTapOptions, ModerationTapStats, ModerationTapEvents } from './services/tap.js';
export { moderate } from './services/moderate.js';
export { moderatePlayer } from './services/moderatePlayer.js';
export { PlayerModeration } from './services/moderatePlayer.js';
export type { ModeratePlayerOptions, PlayerModerationEvents } from './services/moderatePlayer.js';
export type { ModerationSession, ModerationEvent, ModerateOptions, ModerationSessionEvents } from './services/moderate.js';
export { createCallbackServer } from './services/callbackServer.js';
export type {
  CallbackServer,
  CallbackServerOptions,
  CallbackServerEvents,
  CallbackServerStats,
  RejectedEvent,
  RejectReason,
} from './services/callbackServer.js';
export type { RiskLevel, ShumeiCallbackEvent, TupuCallbackEvent, TupuSlice, AnyRtcCallbackEvent } from './services/callbacks.js';
export { ServiceError } from './services/errors.js';
export { DEFAULT_MAX_RESPONSE_BYTES } from './util/body.js';
export type { ServiceProvider } from './services/errors.js';
export { createShumeiClient, SHUMEI_CLUSTERS, ShumeiCode } from './services/shumei.js';
export type {
  ShumeiClient,
  ShumeiClientOptions,
  ShumeiSubmitOptions,
  ShumeiStreamData,
  ShumeiSubmitResult,
  ShumeiCluster,
} from './services/shumei.js';
export { createTupuClient, TUPU_DEFAULT_HOST } from './services/tupu.js';
export type { TupuClient, TupuClientOptions, TupuStream, TupuSubmitted, TupuCallbackRules } from './services/tupu.js';
export { createAnyRtcClient, anyRtcSignature, AnyRtcCode } from './services/anyrtc.js';
export type { AnyRtcClient, AnyRtcClientOptions, AnyRtcListResult, AnyRtcRecording, AnyRtcStartOptions } from './services/anyrtc.js';

// ---------------------------------------------------------------- emulators (KOOK and the services)
export { startKookEmulator } from './emulator/kook/emulator.js';
export type {
  KookEmulator,
  KookEmulatorOptions,
  KookEmulatorChannelConfig,
  KookEmulatorChannelView,
  KookEmulatorFault,
  KookEmulatorEvents,
  KookEmulatorRequestLog,
} from './emulator/kook/emulator.js';
export type {
  KookStreamReport,
  KookStreamKick,
  KookStreamReclaim,
  KookStreamRtcpReport,
  KookStreamCloseReason,
  KookStreamEvents,
} from './emulator/kook/stream.js';
export type { RateLimitRule } from './emulator/kook/rateLimiter.js';
export { createShumeiEmulator } from './emulator/services/shumei.js';
export type { ShumeiEmulator, ShumeiEmulatorOptions } from './emulator/services/shumei.js';
export { createTupuEmulator, TupuEmulatorCode } from './emulator/services/tupu.js';
export type { TupuEmulator, TupuEmulatorOptions } from './emulator/services/tupu.js';
export { createAnyRtcEmulator } from './emulator/services/anyrtc.js';
export type { AnyRtcEmulator, AnyRtcEmulatorOptions } from './emulator/services/anyrtc.js';

// ---------------------------------------------------------------- dashboard and Prometheus metrics
export { createDashboard } from './dashboard/dashboard.js';
export type { Dashboard, DashboardOptions } from './dashboard/dashboard.js';
export type { DashboardSource, DashboardAddOptions, DashboardRowKind, PlayerView, SessionView } from './dashboard/sources.js';
export type { DashboardRow, DashboardPoint, DashboardTick, SenderView, EmulatorView } from './dashboard/sampler.js';

// ---------------------------------------------------------------- wire formats (pure)
export {
  RTP_VERSION,
  RTP_HEADER_SIZE,
  RTP_MAX_CSRCS,
  RTP_ONE_BYTE_EXTENSION_PROFILE,
  RTP_TWO_BYTE_EXTENSION_PROFILE,
  rtpPacketSize,
  encodeRtpPacketInto,
  encodeRtpPacket,
  decodeRtpPacket,
  writeRtpHeader,
  decodeRtpExtensionElements,
  isRfc8285Profile,
} from './wire/rtp/packet.js';
export type { RtpPacket, RtpHeaderExtension, RtpExtensionElement } from './wire/rtp/packet.js';
export { seqAdd, seqDiff, tsAdd, tsDiff, randomSsrc, RtpSequencer, SequenceExtender } from './wire/rtp/sequencer.js';
export {
  parseOpusToc,
  opusPacketSamples,
  parseOpusFrames,
  OPUS_SILENCE_FRAME,
  OPUS_MAX_PACKET_SAMPLES,
  OPUS_MAX_FRAME_BYTES,
} from './wire/opus/toc.js';
export type { OpusToc, OpusPacketFrames } from './wire/opus/toc.js';
export { isRtcp, classifyPacket } from './wire/demux.js';
export { NTP_UNIX_EPOCH_OFFSET, unixMsToNtp, ntpToUnixMs, ntpMiddle32, roundTripTimeMs, dlsrFromMs } from './wire/ntp.js';
export { RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP, decodeRtcpHeader, encodeRtcpHeaderInto } from './wire/rtcp/header.js';
export type { RtcpHeader } from './wire/rtcp/header.js';
export { encodeReportBlock, decodeReportBlock } from './wire/rtcp/reportBlock.js';
export type { ReportBlock } from './wire/rtcp/reportBlock.js';
export { reportBlockPlausibility, DEFAULT_MAX_RTT_MS, DEFAULT_MAX_JITTER_MS } from './wire/rtcp/plausibility.js';
export type { ReportPlausibility, ReportPlausibilityContext } from './wire/rtcp/plausibility.js';
export { senderReportSize, encodeSenderReportInto, encodeSenderReport, decodeSenderReport } from './wire/rtcp/senderReport.js';
export type { SenderReport } from './wire/rtcp/senderReport.js';
export {
  receiverReportSize,
  encodeReceiverReportInto,
  encodeReceiverReport,
  decodeReceiverReport,
} from './wire/rtcp/receiverReport.js';
export type { ReceiverReport } from './wire/rtcp/receiverReport.js';
export {
  SDES_CNAME,
  SDES_NAME,
  SDES_EMAIL,
  SDES_PHONE,
  SDES_LOC,
  SDES_TOOL,
  SDES_NOTE,
  SDES_PRIV,
  sourceDescriptionSize,
  encodeSourceDescriptionInto,
  encodeSourceDescription,
  decodeSourceDescription,
  findCname,
} from './wire/rtcp/sdes.js';
export type { SdesItem, SdesChunk, SourceDescription } from './wire/rtcp/sdes.js';
export { goodbyeSize, encodeGoodbyeInto, encodeGoodbye, decodeGoodbye } from './wire/rtcp/bye.js';
export type { Goodbye } from './wire/rtcp/bye.js';
export {
  applicationDefinedSize,
  encodeApplicationDefinedInto,
  encodeApplicationDefined,
  decodeApplicationDefined,
} from './wire/rtcp/app.js';
export type { ApplicationDefined } from './wire/rtcp/app.js';
export { encodeCompound, decodeCompound, validateCompound, hasCname } from './wire/rtcp/compound.js';
export type { RtcpPacket, DecodeCompoundOptions, EncodeCompoundOptions, CompoundIssue } from './wire/rtcp/compound.js';
export { ReceiverStatistics } from './wire/rtcp/receiverStatistics.js';
export type { ReceiverStatisticsOptions } from './wire/rtcp/receiverStatistics.js';
export { encodePcapFileHeader, encodePcapRecord, encodePcap, decodePcap, LINKTYPE_ETHERNET } from './wire/pcap/pcap.js';
export type { PcapEndpoint, PcapUdpRecord, PcapRecordOptions, PcapFile } from './wire/pcap/pcap.js';
export { OggOpusWriter } from './wire/ogg/opusWriter.js';
export type { OggOpusWriterOptions } from './wire/ogg/opusWriter.js';
export { OggDemuxer } from './wire/ogg/demuxer.js';
export type { OggPacket } from './wire/ogg/demuxer.js';
export { decodeOggPage, encodeOggPage } from './wire/ogg/page.js';
export type { OggPage } from './wire/ogg/page.js';
export { decodeOpusHead, encodeOpusHead } from './wire/ogg/opusHead.js';
export type { OpusHead } from './wire/ogg/opusHead.js';
export { decodeOpusTags, encodeOpusTags } from './wire/ogg/opusTags.js';
export type { VorbisComments } from './wire/ogg/vorbisComment.js';
export { FlvReader, decodeFlv } from './wire/flv/reader.js';
export { encodeFlvHeader, decodeFlvHeader } from './wire/flv/header.js';
export type { FlvHeader } from './wire/flv/header.js';
export { encodeFlvTag, decodeFlvTag, FlvTagType } from './wire/flv/tag.js';
export type { FlvTag } from './wire/flv/tag.js';
export { buildOpusSdp } from './wire/sdp.js';
export type { OpusSdpOptions } from './wire/sdp.js';

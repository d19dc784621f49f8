/**
 * kook-rtp/media: inputs, probing (and the passthrough decision), decoding, resampling, filters, loudness, mixing,
 * volume and Opus encoding: bytes in, Opus frames out.
 *
 * This file is the one list of what the folder exports (`kook-rtp`, the bots' entry, does not repeat it), with
 * `KookRtpError` so that code importing only this part can match on error codes. Named exports only.
 */

export { KookRtpError, isKookRtpError } from '../errors.js';
export type { ErrorCode } from '../errors.js';

export type { OpusFrame } from './frame.js';
export { openTrack, openOverlayBed, REPLAY_FRAMES } from './track.js';
export type { Track, TrackOptions, TrackEvent, OverlayOptions } from './track.js';
export { probe } from './probe.js';
export { chooseMode, explainMode } from './probe.js';
export type { TrackInfo, RawPcmFormat, ProbeOptions, ContainerName, CodecName, ModeOptions } from './probe.js';
export { PeakWindowScan } from './peakWindow.js';
export type { PeakRtpWindow } from './peakWindow.js';
export type { TrackInput } from './input.js';
export { PcmFramer, FRAME_SAMPLES } from './dsp/framer.js';
export type { PcmFramerOptions } from './dsp/framer.js';
export { Resampler } from './dsp/resampler.js';
export { stereoDownmix } from './dsp/mix.js';
export type { StereoDownmix } from './dsp/mix.js';
export { FilterChain, validateFilters, EQUALIZER_BANDS_HZ } from './dsp/filters.js';
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
} from './dsp/filters.js';
export {
  LoudnessMeter,
  gainForTarget,
  gainFromTags,
  parseReplayGainDb,
  parseR128GainDb,
  dbToGain,
} from './dsp/loudness.js';
export type { TagGain, TagGainSource } from './dsp/loudness.js';
export { DuckingMixer, equalPowerGains, crossfadeInto } from './dsp/mixer.js';
export type { DuckingMixerOptions, DuckingState, OverlayFrame } from './dsp/mixer.js';
export { TrackBus, OverlayFeed, BUS_HISTORY, checkOverlayMix } from './dsp/bus.js';
export type { TrackBusOptions, BusOverlay, BusEvent, OverlayMixOptions } from './dsp/bus.js';
export { createOpusEncoder, opusBackendInfo, opusBitrateForRoom } from './opus/encoder.js';
export type { OpusEncoderOptions, OpusFrameEncoder, RoomBitrateOptions } from './opus/encoder.js';
export { createOpusDecoder } from './opus/decoder.js';
export type { OpusFrameDecoder } from './opus/decoder.js';

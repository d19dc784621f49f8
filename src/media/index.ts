/**
 * kook-rtp/media: inputs, probing, decoding, resampling, volume and Opus encoding: bytes in, Opus frames out.
 *
 * The same names are exported by `kook-rtp` too; this entry lets code that needs only this part import only it.
 * Named exports only.
 */

export { KookRtpError, isKookRtpError } from '../errors.js';
export type { ErrorCode } from '../errors.js';

export type { OpusFrame } from './frame.js';
export { openTrack } from './track.js';
export type { Track, TrackOptions } from './track.js';
export { probe } from './probe.js';
export type { TrackInfo, RawPcmFormat, ProbeOptions, ContainerName, CodecName } from './probe.js';
export type { TrackInput } from './input.js';
export { PcmFramer, FRAME_SAMPLES } from './dsp/framer.js';
export type { PcmFramerOptions } from './dsp/framer.js';
export { Resampler } from './dsp/resampler.js';
export { stereoDownmix } from './dsp/mix.js';
export type { StereoDownmix } from './dsp/mix.js';
export { createOpusEncoder, opusBackendInfo, opusBitrateForRoom } from './opus/encoder.js';
export type { OpusEncoderOptions, OpusFrameEncoder, RoomBitrateOptions } from './opus/encoder.js';
export { createOpusDecoder } from './opus/decoder.js';
export type { OpusFrameDecoder } from './opus/decoder.js';

/**
 * The FLV AUDIODATA header: the first byte of every audio tag body (plus the AACPacketType byte for AAC).
 *
 * ```
 *  7 6 5 4   3 2    1     0
 * +-------+------+-----+------+
 * | Sound | Sound|Sound|Sound |   SoundFormat: 2 MP3, 3 PCM little-endian, 10 AAC, ...
 * |Format | Rate |Size |Type  |   SoundRate: 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz
 * +-------+------+-----+------+   SoundSize: 0 8-bit, 1 16-bit; SoundType: 0 mono, 1 stereo
 * ```
 * MP3 carries its real rate in every frame header, so 48 kHz MP3 is written with SoundRate 3 (44 kHz), exactly as
 * ffmpeg's FLV muxer does; decoders take the rate from the MP3 frames.
 * @see Adobe Flash Video File Format Specification v10.1, Annex E.4.2.1
 */
import { KookRtpError } from '../../errors.js';

/** SoundFormat values used here. */
export const FlvSoundFormat = { pcmPlatform: 0, adpcm: 1, mp3: 2, pcmLittleEndian: 3, aac: 10, mp3_8k: 14 } as const;

/** SoundRate codes (2 bits). */
export const FlvSoundRate = { rate5512: 0, rate11025: 1, rate22050: 2, rate44100: 3 } as const;

/** The decoded AUDIODATA header. */
export interface FlvAudioData {
  /** SoundFormat (4 bits). */
  readonly soundFormat: number;
  /** SoundRate code (0..3), see {@link FlvSoundRate}. */
  readonly soundRate: number;
  /** True for 16-bit samples. */
  readonly is16Bit: boolean;
  /** True for stereo. */
  readonly stereo: boolean;
  /** AACPacketType (0 sequence header, 1 raw) when `soundFormat` is AAC. */
  readonly aacPacketType?: number;
  /** The codec payload: a zero-copy `subarray` of the tag body when decoded. */
  readonly payload: Uint8Array;
}

/** Bytes {@link encodeFlvAudioDataInto} writes. */
export function flvAudioDataSize(a: FlvAudioData): number {
  return (a.soundFormat === FlvSoundFormat.aac ? 2 : 1) + a.payload.length;
}

/**
 * Writes an audio tag body into `buf` at `offset`.
 * @returns bytes written
 * @throws KookRtpError `INVALID_ARGUMENT` for out-of-range fields, `BUFFER_TOO_SMALL`
 */
export function encodeFlvAudioDataInto(a: FlvAudioData, buf: Uint8Array, offset = 0): number {
  if (!Number.isInteger(a.soundFormat) || a.soundFormat < 0 || a.soundFormat > 15) {
    throw new KookRtpError('INVALID_ARGUMENT', `SoundFormat must be 0..15, got ${a.soundFormat}`);
  }
  if (!Number.isInteger(a.soundRate) || a.soundRate < 0 || a.soundRate > 3) {
    throw new KookRtpError('INVALID_ARGUMENT', `SoundRate must be 0..3, got ${a.soundRate}`);
  }
  const size = flvAudioDataSize(a);
  if (buf.length - offset < size) {
    throw new KookRtpError('BUFFER_TOO_SMALL', `FLV audio data needs ${size} bytes, ${buf.length - offset} left`);
  }
  buf[offset] = (a.soundFormat << 4) | (a.soundRate << 2) | (a.is16Bit ? 2 : 0) | (a.stereo ? 1 : 0);
  let at = offset + 1;
  if (a.soundFormat === FlvSoundFormat.aac) buf[at++] = a.aacPacketType ?? 1;
  buf.set(a.payload, at);
  return size;
}

/** Allocates and encodes an audio tag body. */
export function encodeFlvAudioData(a: FlvAudioData): Uint8Array {
  const out = new Uint8Array(flvAudioDataSize(a));
  encodeFlvAudioDataInto(a, out);
  return out;
}

/**
 * Decodes an audio tag body. The payload is a zero-copy `subarray`.
 * @throws KookRtpError `PACKET_TOO_SHORT` for an empty body or an AAC body without its packet type
 */
export function decodeFlvAudioData(body: Uint8Array): FlvAudioData {
  const b = body[0];
  if (b === undefined) throw new KookRtpError('PACKET_TOO_SHORT', 'FLV audio tag body is empty; expected the AUDIODATA byte');
  const soundFormat = b >>> 4;
  const base = { soundFormat, soundRate: (b >>> 2) & 3, is16Bit: (b & 2) !== 0, stereo: (b & 1) !== 0 };
  if (soundFormat === FlvSoundFormat.aac) {
    const t = body[1];
    if (t === undefined) throw new KookRtpError('PACKET_TOO_SHORT', 'FLV AAC audio tag lacks its AACPacketType byte');
    return { ...base, aacPacketType: t, payload: body.subarray(2) };
  }
  return { ...base, payload: body.subarray(1) };
}

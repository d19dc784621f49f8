/**
 * The Ogg/Opus identification header, "OpusHead" (RFC 7845 §5.1).
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      'O'      |      'p'      |      'u'      |      's'      | 0-3
 * |      'H'      |      'e'      |      'a'      |      'd'      | 4-7
 * |  Version = 1  | Channel Count |           Pre-skip            | 8-11
 * |                     Input Sample Rate (Hz)                    | 12-15
 * |   Output Gain (Q7.8 in dB)    | Mapping Family|               | 16-18
 * :               Optional Channel Mapping Table...               :
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc7845#section-5.1 | RFC 7845 §5.1}
 */
import { KookRtpError } from '../../errors.js';

const MAGIC = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]; // "OpusHead"
const VERSION = 8;
const CHANNELS = 9;
const PRE_SKIP = 10;
const RATE = 12;
const GAIN = 16;
const FAMILY = 18;
const MAPPING = 19;

/** A decoded OpusHead. */
export interface OpusHead {
  readonly version: number;
  readonly channels: number;
  /** Samples at 48 kHz to discard from the decoder output at the start. */
  readonly preSkip: number;
  /** The original input rate, informational only: Opus always decodes at 48 kHz here. */
  readonly inputSampleRate: number;
  /** Output gain in Q7.8 dB. */
  readonly outputGain: number;
  readonly mappingFamily: number;
  /** Present when mappingFamily != 0. */
  readonly mapping?: { readonly streams: number; readonly coupled: number; readonly table: Uint8Array };
}

/** True when `packet` starts with "OpusHead". */
export function isOpusHead(packet: Uint8Array): boolean {
  return packet.length >= 8 && MAGIC.every((b, i) => packet[i] === b);
}

/** @returns the encoded size of `head`. */
export function opusHeadSize(head: OpusHead): number {
  return MAPPING + (head.mappingFamily !== 0 ? 2 + head.channels : 0);
}

/**
 * Encodes `head` into `buf` at `offset`. @returns bytes written.
 * @throws {@link KookRtpError} `BUFFER_TOO_SMALL`; `INVALID_ARGUMENT` when a non-zero mapping family lacks its table.
 */
export function encodeOpusHeadInto(head: OpusHead, buf: Uint8Array, offset = 0): number {
  const size = opusHeadSize(head);
  if (buf.length - offset < size) throw new KookRtpError('BUFFER_TOO_SMALL', `OpusHead needs ${size} bytes`);
  const out = buf.subarray(offset, offset + size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  out.set(MAGIC);
  out[VERSION] = head.version;
  out[CHANNELS] = head.channels;
  view.setUint16(PRE_SKIP, head.preSkip, true);
  view.setUint32(RATE, head.inputSampleRate >>> 0, true);
  view.setInt16(GAIN, head.outputGain, true);
  out[FAMILY] = head.mappingFamily;
  if (head.mappingFamily !== 0) {
    if (!head.mapping || head.mapping.table.length !== head.channels) {
      throw new KookRtpError('INVALID_ARGUMENT', 'OpusHead with a mapping family other than 0 needs a channel mapping table');
    }
    out[MAPPING] = head.mapping.streams;
    out[MAPPING + 1] = head.mapping.coupled;
    out.set(head.mapping.table, MAPPING + 2);
  }
  return size;
}

/** Encodes `head` into a new buffer. */
export function encodeOpusHead(head: OpusHead): Uint8Array {
  const buf = new Uint8Array(opusHeadSize(head));
  encodeOpusHeadInto(head, buf);
  return buf;
}

/**
 * Decodes an OpusHead packet.
 *
 * @throws {@link KookRtpError} `INVALID_PACKET` when the magic, version (major must be 0), channel count or
 *   mapping table is wrong.
 */
export function decodeOpusHead(packet: Uint8Array): OpusHead {
  if (!isOpusHead(packet)) throw new KookRtpError('INVALID_PACKET', 'expected an "OpusHead" packet');
  if (packet.length < MAPPING) throw new KookRtpError('INVALID_PACKET', `OpusHead is ${packet.length} bytes, at least 19 expected`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const version = packet[VERSION]!;
  if (version >> 4 !== 0) throw new KookRtpError('INVALID_PACKET', `OpusHead version ${version} is not supported (major 0 expected)`);
  const channels = packet[CHANNELS]!;
  if (channels === 0) throw new KookRtpError('INVALID_PACKET', 'OpusHead declares 0 channels');
  const mappingFamily = packet[FAMILY]!;
  const head = {
    version,
    channels,
    preSkip: view.getUint16(PRE_SKIP, true),
    inputSampleRate: view.getUint32(RATE, true),
    outputGain: view.getInt16(GAIN, true),
    mappingFamily,
  };
  if (mappingFamily === 0) {
    if (channels > 2) throw new KookRtpError('INVALID_PACKET', `OpusHead mapping family 0 allows 1 or 2 channels, got ${channels}`);
    return head;
  }
  if (packet.length < MAPPING + 2 + channels) throw new KookRtpError('INVALID_PACKET', 'OpusHead channel mapping table is cut short');
  return {
    ...head,
    mapping: { streams: packet[MAPPING]!, coupled: packet[MAPPING + 1]!, table: packet.subarray(MAPPING + 2, MAPPING + 2 + channels) },
  };
}

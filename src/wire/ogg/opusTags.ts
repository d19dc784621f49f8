/**
 * The Ogg/Opus comment header, "OpusTags" (RFC 7845 §5.2): the magic followed by a Vorbis comment list.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc7845#section-5.2 | RFC 7845 §5.2}
 */
import { KookRtpError } from '../../errors.js';
import { decodeVorbisComments, encodeVorbisComments, type VorbisComments } from './vorbisComment.js';

const MAGIC = [0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73]; // "OpusTags"

/** True when `packet` starts with "OpusTags". */
export function isOpusTags(packet: Uint8Array): boolean {
  return packet.length >= 8 && MAGIC.every((b, i) => packet[i] === b);
}

/** Encodes an OpusTags packet. */
export function encodeOpusTags(tags: VorbisComments): Uint8Array {
  const body = encodeVorbisComments(tags);
  const out = new Uint8Array(8 + body.length);
  out.set(MAGIC);
  out.set(body, 8);
  return out;
}

/**
 * Decodes an OpusTags packet.
 * @throws {@link KookRtpError} `INVALID_PACKET` when the magic is missing or a length runs past the end.
 */
export function decodeOpusTags(packet: Uint8Array): VorbisComments {
  if (!isOpusTags(packet)) throw new KookRtpError('INVALID_PACKET', 'expected an "OpusTags" packet');
  return decodeVorbisComments(packet, 8);
}

/**
 * Vorbis comments: the tag format shared by OpusTags (RFC 7845 §5.2), the Vorbis comment header and FLAC's
 * VORBIS_COMMENT block. All lengths are 32-bit little-endian; strings are UTF-8, fields are "KEY=value".
 *
 * ```text
 * | vendor length (4) | vendor string | comment count (4) | { length (4) | "KEY=value" } * count |
 * ```
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc7845#section-5.2 | RFC 7845 §5.2}
 */
import { KookRtpError } from '../../errors.js';

/** Decoded Vorbis comments. Keys keep their case as written; look them up case-insensitively. */
export interface VorbisComments {
  readonly vendor: string;
  readonly comments: readonly (readonly [key: string, value: string])[];
}

const utf8 = new TextDecoder('utf-8');
const enc = new TextEncoder();

/** @returns the first value of `key` (case-insensitive), or undefined. */
export function vorbisCommentValue(tags: VorbisComments, key: string): string | undefined {
  const k = key.toUpperCase();
  return tags.comments.find(([name]) => name.toUpperCase() === k)?.[1];
}

/**
 * Decodes a comment list starting at `offset` of `bytes`.
 *
 * @throws {@link KookRtpError} `INVALID_PACKET` when a length runs past the end.
 */
export function decodeVorbisComments(bytes: Uint8Array, offset = 0): VorbisComments {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = offset;
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new KookRtpError('INVALID_PACKET', 'Vorbis comment length runs past the end of the packet');
  };
  need(4);
  const vendorLen = view.getUint32(pos, true);
  pos += 4;
  need(vendorLen);
  const vendor = utf8.decode(bytes.subarray(pos, pos + vendorLen));
  pos += vendorLen;
  need(4);
  const count = view.getUint32(pos, true);
  pos += 4;
  const comments: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    need(4);
    const len = view.getUint32(pos, true);
    pos += 4;
    need(len);
    const text = utf8.decode(bytes.subarray(pos, pos + len));
    pos += len;
    const eq = text.indexOf('=');
    if (eq > 0) comments.push([text.slice(0, eq), text.slice(eq + 1)]);
  }
  return { vendor, comments };
}

/** Encodes a comment list (without any magic prefix). */
export function encodeVorbisComments(tags: VorbisComments): Uint8Array {
  const vendor = enc.encode(tags.vendor);
  const fields = tags.comments.map(([k, v]) => enc.encode(`${k}=${v}`));
  const size = 8 + vendor.length + fields.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  view.setUint32(pos, vendor.length, true);
  out.set(vendor, pos + 4);
  pos += 4 + vendor.length;
  view.setUint32(pos, fields.length, true);
  pos += 4;
  for (const f of fields) {
    view.setUint32(pos, f.length, true);
    out.set(f, pos + 4);
    pos += 4 + f.length;
  }
  return out;
}

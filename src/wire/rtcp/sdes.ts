/**
 * RTCP source description (SDES, packet type 202).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    SC   |  PT=SDES=202  |             length            |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_1                          |
 *   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_2                          |
 *   2    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * item:  |    type (1-7) |     length    | text (UTF-8, `length` octets) ...
 * PRIV:  |  PRIV=8       |     length    | prefix length |prefix string...  value string ...
 * end:   | 0 (END)       | null octets up to the next 32-bit boundary
 * ```
 *
 * Every chunk's item list ends with an END (zero) octet, then null octets up to a 32-bit boundary; a chunk whose
 * items end exactly on a boundary therefore still takes one more word of nulls.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.5 | RFC 3550 §6.5}
 */
import { KookRtpError } from '../../errors.js';
import { align4, checkInteger, checkPacketSize, checkRoom, checkUint32, utf8Bytes, utf8Text, viewOf } from './checks.js';
import { encodeRtcpHeaderInto, openRtcpPacket, RTCP_HEADER_SIZE, RTCP_MAX_COUNT, RTCP_SDES } from './header.js';

/** END: terminates a chunk's item list (never appears as an {@link SdesItem}). @see RFC 3550 §6.5 */
export const SDES_END = 0;
/** CNAME: canonical end-point identifier, mandatory in every compound packet. @see RFC 3550 §6.5.1 */
export const SDES_CNAME = 1;
/** NAME: user name. @see RFC 3550 §6.5.2 */
export const SDES_NAME = 2;
/** EMAIL: electronic mail address. @see RFC 3550 §6.5.3 */
export const SDES_EMAIL = 3;
/** PHONE: phone number. @see RFC 3550 §6.5.4 */
export const SDES_PHONE = 4;
/** LOC: geographic user location. @see RFC 3550 §6.5.5 */
export const SDES_LOC = 5;
/** TOOL: application or tool name. @see RFC 3550 §6.5.6 */
export const SDES_TOOL = 6;
/** NOTE: notice/status. @see RFC 3550 §6.5.7 */
export const SDES_NOTE = 7;
/** PRIV: private extension, with a prefix naming the extension. @see RFC 3550 §6.5.8 */
export const SDES_PRIV = 8;

const SOURCE_SIZE = 4;
const ITEM_HEADER_SIZE = 2; // type, length
const MAX_ITEM_LENGTH = 255;

/** One SDES item. */
export interface SdesItem {
  /** Item type, 1–255 (e.g. {@link SDES_CNAME}); 0 is the END marker and is not an item. */
  readonly type: number;
  /** The item's text (for PRIV, the value string). */
  readonly text: string;
  /** PRIV only: the prefix string naming the private extension (decoded PRIV items always carry it). */
  readonly prefix?: string;
}

/** The items describing one source. */
export interface SdesChunk {
  /** SSRC or CSRC of the described source. */
  readonly source: number;
  /** Its items, in packet order. */
  readonly items: readonly SdesItem[];
}

/** A decoded SDES packet. */
export interface SourceDescription {
  /** At most 31 chunks. */
  readonly chunks: readonly SdesChunk[];
}

/** An item's content as bytes (PRIV: prefix length, prefix, value), validated. */
function itemContent(item: SdesItem): Uint8Array {
  checkInteger(item.type, 1, 255, 'SDES item type');
  if (item.type !== SDES_PRIV) {
    if (item.prefix !== undefined) {
      throw new KookRtpError('INVALID_ARGUMENT', `SDES item type ${item.type} has a prefix; only PRIV (8) items do`);
    }
    return utf8Bytes(item.text, MAX_ITEM_LENGTH, `SDES item ${item.type} text`);
  }
  const prefix = utf8Bytes(item.prefix ?? '', MAX_ITEM_LENGTH - 1, 'SDES PRIV prefix');
  const value = utf8Bytes(item.text, MAX_ITEM_LENGTH - 1 - prefix.length, 'SDES PRIV prefix and value together');
  const content = new Uint8Array(1 + prefix.length + value.length);
  content[0] = prefix.length;
  content.set(prefix, 1);
  content.set(value, 1 + prefix.length);
  return content;
}

/** Encoded chunk contents, so the size and the encoder agree and text is encoded once per call. */
function encodeChunks(v: SourceDescription): { readonly contents: Uint8Array[][]; readonly size: number } {
  if (!Array.isArray(v.chunks) || v.chunks.length > RTCP_MAX_COUNT) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `SDES holds at most ${RTCP_MAX_COUNT} chunks, got ${String(v.chunks?.length)}; send the rest in another SDES`,
    );
  }
  let size = RTCP_HEADER_SIZE;
  const contents = v.chunks.map((chunk) => {
    checkUint32(chunk.source, 'SDES chunk source');
    const items = chunk.items.map(itemContent);
    // +1 for the END octet, then nulls to the boundary.
    size += align4(SOURCE_SIZE + items.reduce((n: number, c: Uint8Array) => n + ITEM_HEADER_SIZE + c.length, 0) + 1);
    return items;
  });
  return { contents, size };
}

/**
 * Encoded size of an SDES packet.
 *
 * @param v - the description
 * @returns bytes {@link encodeSourceDescriptionInto} writes
 * @throws KookRtpError INVALID_ARGUMENT for an invalid item (see {@link encodeSourceDescriptionInto})
 */
export function sourceDescriptionSize(v: SourceDescription): number {
  return encodeChunks(v).size;
}

/**
 * Writes an SDES packet (no RTCP padding) at `offset`.
 *
 * @param v - the description
 * @param buf - destination
 * @param offset - where to write (default 0)
 * @returns bytes written
 * @throws KookRtpError INVALID_ARGUMENT for more than 31 chunks, an item type outside 1–255, a prefix on a non-PRIV
 *   item, text over 255 UTF-8 bytes (PRIV: prefix + value over 254) or with a lone surrogate; BUFFER_TOO_SMALL
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.5 | RFC 3550 §6.5}
 */
export function encodeSourceDescriptionInto(v: SourceDescription, buf: Uint8Array, offset = 0): number {
  const { contents, size } = encodeChunks(v);
  checkPacketSize(size, 'SDES');
  checkRoom(buf, offset, size, 'an SDES packet');
  encodeRtcpHeaderInto(
    { padding: false, count: v.chunks.length, packetType: RTCP_SDES, length: size / 4 - 1 },
    buf,
    offset,
  );
  const view = viewOf(buf);
  let at = offset + RTCP_HEADER_SIZE;
  v.chunks.forEach((chunk, i) => {
    view.setUint32(at, chunk.source);
    at += SOURCE_SIZE;
    chunk.items.forEach((item, j) => {
      const content = contents[i]?.[j] ?? new Uint8Array(0);
      buf[at] = item.type;
      buf[at + 1] = content.length;
      buf.set(content, at + ITEM_HEADER_SIZE);
      at += ITEM_HEADER_SIZE + content.length;
    });
    // END plus nulls; relative to `offset` because the packet, not the buffer, is word-aligned.
    const chunkEnd = offset + align4(at + 1 - offset);
    buf.fill(SDES_END, at, chunkEnd);
    at = chunkEnd;
  });
  return size;
}

/**
 * Encodes an SDES packet into a new array.
 *
 * @param v - the description
 * @returns the packet
 * @throws KookRtpError INVALID_ARGUMENT as {@link encodeSourceDescriptionInto}
 */
export function encodeSourceDescription(v: SourceDescription): Uint8Array {
  const buf = new Uint8Array(sourceDescriptionSize(v));
  encodeSourceDescriptionInto(v, buf, 0);
  return buf;
}

/**
 * Decodes exactly one SDES packet (use `decodeCompound` to split a datagram). RTCP padding is accepted and dropped;
 * the null octets after a chunk's END are skipped without checking their value (liberal in what we accept).
 *
 * @param bytes - one SDES packet
 * @returns the chunks; PRIV items always carry `prefix`
 * @throws KookRtpError PACKET_TOO_SHORT when `bytes` ends before the declared length; INVALID_VERSION;
 *   INVALID_RTCP when the type is not SDES, a chunk is cut short or not terminated by END, an item runs past the
 *   packet, a PRIV prefix is longer than its item, text is not UTF-8, or bytes follow the last chunk
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.5 | RFC 3550 §6.5}
 */
export function decodeSourceDescription(bytes: Uint8Array): SourceDescription {
  const { header, end } = openRtcpPacket(bytes, RTCP_SDES, 'SDES');
  const view = viewOf(bytes);
  const chunks: SdesChunk[] = [];
  let at = RTCP_HEADER_SIZE;
  for (let c = 0; c < header.count; c++) {
    if (at + SOURCE_SIZE > end) {
      throw new KookRtpError('INVALID_RTCP', `SDES declares ${header.count} chunks but chunk ${c + 1} is missing or cut short`);
    }
    const source = view.getUint32(at);
    at += SOURCE_SIZE;
    const items: SdesItem[] = [];
    for (;;) {
      const type = bytes[at];
      if (at >= end || type === undefined) {
        throw new KookRtpError('INVALID_RTCP', `SDES chunk ${c + 1} (source ${source}) is not terminated by an END item`);
      }
      if (type === SDES_END) {
        const chunkEnd = align4(at + 1);
        if (chunkEnd > end) {
          throw new KookRtpError('INVALID_RTCP', `SDES chunk ${c + 1} END padding runs past the packet content`);
        }
        at = chunkEnd;
        break;
      }
      const length = bytes[at + 1];
      if (length === undefined || at + ITEM_HEADER_SIZE + length > end) {
        throw new KookRtpError('INVALID_RTCP', `SDES item of type ${type} in chunk ${c + 1} runs past the packet content`);
      }
      const content = bytes.subarray(at + ITEM_HEADER_SIZE, at + ITEM_HEADER_SIZE + length);
      items.push(decodeItem(type, content));
      at += ITEM_HEADER_SIZE + length;
    }
    chunks.push({ source, items });
  }
  if (at !== end) {
    throw new KookRtpError('INVALID_RTCP', `SDES has ${end - at} bytes after its ${header.count} declared chunks`);
  }
  return { chunks };
}

function decodeItem(type: number, content: Uint8Array): SdesItem {
  if (type !== SDES_PRIV) return { type, text: utf8Text(content, `SDES item ${type}`) };
  const prefixLength = content[0];
  if (prefixLength === undefined || 1 + prefixLength > content.length) {
    throw new KookRtpError(
      'INVALID_RTCP',
      `SDES PRIV item of ${content.length} bytes has a prefix length of ${String(prefixLength)}`,
    );
  }
  return {
    type,
    prefix: utf8Text(content.subarray(1, 1 + prefixLength), 'SDES PRIV prefix'),
    text: utf8Text(content.subarray(1 + prefixLength), 'SDES PRIV value'),
  };
}

/**
 * The CNAME of `source` in a decoded SDES packet, if any.
 *
 * @param v - the description
 * @param source - the SSRC to look for; any source when omitted
 * @returns the first matching CNAME text, or undefined
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-6.5.1 | RFC 3550 §6.5.1}
 */
export function findCname(v: SourceDescription, source?: number): string | undefined {
  for (const chunk of v.chunks) {
    if (source !== undefined && chunk.source !== source) continue;
    const item = chunk.items.find((i) => i.type === SDES_CNAME);
    if (item !== undefined) return item.text;
  }
  return undefined;
}

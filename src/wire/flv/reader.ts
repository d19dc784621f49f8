/**
 * An incremental FLV demuxer: feed it the bytes of an HTTP-FLV response as they arrive, get whole tags back.
 * Pure (no I/O); hostile input raises {@link KookRtpError}, never anything else.
 */
import { KookRtpError } from '../../errors.js';
import { decodeFlvHeader, FLV_HEADER_SIZE, type FlvHeader } from './header.js';
import { decodeFlvTag, FLV_PREVIOUS_TAG_SIZE, FLV_TAG_HEADER_SIZE, type FlvTag } from './tag.js';

/** Options of {@link FlvReader}. */
export interface FlvReaderOptions {
  /** Largest tag body accepted, so a hostile DataSize cannot make the reader buffer 16 MiB. Default 1 MiB. */
  readonly maxTagSize?: number;
}

/** Incremental FLV parser. */
export class FlvReader {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly maxTagSize: number;
  /** The header, once its bytes have arrived. */
  header: FlvHeader | undefined;

  constructor(options: FlvReaderOptions = {}) {
    this.maxTagSize = options.maxTagSize ?? 1 << 20;
  }

  /**
   * Appends `chunk` and returns every complete tag. Tag bodies are copies, safe to keep.
   * @throws KookRtpError on a malformed header or tag (`INVALID_PACKET`, `INVALID_VERSION`)
   */
  push(chunk: Uint8Array): FlvTag[] {
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf);
    next.set(chunk, this.buf.length);
    this.buf = next;
    let at = 0;
    if (this.header === undefined) {
      if (this.buf.length < FLV_HEADER_SIZE) return [];
      const h = decodeFlvHeader(this.buf);
      if (h.dataOffset > 1024) throw new KookRtpError('INVALID_PACKET', `FLV DataOffset ${h.dataOffset} is implausible`);
      if (this.buf.length < h.dataOffset + FLV_PREVIOUS_TAG_SIZE) return [];
      this.header = h;
      at = h.dataOffset + FLV_PREVIOUS_TAG_SIZE;
    }
    const tags: FlvTag[] = [];
    while (this.buf.length - at >= FLV_TAG_HEADER_SIZE) {
      const dataSize = ((this.buf[at + 1] ?? 0) << 16) | ((this.buf[at + 2] ?? 0) << 8) | (this.buf[at + 3] ?? 0);
      if (dataSize > this.maxTagSize) {
        throw new KookRtpError('INVALID_PACKET', `FLV tag of ${dataSize} bytes exceeds the ${this.maxTagSize}-byte limit`);
      }
      if (this.buf.length - at < FLV_TAG_HEADER_SIZE + dataSize + FLV_PREVIOUS_TAG_SIZE) break;
      const { tag, size } = decodeFlvTag(this.buf.subarray(at));
      tags.push({ type: tag.type, timestamp: tag.timestamp, data: tag.data.slice() });
      at += size;
    }
    this.buf = this.buf.slice(at);
    return tags;
  }

  /** Bytes received but not yet part of a complete tag. */
  get pendingBytes(): number {
    return this.buf.length;
  }
}

/**
 * Decodes a complete FLV byte string.
 * @returns the header, the tags, and how many trailing bytes did not form a whole tag
 * @throws KookRtpError for a malformed stream
 */
export function decodeFlv(bytes: Uint8Array, options: FlvReaderOptions = {}): { header: FlvHeader; tags: FlvTag[]; trailingBytes: number } {
  const r = new FlvReader(options);
  const tags = r.push(bytes);
  if (r.header === undefined) throw new KookRtpError('PACKET_TOO_SHORT', 'FLV stream ended before its header was complete');
  return { header: r.header, tags, trailingBytes: r.pendingBytes };
}

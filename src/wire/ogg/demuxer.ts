/**
 * Incremental Ogg demuxer: bytes in (any chunking), packets of one logical bitstream out. Pure, no I/O.
 *
 * Follows the first logical bitstream it sees (the first BOS page's serial); pages of other streams (a video or a
 * second audio stream multiplexed in) are skipped. After garbage or a page with a bad CRC it resynchronises on the
 * next "OggS" whose page checks out, and counts the bytes it had to skip.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3533 | RFC 3533}
 */
import { KookRtpError } from '../../errors.js';
import { OGG_FLAG_BOS, OGG_FLAG_CONTINUED, OGG_FLAG_EOS, OGG_MAX_PAGE_SIZE, decodeOggPage, isOggCapture, type OggPage } from './page.js';

/** One reassembled packet. */
export interface OggPacket {
  /** The packet bytes (a copy when it spanned pages, else a subarray of the page body). */
  readonly data: Uint8Array;
  /** The page's granule position when this packet is the last one finishing on its page, else -1n. */
  readonly granulePosition: bigint;
  /** True for the first packet of the stream. */
  readonly bos: boolean;
  /** True for the last packet of an EOS page. */
  readonly eos: boolean;
}

/** Options for {@link OggDemuxer}. */
export interface OggDemuxerOptions {
  /** Largest packet accepted, bounding memory on hostile input. Default 1 MiB. */
  readonly maxPacketSize?: number;
}

/**
 * Splits an Ogg byte stream into the packets of its first logical bitstream.
 *
 * @example
 * ```ts
 * const demux = new OggDemuxer();
 * for await (const chunk of bytes) for (const packet of demux.push(chunk)) use(packet);
 * demux.end(); // throws DECODE_FAILED if the input stopped mid-page
 * ```
 */
export class OggDemuxer {
  /** Bytes skipped while looking for a valid page since the last good page (reset on every good page). */
  junkRun = 0;
  /** Total bytes skipped as not belonging to any valid page. */
  junkTotal = 0;
  /** Valid pages seen, all streams. */
  pages = 0;
  /** Serial of the stream being followed, once its BOS page has been seen. */
  serial: number | undefined;
  /** Granule position of the last page of the followed stream. */
  lastGranule = -1n;

  private buf: Uint8Array = new Uint8Array(0);
  private partial: Uint8Array[] = [];
  private partialSize = 0;
  private first = true;
  private ended = false;
  private readonly maxPacket: number;

  /** @param options - limits, see {@link OggDemuxerOptions}. */
  constructor(options: OggDemuxerOptions = {}) {
    this.maxPacket = options.maxPacketSize ?? 1 << 20;
  }

  /**
   * Feeds bytes and returns the packets they complete.
   *
   * @throws {@link KookRtpError} `DECODE_FAILED` when a packet exceeds the size limit.
   */
  push(chunk: Uint8Array): OggPacket[] {
    const out: OggPacket[] = [];
    let data: Uint8Array;
    if (this.buf.length === 0) data = chunk;
    else {
      data = new Uint8Array(this.buf.length + chunk.length);
      data.set(this.buf);
      data.set(chunk, this.buf.length);
    }
    let pos = 0;
    while (pos < data.length) {
      const rest = data.subarray(pos);
      let decoded;
      try {
        decoded = isOggCapture(rest) || rest.length < 4 ? decodeOggPage(rest) : undefined;
      } catch {
        decoded = undefined;
      }
      if (decoded === null) break; // need more bytes
      if (decoded === undefined) {
        // Not a page here: skip to the next capture pattern candidate.
        let next = pos + 1;
        while (next < data.length && !(data[next] === 0x4f && (next + 1 >= data.length || data[next + 1] === 0x67))) next++;
        this.junkRun += next - pos;
        this.junkTotal += next - pos;
        pos = next;
        continue;
      }
      this.junkRun = 0;
      this.pages++;
      pos += decoded.size;
      this.onPage(decoded.page, out);
    }
    // Keep at most one page's worth: anything longer than that cannot be the start of a valid page.
    const rest = data.subarray(pos);
    if (rest.length > OGG_MAX_PAGE_SIZE) {
      const drop = rest.length - OGG_MAX_PAGE_SIZE;
      this.junkRun += drop;
      this.junkTotal += drop;
      this.buf = rest.slice(drop);
    } else {
      this.buf = rest.length === 0 ? new Uint8Array(0) : rest.slice();
    }
    return out;
  }

  /** Bytes held waiting for the rest of a page. */
  get pendingBytes(): number {
    return this.buf.length + this.partialSize;
  }

  /**
   * Signals the end of input.
   *
   * @throws {@link KookRtpError} `DECODE_FAILED` when the input stopped inside a page or a packet (a truncated file).
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const leftover = this.buf.length;
    const partial = this.partialSize;
    this.buf = new Uint8Array(0);
    this.partial = [];
    this.partialSize = 0;
    if (leftover > 0 && this.pages > 0) {
      throw new KookRtpError('DECODE_FAILED', `Ogg input ended inside a page (${leftover} bytes left over): the file is truncated`);
    }
    if (partial > 0) {
      throw new KookRtpError('DECODE_FAILED', `Ogg input ended inside a packet (${partial} bytes): the file is truncated`);
    }
  }

  private onPage(page: OggPage, out: OggPacket[]): void {
    if (this.serial === undefined) {
      if (!(page.headerType & OGG_FLAG_BOS)) return; // no stream start yet: nothing to follow
      this.serial = page.serial;
    }
    if (page.serial !== this.serial) return;
    this.lastGranule = page.granulePosition;
    if (!(page.headerType & OGG_FLAG_CONTINUED) && this.partialSize > 0) {
      // A packet was cut short by a lost page: drop it rather than glue two halves together.
      this.partial = [];
      this.partialSize = 0;
    }
    const segs = page.segments;
    // Index of the last lacing value ending a packet, to know which packet gets the granule.
    let lastEnd = -1;
    for (let i = 0; i < segs.length; i++) if (segs[i]! < 255) lastEnd = i;
    let start = 0;
    let len = 0;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      len += s;
      if (s === 255) continue;
      let data = page.body.subarray(start, start + len);
      if (this.partialSize > 0) {
        this.partial.push(data);
        data = concat(this.partial, this.partialSize + len);
        this.partial = [];
        this.partialSize = 0;
      }
      out.push({
        data,
        granulePosition: i === lastEnd ? page.granulePosition : -1n,
        bos: this.first,
        eos: i === lastEnd && (page.headerType & OGG_FLAG_EOS) !== 0,
      });
      this.first = false;
      start += len;
      len = 0;
    }
    if (len > 0) {
      // Packet continues on the next page: copy, the page buffer is reused.
      this.partial.push(page.body.slice(start, start + len));
      this.partialSize += len;
      if (this.partialSize > this.maxPacket) {
        throw new KookRtpError('DECODE_FAILED', `Ogg packet larger than ${this.maxPacket} bytes: corrupt or not audio`);
      }
    }
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

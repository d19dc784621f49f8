/**
 * Ogg/Opus muxing (RFC 7845): turns Opus packets into Ogg pages. Pure: returns page bytes, the caller writes them
 * (used by `--record FILE` to save exactly what was sent).
 *
 * Layout: page 0 holds OpusHead alone (BOS), page 1 holds OpusTags, audio pages follow, each ending a packet and
 * carrying the granule position (pre-skip + samples so far, 48 kHz); the last page has EOS.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc7845#section-3 | RFC 7845 §3}
 */
import { KookRtpError } from '../../errors.js';
import { OGG_FLAG_BOS, OGG_FLAG_EOS, encodeOggPage } from './page.js';
import { encodeOpusHead } from './opusHead.js';
import { encodeOpusTags } from './opusTags.js';

/** Options for {@link OggOpusWriter}. */
export interface OggOpusWriterOptions {
  /** Bitstream serial number. Default: random. */
  readonly serial?: number;
  /** Channel count written to OpusHead. Default 2. */
  readonly channels?: number;
  /** Decoder delay to skip, in 48 kHz samples. Default 312 (libopus' encoder lookahead at 48 kHz). */
  readonly preSkip?: number;
  /** Informational original rate for OpusHead. Default 48000. */
  readonly inputSampleRate?: number;
  /** Vendor string for OpusTags. Default "kook-rtp". */
  readonly vendor?: string;
  /** Extra comments (e.g. [["TITLE", "..."]]). */
  readonly comments?: readonly (readonly [string, string])[];
  /** Close a page once it holds this many samples. Default 48000 (1 s), a common muxer choice for seekability. */
  readonly pageSamples?: number;
}

/**
 * Stateful Ogg/Opus muxer.
 *
 * @example
 * ```ts
 * const w = new OggOpusWriter({ serial: 1 });
 * const pages = [w.header(), ...frames.flatMap((f) => w.write(f.data, f.samples)), w.end()];
 * ```
 */
export class OggOpusWriter {
  private readonly serial: number;
  private readonly opts: OggOpusWriterOptions;
  private sequence = 0;
  private granule: bigint;
  private pending: Uint8Array[] = [];
  private pendingSamples = 0;
  private pendingSegments = 0;
  private started = false;
  private ended = false;

  /** @param options - see {@link OggOpusWriterOptions}. */
  constructor(options: OggOpusWriterOptions = {}) {
    this.opts = options;
    this.serial = (options.serial ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.granule = BigInt(options.preSkip ?? 312);
  }

  /** @returns the two header pages (OpusHead, OpusTags), concatenated. Call once, first. */
  header(): Uint8Array {
    if (this.started) throw new KookRtpError('INVALID_ARGUMENT', 'OggOpusWriter.header() was already called');
    this.started = true;
    const head = encodeOpusHead({
      version: 1,
      channels: this.opts.channels ?? 2,
      preSkip: this.opts.preSkip ?? 312,
      inputSampleRate: this.opts.inputSampleRate ?? 48000,
      outputGain: 0,
      mappingFamily: 0,
    });
    const tags = encodeOpusTags({ vendor: this.opts.vendor ?? 'kook-rtp', comments: this.opts.comments ?? [] });
    const p0 = this.page([head], OGG_FLAG_BOS, 0n);
    const p1 = this.page([tags], 0, 0n);
    const out = new Uint8Array(p0.length + p1.length);
    out.set(p0);
    out.set(p1, p0.length);
    return out;
  }

  /**
   * Adds one Opus packet of `samples` 48 kHz samples.
   *
   * @returns zero or one finished page.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` before {@link header}, after {@link end}, or for a packet over
   *   64 KiB (no Opus packet is that large).
   */
  write(packet: Uint8Array, samples: number): Uint8Array[] {
    if (!this.started || this.ended) throw new KookRtpError('INVALID_ARGUMENT', 'OggOpusWriter.write() needs header() first and no end()');
    const segs = Math.floor(packet.length / 255) + 1;
    if (segs > 255) throw new KookRtpError('INVALID_ARGUMENT', `Opus packet of ${packet.length} bytes is too large for one Ogg page`);
    const out: Uint8Array[] = [];
    if (this.pending.length > 0 && (this.pendingSegments + segs > 255 || this.pendingSamples >= (this.opts.pageSamples ?? 48000))) {
      out.push(this.flush(0));
    }
    this.pending.push(packet);
    this.pendingSegments += segs;
    this.pendingSamples += samples;
    return out;
  }

  /** @returns the last page, flagged EOS. */
  end(): Uint8Array {
    if (!this.started || this.ended) throw new KookRtpError('INVALID_ARGUMENT', 'OggOpusWriter.end() needs header() first, once');
    this.ended = true;
    return this.flush(OGG_FLAG_EOS);
  }

  private flush(flags: number): Uint8Array {
    this.granule += BigInt(this.pendingSamples);
    const page = this.page(this.pending, flags, this.granule);
    this.pending = [];
    this.pendingSamples = 0;
    this.pendingSegments = 0;
    return page;
  }

  private page(packets: readonly Uint8Array[], flags: number, granule: bigint): Uint8Array {
    const lacing: number[] = [];
    let size = 0;
    for (const p of packets) {
      for (let n = p.length; ; n -= 255) {
        if (n >= 255) lacing.push(255);
        else {
          lacing.push(n);
          break;
        }
      }
      size += p.length;
    }
    const body = new Uint8Array(size);
    let o = 0;
    for (const p of packets) {
      body.set(p, o);
      o += p.length;
    }
    return encodeOggPage({
      headerType: flags,
      granulePosition: granule,
      serial: this.serial,
      sequence: this.sequence++,
      segments: Uint8Array.from(lacing),
      body,
    });
  }
}

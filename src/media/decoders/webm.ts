/**
 * Minimal incremental WebM/Matroska demuxer for one audio track: enough EBML to find the tracks, the duration and
 * the (Simple)Block payloads. Master elements are entered without tracking their end (like most streaming
 * demuxers), so unknown-size Segments and Clusters from live muxers work.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc8794 | RFC 8794 (EBML)}, {@link https://www.matroska.org/technical/elements.html | Matroska elements}
 */
import { KookRtpError } from '../../errors.js';

/** One audio track as declared in Tracks. */
export interface WebmTrack {
  number: number;
  type: number;
  codecId: string;
  codecPrivate?: Uint8Array;
  sampleRate?: number;
  channels?: number;
  codecDelayNs?: number;
}

/** One block payload of the selected track. */
export interface WebmPacket {
  readonly data: Uint8Array;
  /** Block time in ms (cluster timecode + block offset, scaled by TimecodeScale). */
  readonly timeMs: number;
}

const ID = {
  EBML: 0x1a45dfa3,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
} as const;
const MASTERS = new Set<number>([ID.Segment, ID.Info, ID.Tracks, ID.TrackEntry, ID.Audio, ID.Cluster, ID.BlockGroup]);
/** Leaf elements we read; everything else is skipped without buffering. */
const LEAVES = new Set<number>([
  ID.TimecodeScale, ID.Duration, ID.TrackNumber, ID.TrackType, ID.CodecID, ID.CodecPrivate, ID.CodecDelay,
  ID.SamplingFrequency, ID.Channels, ID.Timecode, ID.SimpleBlock, ID.Block,
]);
const MAX_LEAF = 4 << 20;

/** Reads an EBML variable-length integer at `pos`. @returns [value, length] or null if more bytes are needed. */
function vint(buf: Uint8Array, pos: number, keepMarker: boolean): [number, number, boolean] | null {
  if (pos >= buf.length) return null;
  const first = buf[pos]!;
  if (first === 0) throw new KookRtpError('DECODE_FAILED', 'invalid EBML variable-length integer (0x00): corrupt WebM');
  const len = Math.clz32(first) - 23;
  if (pos + len > buf.length) return null;
  let value = keepMarker ? first : first & (0xff >> len);
  let allOnes = value === 0xff >> len;
  for (let i = 1; i < len; i++) {
    const b = buf[pos + i]!;
    value = value * 256 + b;
    if (b !== 0xff) allOnes = false;
  }
  return [value, len, allOnes];
}

function readUint(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function readFloat(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return b.length === 4 ? v.getFloat32(0) : b.length === 8 ? v.getFloat64(0) : 0;
}

/** Push-based WebM demuxer: feed bytes, get the packets of the first audio track. */
export class WebmDemuxer {
  /** Every track seen so far. */
  readonly tracks: WebmTrack[] = [];
  /** Nanoseconds per timecode unit (default 1 ms). */
  timecodeScale = 1_000_000;
  /** Segment duration in seconds, when the Info element gave one. */
  durationSec: number | undefined;
  /** True once the first Cluster started: all track headers are known. */
  sawCluster = false;
  private rawDuration: number | undefined;
  private buf = new Uint8Array(0);
  private skipLeft = 0;
  private clusterTime = 0;
  private current: WebmTrack | undefined;
  private started = false;

  /** The first audio track (type 2), once Tracks has been read. */
  get audioTrack(): WebmTrack | undefined {
    return this.tracks.find((t) => t.type === 2);
  }

  /**
   * Feeds bytes.
   * @returns the blocks of the first audio track completed by them.
   * @throws {@link KookRtpError} `DECODE_FAILED` on malformed EBML or a block larger than 4 MiB.
   */
  push(chunk: Uint8Array): WebmPacket[] {
    const out: WebmPacket[] = [];
    let data = chunk;
    if (this.skipLeft > 0) {
      const s = Math.min(this.skipLeft, data.length);
      this.skipLeft -= s;
      data = data.subarray(s);
    }
    if (this.buf.length > 0) {
      const merged = new Uint8Array(this.buf.length + data.length);
      merged.set(this.buf);
      merged.set(data, this.buf.length);
      data = merged;
    }
    let pos = 0;
    for (;;) {
      const id = vint(data, pos, true);
      if (!id) break;
      const size = vint(data, pos + id[1], false);
      if (!size) break;
      const idv = id[0];
      if (!this.started) {
        if (idv !== ID.EBML) throw new KookRtpError('DECODE_FAILED', 'not WebM/Matroska: no EBML header');
        this.started = true;
      }
      const head = id[1] + size[1];
      const unknown = size[2];
      if (MASTERS.has(idv)) {
        pos += head;
        this.enterMaster(idv);
        continue;
      }
      if (unknown) throw new KookRtpError('DECODE_FAILED', `WebM element 0x${idv.toString(16)} has unknown size`);
      const len = size[0];
      if (!LEAVES.has(idv)) {
        const avail = data.length - pos - head;
        if (avail >= len) pos += head + len;
        else {
          this.skipLeft = len - avail;
          pos = data.length;
          break;
        }
        continue;
      }
      if (len > MAX_LEAF) throw new KookRtpError('DECODE_FAILED', `WebM element of ${len} bytes: corrupt or not audio`);
      if (data.length - pos - head < len) break;
      const body = data.subarray(pos + head, pos + head + len);
      pos += head + len;
      this.leaf(idv, body, out);
    }
    this.buf = pos >= data.length ? new Uint8Array(0) : data.slice(pos);
    return out;
  }

  /** Bytes held waiting for the rest of an element. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  private finishTrack(): void {
    if (this.current) this.tracks.push(this.current);
    this.current = undefined;
  }

  private enterMaster(id: number): void {
    if (id === ID.TrackEntry) {
      this.finishTrack();
      this.current = { number: 0, type: 0, codecId: '' };
    } else if (id === ID.Cluster) {
      this.finishTrack();
      this.sawCluster = true;
    }
  }

  private leaf(id: number, body: Uint8Array, out: WebmPacket[]): void {
    const t = this.current;
    switch (id) {
      case ID.TimecodeScale:
        this.timecodeScale = readUint(body);
        if (this.rawDuration !== undefined) this.durationSec = (this.rawDuration * this.timecodeScale) / 1e9;
        break;
      case ID.Duration:
        this.rawDuration = readFloat(body);
        this.durationSec = (this.rawDuration * this.timecodeScale) / 1e9;
        break;
      case ID.TrackNumber:
        if (t) t.number = readUint(body);
        break;
      case ID.TrackType:
        if (t) t.type = readUint(body);
        break;
      case ID.CodecID:
        if (t) t.codecId = new TextDecoder().decode(body).replace(/\0+$/, '');
        break;
      case ID.CodecPrivate:
        if (t) t.codecPrivate = body.slice();
        break;
      case ID.CodecDelay:
        if (t) t.codecDelayNs = readUint(body);
        break;
      case ID.SamplingFrequency:
        if (t) t.sampleRate = readFloat(body);
        break;
      case ID.Channels:
        if (t) t.channels = readUint(body);
        break;
      case ID.Timecode:
        this.clusterTime = readUint(body);
        break;
      case ID.SimpleBlock:
      case ID.Block:
        this.block(body, out);
        break;
    }
  }

  private block(body: Uint8Array, out: WebmPacket[]): void {
    this.finishTrack();
    const track = this.audioTrack;
    const tn = vint(body, 0, false);
    if (!tn || body.length < tn[1] + 3) throw new KookRtpError('DECODE_FAILED', 'WebM block header is cut short');
    if (!track || tn[0] !== track.number) return;
    const rel = (body[tn[1]]! << 24) >> 16 | body[tn[1] + 1]!; // signed 16-bit
    const flags = body[tn[1] + 2]!;
    const payload = body.subarray(tn[1] + 3);
    const timeMs = ((this.clusterTime + rel) * this.timecodeScale) / 1e6;
    const lacing = (flags >> 1) & 3;
    if (lacing === 0) {
      out.push({ data: payload, timeMs });
      return;
    }
    // Laced blocks (rare for audio in WebM): Xiph (1) and fixed-size (2) lacing; EBML lacing (3) is not supported.
    const count = payload[0]! + 1;
    let pos = 1;
    const sizes: number[] = [];
    if (lacing === 1) {
      for (let i = 0; i < count - 1; i++) {
        let s = 0;
        for (;;) {
          const b = payload[pos++];
          if (b === undefined) throw new KookRtpError('DECODE_FAILED', 'WebM Xiph lacing is cut short');
          s += b;
          if (b < 255) break;
        }
        sizes.push(s);
      }
    } else if (lacing === 2) {
      const each = Math.floor((payload.length - 1) / count);
      for (let i = 0; i < count - 1; i++) sizes.push(each);
    } else {
      throw new KookRtpError('UNSUPPORTED_FORMAT', 'WebM EBML lacing is not supported: remux the file (ffmpeg -c copy out.webm)');
    }
    for (const s of sizes) {
      out.push({ data: payload.subarray(pos, pos + s), timeMs });
      pos += s;
    }
    out.push({ data: payload.subarray(pos), timeMs });
  }
}

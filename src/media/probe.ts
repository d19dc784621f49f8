/**
 * Probing by content, never by file name: which container and codec, rate, channels, duration, bitrate and tags,
 * read from the first bytes (peeked, so decoding starts from the same reader without re-reading).
 */
import { KookRtpError, isKookRtpError } from '../errors.js';
import { opusPacketSamples } from '../wire/opus/toc.js';
import { OggDemuxer } from '../wire/ogg/demuxer.js';
import { decodeOpusHead, isOpusHead, type OpusHead } from '../wire/ogg/opusHead.js';
import { decodeOpusTags, isOpusTags } from '../wire/ogg/opusTags.js';
import { decodeVorbisComments, vorbisCommentValue, type VorbisComments } from '../wire/ogg/vorbisComment.js';
import { findMpegSync, parseVbrHeader, type MpegFrameHeader } from './decoders/mp3.js';
import { isWav, readWavHeader, type WavFormat } from './decoders/wav.js';
import { WebmDemuxer } from './decoders/webm.js';
import { findFfmpeg } from './decoders/ffmpeg.js';
import { openInput, type ByteReader, type TrackInput } from './input.js';
import { opusBitrateForRoom } from './opus/encoder.js';
import { PeakWindowScan, type PeakRtpWindow } from './peakWindow.js';
import { guardLimitBytes } from '../pacer/bitrateGuard.js';

/** Container names {@link probe} reports. */
export type ContainerName = 'mp3' | 'wav' | 'flac' | 'ogg' | 'webm' | 'mp4' | 'adts' | 'asf' | 'aiff' | 'raw';
/** Codec names {@link probe} reports. */
export type CodecName = 'mp3' | 'mp2' | 'mp1' | 'pcm' | 'flac' | 'opus' | 'vorbis' | 'aac' | 'wma' | (string & {});

/** What a track is and how it will be sent. */
export interface TrackInfo {
  readonly container: ContainerName;
  readonly codec: CodecName;
  /** Source sample rate in Hz (48000 for Opus, which always decodes at 48 kHz). */
  readonly sampleRate: number;
  readonly channels: number;
  /** Seconds, when the header or a cheap look at the end says. */
  readonly durationSec?: number;
  /** Average bits/s of the audio stream, when known or estimated. */
  readonly bitrate?: number;
  readonly title?: string;
  readonly artist?: string;
  /** Loudness tags found (R128_TRACK_GAIN, REPLAYGAIN_TRACK_GAIN, REPLAYGAIN_TRACK_PEAK), for `normalize: 'track'`. */
  readonly gainTags?: Readonly<Record<string, string>>;
  /**
   * Opus inputs: the fullest 1 s window of RTP bytes (payload + 12-byte header per packet) their packets would put
   * on the wire unchanged. Passthrough needs it to fit the room (see {@link chooseMode}).
   */
  readonly peakWindow?: PeakRtpWindow;
  /** Passthrough: the source's Opus packets go out unchanged; transcode: decoded and re-encoded. */
  readonly mode: 'passthrough' | 'transcode';
  /** Why {@link mode} is what it is, in words (set by {@link probe}). */
  readonly modeReason?: string;
  /** Which Opus encoder is used when transcoding (set by openTrack). */
  readonly encoderBackend?: 'native' | 'opusscript';
}

/** The format of raw PCM input, which has no header to probe. */
export interface RawPcmFormat {
  readonly sampleRate: number;
  readonly channels: number;
  readonly sampleType: 's16le' | 'f32le';
}

/** Options for {@link probe}. */
export interface ProbeOptions {
  /** The room's bitrate in bit/s, to decide passthrough vs transcode. Default 48000. */
  readonly roomBitrate?: number;
  /** A volume other than 1 forces transcoding. */
  readonly volume?: number;
  /** 'auto': pass Opus through when its peak 1 s window of RTP bytes fits the room and volume is 1; 'never': always transcode; 'always': pass
   *  Opus (stereo or mono, mapping family 0) through whatever its bitrate (for endpoints without a limit; on KOOK the
   *  bitrate guard then delays packets rather than let the stream be kicked). */
  readonly passthrough?: 'auto' | 'never' | 'always';
  readonly rawPcm?: RawPcmFormat;
  readonly signal?: AbortSignal;
  readonly stallTimeoutMs?: number;
}

/** Internal: everything the decoder needs, beyond what {@link TrackInfo} shows. */
export type ProbeDetail =
  | { readonly kind: 'mp3'; readonly first: MpegFrameHeader }
  | { readonly kind: 'wav'; readonly format: WavFormat }
  | { readonly kind: 'raw'; readonly format: WavFormat }
  | { readonly kind: 'flac' | 'ogg-flac'; readonly totalSamples: number }
  | { readonly kind: 'ogg-vorbis' }
  | { readonly kind: 'ogg-opus' | 'webm-opus'; readonly head: OpusHead; readonly packetBitrate?: number; readonly peakWindow?: PeakRtpWindow }
  | { readonly kind: 'ffmpeg'; readonly what: string };

/** Internal probe result: the public info (without `mode`) plus decoder details. */
export interface ProbeResult {
  readonly info: Omit<TrackInfo, 'mode'>;
  readonly detail: ProbeDetail;
}

const PEEK = 64 * 1024;
/** How much Opus to look at for a bitrate estimate: ~2 s of packets, capped in bytes. */
const ESTIMATE_SAMPLES = 2 * 48000;
const ESTIMATE_MAX_BYTES = 256 * 1024;

const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));

function hexStart(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** ID3v2 text frame: encoding byte then text. */
/** A TXXX frame's two strings (description, value), in the frame's text encoding. */
function id3TextPair(b: Uint8Array): [string, string] {
  const enc = b[0];
  const body = b.subarray(1);
  const wide = enc === 1 || enc === 2;
  let cut = -1;
  for (let i = 0; i + (wide ? 1 : 0) < body.length; i += wide ? 2 : 1) {
    if (body[i] === 0 && (!wide || body[i + 1] === 0)) {
      cut = i;
      break;
    }
  }
  if (cut < 0) return [id3Text(b), ''];
  const head = new Uint8Array(1 + cut);
  head[0] = enc ?? 0;
  head.set(body.subarray(0, cut), 1);
  const tail = new Uint8Array(body.length - cut - (wide ? 2 : 1) + 1);
  tail[0] = enc ?? 0;
  tail.set(body.subarray(cut + (wide ? 2 : 1)), 1);
  return [id3Text(head), id3Text(tail)];
}

function id3Text(b: Uint8Array): string {
  const enc = b[0];
  const body = b.subarray(1);
  let s: string;
  if (enc === 1 || enc === 2) {
    let u = body;
    let le = enc === 1;
    if (u[0] === 0xff && u[1] === 0xfe) (le = true), (u = u.subarray(2));
    else if (u[0] === 0xfe && u[1] === 0xff) (le = false), (u = u.subarray(2));
    s = new TextDecoder(le ? 'utf-16le' : 'utf-16be').decode(u.subarray(0, u.length & ~1));
  } else if (enc === 3) s = new TextDecoder().decode(body);
  else s = new TextDecoder('latin1').decode(body);
  return s.replace(/\0.*$/s, '').trim();
}

const synchsafe = (b: Uint8Array, o: number): number => ((b[o]! & 0x7f) << 21) | ((b[o + 1]! & 0x7f) << 14) | ((b[o + 2]! & 0x7f) << 7) | (b[o + 3]! & 0x7f);

/**
 * Consumes an ID3v2 tag (frame by frame, skipping pictures without buffering them), reading TIT2 and TPE1.
 */
/** What probing keeps of an ID3v2 tag. */
interface Id3Fields {
  title?: string;
  artist?: string;
  /** ReplayGain from TXXX frames (REPLAYGAIN_TRACK_GAIN, REPLAYGAIN_TRACK_PEAK), for `normalize: 'track'`. */
  gainTags?: Record<string, string>;
}

async function readId3(reader: ByteReader): Promise<Id3Fields> {
  const h = await reader.read(10);
  const major = h[3]!;
  const flags = h[5]!;
  const size = synchsafe(h, 6);
  let left = size + (flags & 0x10 ? 10 : 0); // footer
  const out: Id3Fields = {};
  if (major < 3 || major > 4 || flags & 0x80) {
    // v2.2 (3-char frame ids) or unsynchronised tags: not worth parsing, just skip them.
    await reader.skip(left);
    return out;
  }
  if (flags & 0x40) {
    const ext = await reader.read(4);
    // A tag cut inside its extended header: nothing more to read (the caller then finds no audio).
    if (ext.length < 4) return out;
    const extSize = major === 4 ? synchsafe(ext, 0) - 4 : new DataView(ext.buffer, ext.byteOffset, 4).getUint32(0) ;
    left -= 4 + (await reader.skip(Math.max(0, extSize)));
  }
  while (left >= 10) {
    const fh = await reader.read(10);
    left -= fh.length;
    if (fh.length < 10 || fh[0] === 0) break; // padding
    const id = ascii(fh, 0, 4);
    const fsize = major === 4 ? synchsafe(fh, 4) : new DataView(fh.buffer, fh.byteOffset, 10).getUint32(4);
    if (fsize > left) break;
    if ((id === 'TIT2' || id === 'TPE1') && fsize <= 4096 && (fh[9]! & 0x0f) === 0) {
      const body = await reader.read(fsize);
      const text = id3Text(body);
      if (text) out[id === 'TIT2' ? 'title' : 'artist'] = text;
    } else if (id === 'TXXX' && fsize <= 4096 && (fh[9]! & 0x0f) === 0) {
      // A user text frame: description NUL value. ReplayGain writers (foobar2000, mp3gain, ffmpeg) put the gain here.
      const [desc, value] = id3TextPair(await reader.read(fsize));
      const key = desc.toUpperCase();
      if ((key === 'REPLAYGAIN_TRACK_GAIN' || key === 'REPLAYGAIN_TRACK_PEAK') && value !== '') (out.gainTags ??= {})[key] = value;
    } else await reader.skip(fsize);
    left -= fsize;
  }
  await reader.skip(left);
  return out;
}

function durationFromEstimate(size: number | undefined, start: number, bitrate: number): number | undefined {
  return size !== undefined && bitrate > 0 ? ((size - start) * 8) / bitrate : undefined;
}

async function probeMp3(reader: ByteReader, tags: Id3Fields, afterId3: boolean): Promise<ProbeResult | null> {
  const head = await reader.peek(PEEK);
  // Without a tag to vouch for the file, insist on three consistent frames: random bytes rarely chain.
  const sync = findMpegSync(head, afterId3 ? 2 : 3);
  if (!sync || (!afterId3 && sync.offset > 4096)) return null;
  if (sync.offset > 0) await reader.skip(sync.offset);
  const h = sync.header;
  const body = await reader.peek(h.frameLength);
  const vbr = parseVbrHeader(body, 0, h);
  let durationSec: number | undefined;
  let bitrate: number | undefined = h.bitrate;
  if (vbr?.frames) {
    durationSec = (vbr.frames * h.samples) / h.sampleRate;
    const bytes = vbr.bytes ?? (reader.size !== undefined ? reader.size - reader.position : undefined);
    if (bytes !== undefined && durationSec > 0) bitrate = Math.round((bytes * 8) / durationSec);
  } else durationSec = durationFromEstimate(reader.size, reader.position, h.bitrate);
  return {
    info: {
      container: 'mp3',
      codec: h.layer === 3 ? 'mp3' : h.layer === 2 ? 'mp2' : 'mp1',
      sampleRate: h.sampleRate,
      channels: h.channels,
      ...(durationSec !== undefined ? { durationSec } : {}),
      ...(bitrate !== undefined ? { bitrate } : {}),
      ...tags,
    },
    detail: { kind: 'mp3', first: h },
  };
}

function tagFields(c: VorbisComments | undefined): { title?: string; artist?: string; gainTags?: Record<string, string> } {
  if (!c) return {};
  const title = vorbisCommentValue(c, 'TITLE');
  const artist = vorbisCommentValue(c, 'ARTIST');
  const gainTags: Record<string, string> = {};
  for (const k of ['R128_TRACK_GAIN', 'REPLAYGAIN_TRACK_GAIN', 'REPLAYGAIN_TRACK_PEAK']) {
    const v = vorbisCommentValue(c, k);
    if (v !== undefined) gainTags[k] = v;
  }
  return { ...(title ? { title } : {}), ...(artist ? { artist } : {}), ...(Object.keys(gainTags).length > 0 ? { gainTags } : {}) };
}

/** FLAC metadata blocks starting at `o` (after "fLaC"). */
function parseFlacMeta(b: Uint8Array, o: number): { sampleRate: number; channels: number; totalSamples: number; bits: number; tags?: VorbisComments } | null {
  let info: { sampleRate: number; channels: number; totalSamples: number; bits: number } | undefined;
  let tags: VorbisComments | undefined;
  for (;;) {
    if (o + 4 > b.length) break;
    const type = b[o]! & 0x7f;
    const last = (b[o]! & 0x80) !== 0;
    const len = (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const body = b.subarray(o + 4, o + 4 + len);
    if (type === 0 && body.length >= 18) {
      const sampleRate = (body[10]! << 12) | (body[11]! << 4) | (body[12]! >> 4);
      const channels = ((body[12]! >> 1) & 7) + 1;
      const bits = (((body[12]! & 1) << 4) | (body[13]! >> 4)) + 1;
      const totalSamples = (body[13]! & 0x0f) * 2 ** 32 + new DataView(body.buffer, body.byteOffset + 14, 4).getUint32(0);
      info = { sampleRate, channels, totalSamples, bits };
    } else if (type === 4 && body.length === len) {
      try {
        tags = decodeVorbisComments(body);
      } catch {
        // tags are optional; a broken comment block does not stop playback
      }
    }
    o += 4 + len;
    if (last) break;
  }
  if (!info || info.sampleRate === 0) return null;
  return tags ? { ...info, tags } : info;
}

async function probeFlac(reader: ByteReader, tags: Id3Fields): Promise<ProbeResult> {
  const b = await reader.peek(PEEK);
  const meta = parseFlacMeta(b, 4);
  if (!meta) throw new KookRtpError('INVALID_INPUT', 'FLAC file without a valid STREAMINFO block: corrupt or truncated');
  return {
    info: {
      container: 'flac',
      codec: 'flac',
      sampleRate: meta.sampleRate,
      channels: meta.channels,
      ...(meta.totalSamples > 0 ? { durationSec: meta.totalSamples / meta.sampleRate } : {}),
      ...(meta.totalSamples > 0 && reader.size !== undefined ? { bitrate: Math.round((reader.size * 8 * meta.sampleRate) / meta.totalSamples) } : {}),
      ...tags,
      ...tagFields(meta.tags),
    },
    detail: { kind: 'flac', totalSamples: meta.totalSamples },
  };
}

/** Granule position of the last page of the first stream in `tail` (the last bytes of the file). */
function lastGranule(tail: Uint8Array, serial: number | undefined): bigint | undefined {
  for (let i = tail.length - 27; i >= 0; i--) {
    if (tail[i] !== 0x4f || tail[i + 1] !== 0x67 || tail[i + 2] !== 0x67 || tail[i + 3] !== 0x53) continue;
    const v = new DataView(tail.buffer, tail.byteOffset + i, 27);
    const g = v.getBigInt64(6, true);
    if (g >= 0n && (serial === undefined || v.getUint32(14, true) === serial)) return g;
  }
  return undefined;
}

/** Average bitrate of Opus packets covering the first ~2 s. */
function packetBitrate(packets: readonly Uint8Array[]): number | undefined {
  let bytes = 0;
  let samples = 0;
  for (const p of packets) {
    try {
      samples += opusPacketSamples(p);
      bytes += p.length;
    } catch {
      // skip broken packets in the estimate; decoding reports them
    }
    if (samples >= ESTIMATE_SAMPLES) break;
  }
  return samples >= 9600 ? Math.round((bytes * 8 * 48000) / samples) : undefined;
}

/** How much of a file the peak-window scan reads at a time. */
const SCAN_CHUNK = 256 * 1024;

/**
 * The peak 1 s window of RTP bytes of an Opus input's audio packets. A file or a buffer is read whole, by offset (the
 * reader stays where decoding will start); a stream or a download, which is read once by the player, only in the
 * packets already peeked (`whole: false` unless the peek reached its end).
 *
 * @param demux - a fresh demuxer of the input's container.
 * @param headerPackets - packets before the audio (2 in Ogg/Opus: OpusHead and OpusTags; 0 in WebM).
 * @param peeked - the packets seen while probing, header packets included.
 * @param peekedAll - whether the peek reached the end of the input.
 */
async function peakWindowOf(reader: ByteReader, demux: { push(chunk: Uint8Array): readonly { readonly data: Uint8Array }[] }, headerPackets: number, peeked: readonly Uint8Array[], peekedAll: boolean): Promise<PeakRtpWindow> {
  const scan = new PeakWindowScan();
  if (reader.canReadTail && reader.size !== undefined) {
    let seen = 0;
    try {
      for (let at = 0; at < reader.size; at += SCAN_CHUNK) {
        for (const p of demux.push(await reader.readAt(at, SCAN_CHUNK))) if (seen++ >= headerPackets) scan.push(p.data);
      }
      return scan.result(true);
    } catch (err) {
      // A file broken half way: what was measured stands, marked partial; decoding reports the damage.
      if (isKookRtpError(err, 'DECODE_FAILED')) return scan.result(false);
      throw err;
    }
  }
  for (const p of peeked.slice(headerPackets)) scan.push(p);
  return scan.result(peekedAll);
}

/** Where the audio pages of an Ogg stream begin, and how much of the pages seen is page framing. */
interface OggLayout {
  /** Byte offset of the first page with a granule position above 0 (the header pages have 0), if seen. */
  readonly audioStart: number | undefined;
  /** Page header bytes (27 + segment table) and total bytes of the complete audio pages seen. */
  readonly audioFraming: number;
  readonly audioTotal: number;
}

/** Walks the complete Ogg pages at the start of `buf` (page headers only, no CRC check). */
export function oggLayout(buf: Uint8Array): OggLayout {
  let o = 0;
  let audioStart: number | undefined;
  let audioFraming = 0;
  let audioTotal = 0;
  while (o + 27 <= buf.length && buf[o] === 0x4f && buf[o + 1] === 0x67 && buf[o + 2] === 0x67 && buf[o + 3] === 0x53) {
    const nsegs = buf[o + 26]!;
    const header = 27 + nsegs;
    if (o + header > buf.length) break;
    let body = 0;
    for (let i = 0; i < nsegs; i++) body += buf[o + 27 + i]!;
    if (o + header + body > buf.length) break;
    const granule = new DataView(buf.buffer, buf.byteOffset + o + 6, 8).getBigInt64(0, true);
    if (audioStart === undefined && granule > 0n) audioStart = o;
    if (audioStart !== undefined) {
      audioFraming += header;
      audioTotal += header + body;
    }
    o += header + body;
  }
  return { audioStart, audioFraming, audioTotal };
}

/**
 * The mean bitrate of the audio packets, as ffprobe's packet sizes summed over the duration say it: the bytes after
 * the header pages, less the page framing in the proportion seen in the first audio pages (exact when the whole file
 * was read). Tags and cover art are not audio and do not count.
 */
function oggAudioBitrate(layout: OggLayout, size: number | undefined, durationSec: number | undefined): number | undefined {
  if (size === undefined || durationSec === undefined || durationSec <= 0 || layout.audioStart === undefined || layout.audioTotal === 0) return undefined;
  const audioBytes = (size - layout.audioStart) * (1 - layout.audioFraming / layout.audioTotal);
  return Math.round((audioBytes * 8) / durationSec);
}

async function probeOgg(reader: ByteReader): Promise<ProbeResult> {
  const demux = new OggDemuxer();
  let packets: Uint8Array[] = [];
  let peeked = 0;
  let want = PEEK;
  let buf = await reader.peek(want);
  packets = demux.push(buf).map((p) => p.data);
  peeked = buf.length;
  const first = packets[0];
  if (!first) throw new KookRtpError('INVALID_INPUT', 'Ogg file without a complete first page: corrupt or truncated');
  const tail = reader.canReadTail ? await reader.readTail(PEEK) : undefined;
  if (isOpusHead(first)) {
    let head: OpusHead;
    try {
      head = decodeOpusHead(first);
    } catch (err) {
      throw new KookRtpError('INVALID_INPUT', `Ogg/Opus header is invalid: ${(err as Error).message}`, { cause: err });
    }
    // Look a little further for the bitrate estimate (bounded).
    while (packets.length < 102 && peeked === want && want < ESTIMATE_MAX_BYTES) {
      want *= 2;
      buf = await reader.peek(want);
      const more = new OggDemuxer();
      packets = more.push(buf).map((p) => p.data);
      peeked = buf.length;
    }
    const tagsPacket = packets[1];
    let tags: VorbisComments | undefined;
    if (tagsPacket && isOpusTags(tagsPacket)) {
      try {
        tags = decodeOpusTags(tagsPacket);
      } catch {
        // optional
      }
    }
    if (peeked < want && packets.length <= 2) {
      // The whole input was read: an OpusHead, maybe OpusTags, and not one audio packet.
      throw new KookRtpError('INVALID_INPUT', `${reader.description} is an Ogg/Opus file with its header pages but no audio packets: no audio to play`);
    }
    const g = tail ? lastGranule(tail, demux.serial) : undefined;
    const durationSec = g !== undefined && g > BigInt(head.preSkip) ? Number(g - BigInt(head.preSkip)) / 48000 : undefined;
    const est = packetBitrate(packets.slice(2));
    const mean = oggAudioBitrate(oggLayout(buf), reader.size, durationSec);
    // Shown: the whole file's mean from its packets. For the passthrough decision: the larger of that and the
    // first seconds' rate, so a loud start is not hidden by a quiet end.
    const bitrate = mean ?? est;
    const decisionBitrate = est !== undefined && mean !== undefined ? Math.max(est, mean) : bitrate;
    const peak = await peakWindowOf(reader, new OggDemuxer(), 2, packets, peeked < want);
    const peakWindow = peak.packets > 0 ? { peakWindow: peak } : {};
    return {
      info: {
        container: 'ogg',
        codec: 'opus',
        sampleRate: 48000,
        channels: head.channels,
        ...(durationSec !== undefined ? { durationSec } : {}),
        ...(bitrate !== undefined ? { bitrate } : {}),
        ...tagFields(tags),
        ...peakWindow,
      },
      detail: { kind: 'ogg-opus', head, ...(decisionBitrate !== undefined ? { packetBitrate: decisionBitrate } : {}), ...peakWindow },
    };
  }
  if (first.length >= 30 && first[0] === 1 && ascii(first, 1, 7) === 'vorbis') {
    const v = new DataView(first.buffer, first.byteOffset, first.byteLength);
    const channels = first[11]!;
    const sampleRate = v.getUint32(12, true);
    const nominal = v.getInt32(20, true);
    const tp = packets[1];
    let tags: VorbisComments | undefined;
    if (tp && tp[0] === 3 && ascii(tp, 1, 7) === 'vorbis') {
      try {
        tags = decodeVorbisComments(tp, 7);
      } catch {
        // optional
      }
    }
    const g = tail ? lastGranule(tail, demux.serial) : undefined;
    const durationSec = g !== undefined && sampleRate > 0 ? Number(g) / sampleRate : undefined;
    // The header's nominal rate is the encoder's target, often far from what the packets carry: measure them.
    let layout = oggLayout(buf);
    while (layout.audioStart === undefined && peeked === want && want < ESTIMATE_MAX_BYTES) {
      want *= 2;
      buf = await reader.peek(want);
      peeked = buf.length;
      layout = oggLayout(buf);
    }
    const measured = oggAudioBitrate(layout, reader.size, durationSec);
    const bitrate = measured ?? (nominal > 0 ? nominal : undefined);
    return {
      info: {
        container: 'ogg',
        codec: 'vorbis',
        sampleRate,
        channels,
        ...(durationSec !== undefined ? { durationSec } : {}),
        ...(bitrate !== undefined ? { bitrate } : {}),
        ...tagFields(tags),
      },
      detail: { kind: 'ogg-vorbis' },
    };
  }
  if (first.length >= 13 + 38 && first[0] === 0x7f && ascii(first, 1, 5) === 'FLAC') {
    const meta = parseFlacMeta(first, 13);
    if (!meta) throw new KookRtpError('INVALID_INPUT', 'Ogg/FLAC without a valid STREAMINFO block');
    const tp = packets[1];
    const tags = tp && (tp[0]! & 0x7f) === 4 ? parseFlacMeta(concatMeta(first, tp), 13)?.tags : undefined;
    // ffmpeg's Ogg muxer leaves STREAMINFO's total at 0: the last granule position says it instead.
    const g = meta.totalSamples > 0 || !tail ? undefined : lastGranule(tail, demux.serial);
    const total = meta.totalSamples > 0 ? meta.totalSamples : g !== undefined ? Number(g) : 0;
    return {
      info: {
        container: 'ogg',
        codec: 'flac',
        sampleRate: meta.sampleRate,
        channels: meta.channels,
        ...(total > 0 ? { durationSec: total / meta.sampleRate } : {}),
        ...tagFields(tags),
      },
      detail: { kind: 'ogg-flac', totalSamples: meta.totalSamples },
    };
  }
  const what = ascii(first, 0, 8).replace(/[^\x20-\x7e]/g, '?');
  return ffmpegOr('ogg', `an Ogg stream of an unsupported codec (first packet "${what}")`);
}

/** Joins an Ogg/FLAC STREAMINFO packet with a following metadata packet so parseFlacMeta can walk both. */
function concatMeta(first: Uint8Array, next: Uint8Array): Uint8Array {
  const b = new Uint8Array(first.length + next.length);
  b.set(first);
  b[13] = b[13]! & 0x7f; // STREAMINFO is not the last block any more
  b.set(next, first.length);
  return b;
}

async function probeWebm(reader: ByteReader): Promise<ProbeResult> {
  let want = PEEK;
  for (;;) {
    const b = await reader.peek(want);
    const demux = new WebmDemuxer();
    let packets: Uint8Array[];
    try {
      packets = demux.push(b).map((p) => p.data);
    } catch (err) {
      throw new KookRtpError('INVALID_INPUT', `WebM/Matroska header is invalid: ${(err as Error).message}`, { cause: err });
    }
    const track = demux.audioTrack;
    const complete = b.length < want || want >= ESTIMATE_MAX_BYTES;
    if (track && demux.sawCluster && (packets.length >= 100 || complete)) {
      if (track.codecId !== 'A_OPUS') {
        const codec = track.codecId.replace(/^A_/, '').toLowerCase();
        return ffmpegOr('webm', `WebM/Matroska audio in ${track.codecId}`, codec);
      }
      let head: OpusHead;
      try {
        head = track.codecPrivate
          ? decodeOpusHead(track.codecPrivate)
          : { version: 1, channels: track.channels ?? 2, preSkip: 0, inputSampleRate: 48000, outputGain: 0, mappingFamily: 0 };
      } catch (err) {
        throw new KookRtpError('INVALID_INPUT', `WebM Opus CodecPrivate is invalid: ${(err as Error).message}`, { cause: err });
      }
      const bitrate = packetBitrate(packets) ?? (demux.durationSec && reader.size ? Math.round((reader.size * 8) / demux.durationSec) : undefined);
      const peak = await peakWindowOf(reader, new WebmDemuxer(), 0, packets, b.length < want);
      const peakWindow = peak.packets > 0 ? { peakWindow: peak } : {};
      return {
        info: {
          container: 'webm',
          codec: 'opus',
          sampleRate: 48000,
          channels: head.channels,
          ...(demux.durationSec !== undefined ? { durationSec: demux.durationSec } : {}),
          ...(bitrate !== undefined ? { bitrate } : {}),
          ...peakWindow,
        },
        detail: { kind: 'webm-opus', head, ...(bitrate !== undefined ? { packetBitrate: bitrate } : {}), ...peakWindow },
      };
    }
    if (complete) {
      throw new KookRtpError(track ? 'INVALID_INPUT' : 'UNSUPPORTED_FORMAT', track ? 'WebM file ends before its first audio block: truncated' : 'WebM/Matroska file without an audio track');
    }
    want *= 2;
  }
}

function ffmpegOr(container: ContainerName, what: string, codec: CodecName = 'unknown'): ProbeResult {
  if (!findFfmpeg()) {
    throw new KookRtpError('UNSUPPORTED_FORMAT', `detected ${what}, which kook-rtp cannot decode in-process and ffmpeg is not on the PATH: install ffmpeg, or convert to MP3, FLAC, WAV, Ogg (Opus/Vorbis/FLAC) or WebM/Opus`);
  }
  // Rate and channels: what ffmpeg is asked to output, unless the container says the stream's own (withStreamFormat).
  return { info: { container, codec, sampleRate: 48000, channels: 2 }, detail: { kind: 'ffmpeg', what } };
}

/**
 * The sample rate and channel count of the first audio sample entry of an MP4/M4A (`stsd`, ISO/IEC 14496-12
 * §12.2.3; QuickTime's version 2 sound description keeps a 64-bit float rate), found anywhere in `b`.
 * @returns undefined when no complete entry is in `b`, or it says nothing plausible
 */
export function mp4AudioEntry(b: Uint8Array): { sampleRate: number; channels: number } | undefined {
  for (let i = b.indexOf(0x73, 4); i >= 0 && i + 48 <= b.length; i = b.indexOf(0x73, i + 1)) {
    if (ascii(b, i, i + 4) !== 'stsd') continue;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const entry = i + 12; // after the type, version/flags and entry_count
    const version = v.getUint16(entry + 16);
    let sampleRate: number;
    let channels: number;
    if (version === 2) {
      if (entry + 52 > b.length) return undefined;
      sampleRate = Math.round(v.getFloat64(entry + 40));
      channels = v.getUint32(entry + 48);
    } else {
      channels = v.getUint16(entry + 24);
      sampleRate = v.getUint16(entry + 32);
      // Rates above 65535 do not fit the 16.16 field: writers put 0 there; the track's mdhd timescale (before its
      // stsd, ISO/IEC 14496-12 §8.4.2) is then the sample rate.
      if (sampleRate === 0) sampleRate = mdhdTimescaleBefore(b, i) ?? 0;
    }
    if (sampleRate >= 1000 && sampleRate <= 768000 && channels >= 1 && channels <= 64) return { sampleRate, channels };
    return undefined;
  }
  return undefined;
}

/** The timescale of the last `mdhd` box before `end` in `b`. */
function mdhdTimescaleBefore(b: Uint8Array, end: number): number | undefined {
  let at = end - 4;
  while (at >= 0 && !(b[at] === 0x6d && b[at + 1] === 0x64 && b[at + 2] === 0x68 && b[at + 3] === 0x64)) at--;
  if (at < 0 || at + 28 > b.length) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(at + (b[at + 4] === 1 ? 24 : 16));
}

/** How far from the end to look for an MP4's `moov` when it is not at the start (the sample entry is near its start). */
const MP4_TAIL = 1024 * 1024;

/** For an input ffmpeg decodes: the stream's own sample rate when the container says it (MP4/M4A). */
async function withStreamFormat(r: ProbeResult, reader: ByteReader): Promise<ProbeResult> {
  if (r.info.container !== 'mp4') return r;
  let entry = mp4AudioEntry(await reader.peek(PEEK));
  if (entry === undefined && reader.canReadTail) entry = mp4AudioEntry(await reader.readTail(MP4_TAIL));
  // Only the rate: the entry's channel count is 2 for AAC whatever the stream holds (the AudioSpecificConfig says it).
  return entry === undefined ? r : { ...r, info: { ...r.info, sampleRate: entry.sampleRate } };
}

/** Sniffs containers we can only hand to ffmpeg. */
function sniffOther(b: Uint8Array): ProbeResult | null {
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp') {
    const s = new TextDecoder('latin1').decode(b.subarray(0, PEEK));
    const codec = s.includes('mp4a') ? 'aac' : s.includes('alac') ? 'alac' : s.includes('Opus') ? 'opus' : 'unknown';
    return ffmpegOr('mp4', `an MP4/M4A file (${codec === 'unknown' ? 'codec not identified' : codec.toUpperCase()})`, codec);
  }
  if (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xf6) === 0xf0) return ffmpegOr('adts', 'an AAC (ADTS) stream', 'aac');
  if (b.length >= 4 && b[0] === 0x30 && b[1] === 0x26 && b[2] === 0xb2 && b[3] === 0x75) return ffmpegOr('asf', 'a WMA/ASF file', 'wma');
  if (b.length >= 12 && ascii(b, 0, 4) === 'FORM' && /^AIF[FC]$/.test(ascii(b, 8, 12))) return ffmpegOr('aiff', 'an AIFF file', 'pcm');
  return null;
}

/**
 * Probes an open reader. Consumes only what the decoder does not need (an ID3v2 tag, a WAV header, junk before
 * the first MP3 frame); the rest is peeked.
 *
 * @throws {@link KookRtpError} `INVALID_INPUT` (empty, malformed header), `UNSUPPORTED_FORMAT` (unrecognised
 *   content, or a format that needs ffmpeg when it is not installed), and the reader's errors.
 */
export async function probeReader(reader: ByteReader, options: Pick<ProbeOptions, 'rawPcm'> = {}): Promise<ProbeResult> {
  const r = await probeContent(reader, options);
  // A header can say anything: a rate or channel count no decoder can produce is a corrupt file, not a bad argument
  // (the framer and resampler would refuse it with INVALID_ARGUMENT half way into openTrack).
  const { sampleRate, channels } = r.info;
  if (!(Number.isInteger(sampleRate) && sampleRate >= 1000 && sampleRate <= 768000) || !(Number.isInteger(channels) && channels >= 1)) {
    throw new KookRtpError('INVALID_INPUT', `${reader.description}: the ${r.info.container}/${r.info.codec} header says ${sampleRate} Hz, ${channels} channel(s); expected 1000-768000 Hz and at least one channel: the file is corrupt`);
  }
  return r;
}

async function probeContent(reader: ByteReader, options: Pick<ProbeOptions, 'rawPcm'>): Promise<ProbeResult> {
  let b = await reader.peek(16);
  if (b.length === 0) throw new KookRtpError('INVALID_INPUT', `${reader.description} is empty (0 bytes): nothing to play`);
  if (options.rawPcm) {
    const { sampleRate, channels, sampleType } = options.rawPcm;
    if (!(sampleRate >= 1000 && sampleRate <= 768000) || !(Number.isInteger(channels) && channels >= 1 && channels <= 8) || (sampleType !== 's16le' && sampleType !== 'f32le')) {
      throw new KookRtpError('INVALID_ARGUMENT', `rawPcm format is invalid: ${JSON.stringify(options.rawPcm)}`);
    }
    const bits = sampleType === 's16le' ? 16 : 32;
    const format: WavFormat = { sampleType: sampleType === 's16le' ? 'int' : 'float', bitsPerSample: bits, channels, sampleRate, blockAlign: (channels * bits) / 8, dataSize: undefined, extensible: false };
    const durationSec = reader.size !== undefined ? reader.size / format.blockAlign / sampleRate : undefined;
    return {
      info: { container: 'raw', codec: 'pcm', sampleRate, channels, bitrate: sampleRate * channels * bits, ...(durationSec !== undefined ? { durationSec } : {}) },
      detail: { kind: 'raw', format },
    };
  }
  let tags: Id3Fields = {};
  let id3 = false;
  if (b.length >= 10 && ascii(b, 0, 3) === 'ID3' && b[3]! < 0xff && b[4]! < 0xff && !(b[6]! & 0x80)) {
    tags = await readId3(reader);
    id3 = true;
    b = await reader.peek(16);
    if (b.length === 0) throw new KookRtpError('INVALID_INPUT', `${reader.description} holds only an ID3 tag, no audio`);
  }
  if (ascii(b, 0, 4) === 'fLaC') return probeFlac(reader, tags);
  if (!id3) {
    if (isWav(b)) {
      const format = await readWavHeader(reader);
      const durationSec = format.dataSize !== undefined ? format.dataSize / format.blockAlign / format.sampleRate : undefined;
      return {
        info: { container: 'wav', codec: 'pcm', sampleRate: format.sampleRate, channels: format.channels, bitrate: format.sampleRate * format.blockAlign * 8, ...(durationSec !== undefined ? { durationSec } : {}) },
        detail: { kind: 'wav', format },
      };
    }
    if (ascii(b, 0, 4) === 'OggS') return probeOgg(reader);
    if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return probeWebm(reader);
    const other = sniffOther(await reader.peek(PEEK));
    if (other) return withStreamFormat(other, reader);
  }
  const mp3 = await probeMp3(reader, tags, id3);
  if (mp3) return mp3;
  if (id3) {
    const other = sniffOther(await reader.peek(PEEK));
    if (other) return withStreamFormat(other, reader);
  }
  throw new KookRtpError(
    'UNSUPPORTED_FORMAT',
    `${reader.description}: content not recognised (first bytes ${hexStart(b)}); supported: MP3, WAV, FLAC, Ogg (Opus/Vorbis/FLAC), WebM/Opus, raw PCM with rawPcm, others with ffmpeg installed`,
  );
}

/** Options of {@link chooseMode} and {@link explainMode}. */
export interface ModeOptions extends Pick<ProbeOptions, 'volume' | 'passthrough'> {
  /**
   * The room's bitrate in bit/s. With it, an Opus input passes through when its peak 1 s window of RTP bytes
   * ({@link TrackInfo.peakWindow}) fits the bitrate guard's limit for the room (`floor(roomBitrate / 8)` bytes);
   * without it (or without a peak window), when its mean packet bitrate fits `budget`.
   */
  readonly roomBitrate?: number;
}

/**
 * Decides passthrough vs transcode for a probed track, and says why.
 *
 * @param detail - what probing found.
 * @param budget - the Opus bitrate the room allows (opusBitrateForRoom): the transcoder's target, and the test for
 *   an input without a peak window.
 * @param options - volume, passthrough policy and the room's bitrate.
 * @returns the mode and the reason in words.
 */
export function explainMode(detail: ProbeDetail, budget: number, options: ModeOptions): { mode: 'passthrough' | 'transcode'; reason: string } {
  const transcode = (reason: string): { mode: 'transcode'; reason: string } => ({ mode: 'transcode', reason });
  if (detail.kind !== 'ogg-opus' && detail.kind !== 'webm-opus') return transcode('not Opus: decoded and encoded');
  if (options.passthrough === 'never') return transcode('passthrough is never');
  if ((options.volume ?? 1) !== 1) return transcode(`volume ${options.volume} is not 1`);
  if (detail.head.mappingFamily !== 0 || detail.head.channels > 2) return transcode(`${detail.head.channels} channels in mapping family ${detail.head.mappingFamily}: only mono or stereo (family 0) go out unchanged`);
  if (options.passthrough === 'always') return { mode: 'passthrough', reason: 'passthrough is always' };
  const peak = detail.peakWindow;
  if (peak !== undefined && options.roomBitrate !== undefined) {
    const limit = guardLimitBytes(options.roomBitrate);
    const where = `peak 1 s window ${peak.bytes} RTP bytes (${peak.bitrate} bit/s, at ${peak.atSec} s${peak.whole ? '' : ` of the first ${peak.measuredSec} s`})`;
    return peak.bytes <= limit
      ? { mode: 'passthrough', reason: `${where} fits the room's ${options.roomBitrate} bit/s (${limit} bytes)` }
      : transcode(`${where} exceeds the room's ${options.roomBitrate} bit/s (${limit} bytes)`);
  }
  if (detail.packetBitrate === undefined) return transcode('the packets\' bitrate is unknown');
  return detail.packetBitrate <= budget
    ? { mode: 'passthrough', reason: `packet bitrate ${detail.packetBitrate} bit/s fits the Opus budget ${budget}` }
    : transcode(`packet bitrate ${detail.packetBitrate} bit/s exceeds the Opus budget ${budget}`);
}

/**
 * Decides passthrough vs transcode for a probed track (see {@link explainMode}).
 * @param budget - the Opus bitrate the room allows (opusBitrateForRoom).
 */
export function chooseMode(detail: ProbeDetail, budget: number, options: ModeOptions): 'passthrough' | 'transcode' {
  return explainMode(detail, budget, options).mode;
}

/**
 * Probes an input by content and says how it would be played.
 *
 * @param input - see {@link TrackInput}.
 * @param options - room bitrate and volume (they decide passthrough), raw PCM format, cancellation.
 * @returns the track's info.
 * @throws {@link KookRtpError} as {@link openInput} and `INVALID_INPUT` / `UNSUPPORTED_FORMAT` for bad content.
 */
export async function probe(input: TrackInput, options: ProbeOptions = {}): Promise<TrackInfo> {
  const reader = await openInput(input, { signal: options.signal, stallTimeoutMs: options.stallTimeoutMs });
  try {
    const r = await probeReader(reader, options.rawPcm ? { rawPcm: options.rawPcm } : {});
    const roomBitrate = options.roomBitrate ?? 48000;
    const { mode, reason } = explainMode(r.detail, opusBitrateForRoom(roomBitrate), { ...options, roomBitrate });
    return { ...r.info, mode, modeReason: reason };
  } finally {
    await reader.close();
  }
}

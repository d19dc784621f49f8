/**
 * Structure-aware fuzz cases: for a small valid sample of every format the project parses (MP3 behind ID3v2.3 and
 * v2.4 tags, WAV, FLAC, Ogg Opus/Vorbis/FLAC, WebM, FLV, RTP, RTCP, pcap), the sample's structure is walked once to
 * list its headers and its length, count and value fields. The systematic cases are then:
 * - every truncation point of every header (the file cut at each byte from the header's first to its last + 1);
 * - every field set to each boundary value (0, 1, actual - 1, actual + 1, twice, the bytes left, the bytes left + 1,
 *   half the field's range and the top of it), with checksums recomputed where the format has them (Ogg CRCs) so the
 *   parser gets past them.
 * Random cases combine a few field settings with a truncation or bit flips, from a seeded PRNG.
 *
 * The rule every case checks: the parser succeeds or throws a `KookRtpError`, within a time bound; for media, one of
 * the codes the docs promise for a bad file ({@link MEDIA_CODES}). The vitest suite
 * (structured.test.ts) runs every cheap case and a sample of the media ones; `npm run fuzz -- --seed S --cases N`
 * (bench/fuzz.ts) runs as many as asked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { prng } from '../prng.js';
import { KookRtpError } from '../../src/errors.js';
import { probe } from '../../src/media/probe.js';
import { openTrack } from '../../src/media/track.js';
import { classifyPacket } from '../../src/wire/demux.js';
import { decodeFlvScriptData, encodeFlvScriptData } from '../../src/wire/flv/amf0.js';
import { decodeFlvAudioData, encodeFlvAudioData, FlvSoundFormat, FlvSoundRate } from '../../src/wire/flv/audio.js';
import { encodeFlvHeader } from '../../src/wire/flv/header.js';
import { decodeMp3FrameHeader, Mp3FrameSplitter } from '../../src/wire/flv/mp3.js';
import { decodeFlv, FlvReader } from '../../src/wire/flv/reader.js';
import { encodeFlvTag, FlvTagType } from '../../src/wire/flv/tag.js';
import { oggCrc32 } from '../../src/wire/ogg/page.js';
import { decodePcap } from '../../src/wire/pcap/pcap.js';
import { decodeCompound, encodeCompound, validateCompound } from '../../src/wire/rtcp/compound.js';
import { reportBlockPlausibility } from '../../src/wire/rtcp/plausibility.js';
import { decodeRtpExtensionElements, decodeRtpPacket, encodeRtpPacket } from '../../src/wire/rtp/packet.js';

/** Which parser a case goes through. */
export type FuzzTarget = 'media' | 'flv' | 'rtp' | 'rtcp' | 'pcap';

/** A field of a sample: `width` bytes at `at` (big-endian unless `le`), optionally only `bits` bits at `shift`. */
export interface FuzzField {
  readonly name: string;
  readonly at: number;
  readonly width: number;
  readonly le?: boolean;
  readonly shift?: number;
  readonly bits?: number;
  /** `synchsafe`: ID3's 4 x 7 bits; `vint`: an EBML size of `width` bytes (marker bit kept). Default a plain integer. */
  readonly enc?: 'synchsafe' | 'vint';
}

/** A valid sample and its structure. */
export interface FuzzSeed {
  readonly format: string;
  readonly target: FuzzTarget;
  readonly bytes: Uint8Array;
  /** Header byte ranges [start, end): every cut point in each is a case. */
  readonly headers: readonly { readonly name: string; readonly start: number; readonly end: number }[];
  readonly fields: readonly FuzzField[];
  /** Recomputes checksums in place after a mutation (Ogg page CRCs). */
  readonly fixup?: (b: Uint8Array) => void;
}

/** One case: the bytes and how to name it (`format:kind...`). */
export interface FuzzCase {
  readonly id: string;
  readonly format: string;
  readonly target: FuzzTarget;
  readonly bytes: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Field access

function fieldMax(f: FuzzField): bigint {
  if (f.enc === 'synchsafe') return (1n << 28n) - 1n;
  if (f.enc === 'vint') return (1n << BigInt(7 * f.width)) - 1n;
  return (1n << BigInt(f.bits ?? 8 * f.width)) - 1n;
}

function readContainer(b: Uint8Array, f: FuzzField): bigint {
  let v = 0n;
  for (let i = 0; i < f.width; i++) v = (v << 8n) | BigInt(b[f.le ? f.at + f.width - 1 - i : f.at + i] ?? 0);
  return v;
}

function writeContainer(b: Uint8Array, f: FuzzField, v: bigint): void {
  for (let i = 0; i < f.width; i++) {
    const byte = Number((v >> BigInt(8 * (f.width - 1 - i))) & 0xffn);
    const at = f.le ? f.at + f.width - 1 - i : f.at + i;
    if (at < b.length) b[at] = byte;
  }
}

/** The field's current value. */
export function readField(b: Uint8Array, f: FuzzField): bigint {
  const c = readContainer(b, f);
  if (f.enc === 'synchsafe') return ((c >> 24n) & 0x7fn) << 21n | ((c >> 16n) & 0x7fn) << 14n | ((c >> 8n) & 0x7fn) << 7n | (c & 0x7fn);
  if (f.enc === 'vint') return c & fieldMax(f);
  return (c >> BigInt(f.shift ?? 0)) & fieldMax(f);
}

/** Sets the field to `v` (clamped to its range) in place. */
export function writeField(b: Uint8Array, f: FuzzField, v: bigint): void {
  const max = fieldMax(f);
  const x = v < 0n ? 0n : v > max ? max : v;
  if (f.enc === 'synchsafe') {
    writeContainer(b, f, ((x >> 21n) & 0x7fn) << 24n | ((x >> 14n) & 0x7fn) << 16n | ((x >> 7n) & 0x7fn) << 8n | (x & 0x7fn));
  } else if (f.enc === 'vint') {
    writeContainer(b, f, (1n << BigInt(7 * f.width)) | x);
  } else {
    const shift = BigInt(f.shift ?? 0);
    writeContainer(b, f, (readContainer(b, f) & ~(max << shift)) | (x << shift));
  }
}

/** The boundary values of a field in a sample, the sample's own value excluded. */
export function boundaries(b: Uint8Array, f: FuzzField): bigint[] {
  const actual = readField(b, f);
  const max = fieldMax(f);
  const left = BigInt(Math.max(0, b.length - f.at - f.width));
  const out = new Set<bigint>([0n, 1n, actual - 1n, actual + 1n, actual * 2n, left, left + 1n, max >> 1n, (max >> 1n) + 1n, max - 1n, max]);
  return [...out].filter((v) => v >= 0n && v <= max && v !== actual).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Samples

const fixture = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url)));
const u8 = (...parts: (Uint8Array | number[] | string)[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as Uint8Array)))));
const be = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * (n - 1 - i))) & 0xff);
const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
const synchsafe = (v: number): number[] => [(v >> 21) & 0x7f, (v >> 14) & 0x7f, (v >> 7) & 0x7f, v & 0x7f];

type Header = { name: string; start: number; end: number };

/** MPEG frame header fields (bitrate, rate, padding, layer, version, channel mode) of the frame at `at`. */
function mpegFields(name: string, at: number): FuzzField[] {
  return [
    { name: `${name}.version`, at: at + 1, width: 1, shift: 3, bits: 2 },
    { name: `${name}.layer`, at: at + 1, width: 1, shift: 1, bits: 2 },
    { name: `${name}.bitrate`, at: at + 2, width: 1, shift: 4, bits: 4 },
    { name: `${name}.rate`, at: at + 2, width: 1, shift: 2, bits: 2 },
    { name: `${name}.padding`, at: at + 2, width: 1, shift: 1, bits: 1 },
    { name: `${name}.mode`, at: at + 3, width: 1, shift: 6, bits: 2 },
  ];
}

/** ID3v2.3 or v2.4 tag (extended header, TIT2, TPE1, padding) in front of six MP3 frames (the first a Xing/Info frame). */
function id3Seed(major: 3 | 4): FuzzSeed {
  const frames = new Mp3FrameSplitter().push(fixture('media/steps.mp3')).slice(0, 6);
  const size = (n: number): number[] => (major === 4 ? synchsafe(n) : be(n, 4));
  const ext = major === 3 ? [...be(6, 4), 0, 0, ...be(4, 4)] : [...synchsafe(6), 1, 0];
  const tit2 = u8('\u0000Fuzz title');
  const tpe1 = u8('\u0003kook-rtp');
  const body = u8(ext, 'TIT2', size(tit2.length), [0, 0], tit2, 'TPE1', size(tpe1.length), [0, 0], tpe1, [0, 0, 0, 0]);
  const bytes = u8('ID3', [major, 0, 0x40], synchsafe(body.length), body, ...frames);
  const headers: Header[] = [{ name: 'id3', start: 0, end: 10 }, { name: 'id3.ext', start: 10, end: 10 + ext.length }];
  const fields: FuzzField[] = [
    { name: 'id3.major', at: 3, width: 1 },
    { name: 'id3.flags', at: 5, width: 1 },
    { name: 'id3.size', at: 6, width: 4, enc: 'synchsafe' },
    major === 3 ? { name: 'id3.ext.size', at: 10, width: 4 } : { name: 'id3.ext.size', at: 10, width: 4, enc: 'synchsafe' },
  ];
  let at = 10 + ext.length;
  for (const [id, len] of [['TIT2', tit2.length], ['TPE1', tpe1.length]] as const) {
    headers.push({ name: id, start: at, end: at + 10 });
    fields.push(major === 3 ? { name: `${id}.size`, at: at + 4, width: 4 } : { name: `${id}.size`, at: at + 4, width: 4, enc: 'synchsafe' }, { name: `${id}.format`, at: at + 9, width: 1 });
    at += 10 + len;
  }
  at = 10 + body.length;
  frames.slice(0, 3).forEach((f, i) => {
    headers.push({ name: `mpeg${i}`, start: at, end: at + 4 });
    fields.push(...mpegFields(`mpeg${i}`, at));
    if (i === 0) {
      const tag = Buffer.from(f).indexOf('Xing') >= 0 ? Buffer.from(f).indexOf('Xing') : Buffer.from(f).indexOf('Info');
      if (tag > 0) {
        headers.push({ name: 'xing', start: at + tag, end: at + tag + 16 });
        fields.push({ name: 'xing.flags', at: at + tag + 4, width: 4 }, { name: 'xing.frames', at: at + tag + 8, width: 4 }, { name: 'xing.bytes', at: at + tag + 12, width: 4 });
      }
    }
    at += f.length;
  });
  return { format: `id3v2.${major}+mp3`, target: 'media', bytes, headers, fields };
}

/** A 16-bit mono WAV (plain or WAVE_FORMAT_EXTENSIBLE) with a LIST chunk before the data. */
function wavSeed(extensible: boolean): FuzzSeed {
  const samples = Array.from({ length: 480 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
  const fmtBody = extensible
    ? [...le(0xfffe, 2), ...le(1, 2), ...le(8000, 4), ...le(16000, 4), ...le(2, 2), ...le(16, 2), ...le(22, 2), ...le(16, 2), ...le(4, 4), ...le(1, 2), 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]
    : [...le(1, 2), ...le(1, 2), ...le(8000, 4), ...le(16000, 4), ...le(2, 2), ...le(16, 2)];
  const list = u8('INFOINAM', le(6, 4), 'fuzz\u0000\u0000');
  const data = u8(samples.flatMap((s) => le(s & 0xffff, 2)));
  const rest = u8('WAVE', 'fmt ', le(fmtBody.length, 4), fmtBody, 'LIST', le(list.length, 4), list, 'data', le(data.length, 4), data);
  const bytes = u8('RIFF', le(rest.length, 4), rest);
  const fmt = 12;
  const listAt = fmt + 8 + fmtBody.length;
  const dataAt = listAt + 8 + list.length;
  const fields: FuzzField[] = [
    { name: 'riff.size', at: 4, width: 4, le: true },
    { name: 'fmt.size', at: fmt + 4, width: 4, le: true },
    { name: 'fmt.format', at: fmt + 8, width: 2, le: true },
    { name: 'fmt.channels', at: fmt + 10, width: 2, le: true },
    { name: 'fmt.rate', at: fmt + 12, width: 4, le: true },
    { name: 'fmt.byteRate', at: fmt + 16, width: 4, le: true },
    { name: 'fmt.blockAlign', at: fmt + 20, width: 2, le: true },
    { name: 'fmt.bits', at: fmt + 22, width: 2, le: true },
    { name: 'list.size', at: listAt + 4, width: 4, le: true },
    { name: 'list.inam.size', at: listAt + 12, width: 4, le: true },
    { name: 'data.size', at: dataAt + 4, width: 4, le: true },
  ];
  if (extensible) fields.push({ name: 'fmt.cbSize', at: fmt + 24, width: 2, le: true }, { name: 'fmt.validBits', at: fmt + 26, width: 2, le: true }, { name: 'fmt.subFormat', at: fmt + 32, width: 2, le: true });
  return {
    format: extensible ? 'wav-extensible' : 'wav',
    target: 'media',
    bytes,
    headers: [
      { name: 'riff', start: 0, end: 12 },
      { name: 'fmt', start: fmt, end: fmt + 8 + fmtBody.length },
      { name: 'list', start: listAt, end: listAt + 20 },
      { name: 'data', start: dataAt, end: dataAt + 8 },
    ],
    fields,
  };
}

/** FLAC: STREAMINFO (and the fixture's other non-padding blocks), a VORBIS_COMMENT block, then 4 KB of frames. */
function flacSeed(): FuzzSeed {
  const src = fixture('media/steps.flac');
  const blocks: { type: number; body: Uint8Array }[] = [];
  let o = 4;
  for (;;) {
    const type = src[o]! & 0x7f;
    const last = (src[o]! & 0x80) !== 0;
    const len = (src[o + 1]! << 16) | (src[o + 2]! << 8) | src[o + 3]!;
    if (type !== 1 && type !== 4) blocks.push({ type, body: src.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
    if (last) break;
  }
  const comments = ['TITLE=Fuzz', 'ARTIST=kook-rtp'];
  blocks.push({ type: 4, body: u8(le(8, 4), 'kook-rtp', le(comments.length, 4), ...comments.map((c) => u8(le(c.length, 4), c))) });
  const parts: Uint8Array[] = [u8('fLaC')];
  const headers: Header[] = [{ name: 'magic', start: 0, end: 4 }];
  const fields: FuzzField[] = [];
  let at = 4;
  blocks.forEach((b, i) => {
    parts.push(u8([(i === blocks.length - 1 ? 0x80 : 0) | b.type], be(b.body.length, 3)), b.body);
    headers.push({ name: `block${i}`, start: at, end: at + 4 });
    fields.push({ name: `block${i}.type`, at, width: 1, bits: 7 }, { name: `block${i}.last`, at, width: 1, shift: 7, bits: 1 }, { name: `block${i}.length`, at: at + 1, width: 3 });
    const body = at + 4;
    if (b.type === 0) {
      headers.push({ name: 'streaminfo', start: body, end: body + 18 });
      fields.push(
        { name: 'streaminfo.minBlock', at: body, width: 2 },
        { name: 'streaminfo.maxBlock', at: body + 2, width: 2 },
        { name: 'streaminfo.minFrame', at: body + 4, width: 3 },
        { name: 'streaminfo.maxFrame', at: body + 7, width: 3 },
        { name: 'streaminfo.rate', at: body + 10, width: 3, shift: 4, bits: 20 },
        { name: 'streaminfo.channels', at: body + 12, width: 1, shift: 1, bits: 3 },
        { name: 'streaminfo.bps', at: body + 12, width: 2, shift: 4, bits: 5 },
        { name: 'streaminfo.total', at: body + 13, width: 5, bits: 36 },
      );
    } else if (b.type === 4) {
      headers.push({ name: 'comments', start: body, end: body + b.body.length });
      fields.push({ name: 'vendor.length', at: body, width: 4, le: true }, { name: 'comments.count', at: body + 12, width: 4, le: true }, { name: 'comment0.length', at: body + 16, width: 4, le: true });
    }
    at += 4 + b.body.length;
  });
  headers.push({ name: 'frame0', start: at, end: at + 16 });
  fields.push(
    { name: 'frame0.blockSize', at: at + 2, width: 1, shift: 4, bits: 4 },
    { name: 'frame0.rate', at: at + 2, width: 1, bits: 4 },
    { name: 'frame0.channels', at: at + 3, width: 1, shift: 4, bits: 4 },
    { name: 'frame0.sampleSize', at: at + 3, width: 1, shift: 1, bits: 3 },
  );
  parts.push(src.subarray(o, o + 4096));
  return { format: 'flac', target: 'media', bytes: u8(...parts), headers, fields };
}

/** Recomputes the CRC of every page that can be walked from the start. */
function fixOggCrcs(b: Uint8Array): void {
  let p = 0;
  while (p + 27 <= b.length && b[p] === 0x4f && b[p + 1] === 0x67 && b[p + 2] === 0x67 && b[p + 3] === 0x53) {
    const n = b[p + 26]!;
    if (p + 27 + n > b.length) return;
    let size = 27 + n;
    for (let i = 0; i < n; i++) size += b[p + 27 + i]!;
    if (p + size > b.length) return;
    b.fill(0, p + 22, p + 26);
    const crc = oggCrc32(b.subarray(p, p + size));
    b[p + 22] = crc & 0xff;
    b[p + 23] = (crc >>> 8) & 0xff;
    b[p + 24] = (crc >>> 16) & 0xff;
    b[p + 25] = (crc >>> 24) & 0xff;
    p += size;
  }
}

/** The first `pages` pages of an Ogg fixture, with page and first-packet fields. */
function oggSeed(file: string, format: string, pages: number): FuzzSeed {
  const src = fixture(`media/${file}`);
  const headers: Header[] = [];
  const fields: FuzzField[] = [];
  const starts: number[] = [];
  let p = 0;
  for (let i = 0; i < pages && p + 27 <= src.length; i++) {
    const n = src[p + 26]!;
    let size = 27 + n;
    for (let s = 0; s < n; s++) size += src[p + 27 + s]!;
    starts.push(p + 27 + n);
    headers.push({ name: `page${i}`, start: p, end: p + 27 + n });
    fields.push(
      { name: `page${i}.version`, at: p + 4, width: 1 },
      { name: `page${i}.flags`, at: p + 5, width: 1 },
      { name: `page${i}.granule`, at: p + 6, width: 8, le: true },
      { name: `page${i}.serial`, at: p + 14, width: 4, le: true },
      { name: `page${i}.sequence`, at: p + 18, width: 4, le: true },
      { name: `page${i}.segments`, at: p + 26, width: 1 },
    );
    for (let s = 0; s < Math.min(n, 3); s++) fields.push({ name: `page${i}.lacing${s}`, at: p + 27 + s, width: 1 });
    p += size;
  }
  const bytes = src.slice(0, p);
  const h = starts[0]!;
  const t = starts[1];
  if (format === 'ogg-opus') {
    headers.push({ name: 'OpusHead', start: h, end: h + 19 });
    fields.push(
      { name: 'head.version', at: h + 8, width: 1 },
      { name: 'head.channels', at: h + 9, width: 1 },
      { name: 'head.preSkip', at: h + 10, width: 2, le: true },
      { name: 'head.rate', at: h + 12, width: 4, le: true },
      { name: 'head.gain', at: h + 16, width: 2, le: true },
      { name: 'head.family', at: h + 18, width: 1 },
    );
    if (t !== undefined) {
      const vendor = bytes[t + 8]! | (bytes[t + 9]! << 8);
      headers.push({ name: 'OpusTags', start: t, end: t + 16 + vendor + 4 });
      fields.push({ name: 'tags.vendor.length', at: t + 8, width: 4, le: true }, { name: 'tags.count', at: t + 12 + vendor, width: 4, le: true }, { name: 'tags.comment0.length', at: t + 16 + vendor, width: 4, le: true });
    }
  } else if (format === 'ogg-vorbis') {
    headers.push({ name: 'vorbis.id', start: h, end: h + 30 });
    fields.push({ name: 'id.channels', at: h + 11, width: 1 }, { name: 'id.rate', at: h + 12, width: 4, le: true }, { name: 'id.nominal', at: h + 20, width: 4, le: true }, { name: 'id.blocksizes', at: h + 28, width: 1 });
    if (t !== undefined) {
      const vendor = bytes[t + 7]! | (bytes[t + 8]! << 8);
      headers.push({ name: 'vorbis.comment', start: t, end: t + 15 + vendor + 4 });
      fields.push({ name: 'comment.vendor.length', at: t + 7, width: 4, le: true }, { name: 'comment.count', at: t + 11 + vendor, width: 4, le: true });
    }
  } else {
    headers.push({ name: 'ogg-flac.head', start: h, end: h + 13 + 4 + 18 });
    fields.push(
      { name: 'head.major', at: h + 5, width: 1 },
      { name: 'head.count', at: h + 7, width: 2 },
      { name: 'streaminfo.length', at: h + 14, width: 3 },
      { name: 'streaminfo.rate', at: h + 17 + 10, width: 3, shift: 4, bits: 20 },
      { name: 'streaminfo.channels', at: h + 17 + 12, width: 1, shift: 1, bits: 3 },
      { name: 'streaminfo.bps', at: h + 17 + 12, width: 2, shift: 4, bits: 5 },
      { name: 'streaminfo.total', at: h + 17 + 13, width: 5, bits: 36 },
    );
    if (t !== undefined) fields.push({ name: 'block1.header', at: t, width: 1 }, { name: 'block1.length', at: t + 1, width: 3 });
  }
  return { format, target: 'media', bytes, headers, fields, fixup: fixOggCrcs };
}

/** EBML element ids that hold other elements (walked into). */
const EBML_MASTERS = new Set([0x1a45dfa3, 0x18538067, 0x114d9b74, 0x4dbb, 0x1549a966, 0x1654ae6b, 0xae, 0xe1, 0x1f43b675, 0xa0, 0x1c53bb6b, 0x1254c367, 0x7373, 0x67c8, 0x63c0]);

/** The first 6 KB of the WebM fixture: every element header and size, CodecPrivate's OpusHead, the first blocks. */
function webmSeed(): FuzzSeed {
  const bytes = fixture('media/sine-opus-48k.webm').slice(0, 6144);
  const headers: Header[] = [];
  const fields: FuzzField[] = [];
  const seen = new Map<number, number>();
  const vlen = (b: number): number => (b === 0 ? 9 : Math.clz32(b) - 23);
  const walk = (from: number, to: number, depth: number): void => {
    let p = from;
    while (p < to && p < bytes.length) {
      const idLen = vlen(bytes[p]!);
      if (idLen > 4 || p + idLen >= bytes.length) return;
      let id = 0;
      for (let i = 0; i < idLen; i++) id = id * 256 + bytes[p + i]!;
      const sp = p + idLen;
      const sizeLen = vlen(bytes[sp]!);
      if (sizeLen > 8 || sp + sizeLen > bytes.length) return;
      const sizeField: FuzzField = { name: `0x${id.toString(16)}.size`, at: sp, width: sizeLen, enc: 'vint' };
      const size = Number(readField(bytes, sizeField));
      const unknown = size === Number(fieldMax(sizeField));
      const data = sp + sizeLen;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      if (n <= 3) {
        headers.push({ name: `0x${id.toString(16)}#${n}`, start: p, end: data });
        fields.push({ ...sizeField, name: `${sizeField.name}#${n}` });
        if (id === 0x63a2 && bytes[data] === 0x4f) fields.push({ name: 'codecPrivate.channels', at: data + 9, width: 1 }, { name: 'codecPrivate.preSkip', at: data + 10, width: 2, le: true });
        if (id === 0x9f) fields.push({ name: 'audio.channels', at: data, width: size });
        if (id === 0xa3 || id === 0xa1) fields.push({ name: `block#${n}.track`, at: data, width: 1, enc: 'vint' }, { name: `block#${n}.timecode`, at: data + 1, width: 2 });
      }
      const end = unknown ? to : data + size;
      if (EBML_MASTERS.has(id) && depth < 8) walk(data, Math.min(end, to), depth + 1);
      p = end;
    }
  };
  walk(0, bytes.length, 0);
  return { format: 'webm', target: 'media', bytes, headers, fields };
}

/** An HTTP-FLV stream as the tap writes it: header, onMetaData, six MP3 audio tags. */
function flvSeed(): FuzzSeed {
  const frames = new Mp3FrameSplitter().push(fixture('media/steps.mp3')).slice(0, 6);
  const script = encodeFlvScriptData({ name: 'onMetaData', properties: { duration: 0, audiocodecid: 2, stereo: true, encoder: 'kook-rtp' } });
  const tags = [
    encodeFlvTag({ type: FlvTagType.script, timestamp: 0, data: script }),
    ...frames.map((f, i) => encodeFlvTag({ type: FlvTagType.audio, timestamp: i * 26, data: encodeFlvAudioData({ soundFormat: FlvSoundFormat.mp3, soundRate: FlvSoundRate.rate44100, is16Bit: true, stereo: true, payload: f }) })),
  ];
  const bytes = u8(encodeFlvHeader({ hasAudio: true, hasVideo: false }), ...tags);
  const headers: Header[] = [{ name: 'flv', start: 0, end: 13 }];
  const fields: FuzzField[] = [
    { name: 'flv.version', at: 3, width: 1 },
    { name: 'flv.flags', at: 4, width: 1 },
    { name: 'flv.dataOffset', at: 5, width: 4 },
    { name: 'flv.previousTagSize0', at: 9, width: 4 },
  ];
  let t = 13;
  tags.slice(0, 4).forEach((tag, i) => {
    const d = t + 11;
    const size = tag.length - 15;
    headers.push({ name: `tag${i}`, start: t, end: d });
    fields.push({ name: `tag${i}.type`, at: t, width: 1 }, { name: `tag${i}.dataSize`, at: t + 1, width: 3 }, { name: `tag${i}.timestamp`, at: t + 4, width: 4 }, { name: `tag${i}.streamId`, at: t + 8, width: 3 }, { name: `tag${i}.previousTagSize`, at: d + size, width: 4 });
    if (i === 0) {
      // AMF0: string "onMetaData", then an ECMA array of (u16 key length, key, marker, value).
      headers.push({ name: 'amf0', start: d, end: d + 18 });
      fields.push({ name: 'amf0.name.length', at: d + 1, width: 2 }, { name: 'amf0.array.count', at: d + 14, width: 4 });
      let p = d + 18;
      while (p + 2 < d + size) {
        const klen = (bytes[p]! << 8) | bytes[p + 1]!;
        if (klen === 0) break;
        fields.push({ name: `amf0.key@${p - d}.length`, at: p, width: 2 });
        const m = p + 2 + klen;
        const marker = bytes[m];
        if (marker === 0) p = m + 9;
        else if (marker === 1) p = m + 2;
        else if (marker === 2) {
          fields.push({ name: `amf0.value@${m + 1 - d}.length`, at: m + 1, width: 2 });
          p = m + 3 + ((bytes[m + 1]! << 8) | bytes[m + 2]!);
        } else break;
      }
    } else {
      headers.push({ name: `audio${i}`, start: d, end: d + 5 });
      fields.push({ name: `audio${i}.format`, at: d, width: 1, shift: 4, bits: 4 }, { name: `audio${i}.rate`, at: d, width: 1, shift: 2, bits: 2 }, ...mpegFields(`audio${i}.mpeg`, d + 1));
    }
    t += tag.length;
  });
  return { format: 'flv', target: 'flv', bytes, headers, fields };
}

/** An RTP packet with 2 CSRCs, an RFC 8285 extension (one- or two-byte elements), padding and a payload. */
function rtpSeed(twoByte: boolean): FuzzSeed {
  const ext = twoByte ? u8([1, 2, 0xaa, 0xbb, 2, 0, 3, 1, 0xcc, 0, 0, 0]) : u8([0x11, 0xaa, 0xbb, 0x20, 0xcc, 0x00, 0x00, 0x00]);
  const bytes = encodeRtpPacket({
    marker: true,
    payloadType: 111,
    sequenceNumber: 65535,
    timestamp: 0xfffffff0,
    ssrc: 1111,
    csrcs: [1, 2],
    extension: { profile: twoByte ? 0x1000 : 0xbede, data: ext },
    padding: 4,
    payload: u8(Array.from({ length: 20 }, (_, i) => i)),
  });
  const e = 12 + 8;
  const fields: FuzzField[] = [
    { name: 'version', at: 0, width: 1, shift: 6, bits: 2 },
    { name: 'padding', at: 0, width: 1, shift: 5, bits: 1 },
    { name: 'extension', at: 0, width: 1, shift: 4, bits: 1 },
    { name: 'csrcCount', at: 0, width: 1, bits: 4 },
    { name: 'payloadType', at: 1, width: 1, bits: 7 },
    { name: 'ext.profile', at: e, width: 2 },
    { name: 'ext.length', at: e + 2, width: 2 },
    twoByte ? { name: 'ext.element0.length', at: e + 5, width: 1 } : { name: 'ext.element0.length', at: e + 4, width: 1, bits: 4 },
    twoByte ? { name: 'ext.element0.id', at: e + 4, width: 1 } : { name: 'ext.element0.id', at: e + 4, width: 1, shift: 4, bits: 4 },
    { name: 'padding.count', at: bytes.length - 1, width: 1 },
  ];
  return {
    format: twoByte ? 'rtp-2byte-ext' : 'rtp-1byte-ext',
    target: 'rtp',
    bytes,
    headers: [{ name: 'fixed', start: 0, end: 12 }, { name: 'csrcs', start: 12, end: e }, { name: 'ext', start: e, end: e + 4 + ext.length }, { name: 'tail', start: bytes.length - 4, end: bytes.length }],
    fields,
  };
}

/** An RTCP compound: SR with two report blocks, SDES with two chunks, APP, BYE with a reason. */
function rtcpSeed(): FuzzSeed {
  const block = (ssrc: number) => ({ ssrc, fractionLost: 12, cumulativeLost: -3, highestSequence: 70000, jitter: 240, lastSenderReport: 0x10624dd2, delaySinceLastSenderReport: 0x8000 });
  const bytes = encodeCompound([
    { type: 'sr', ssrc: 9, ntpTimestamp: 1n << 40n, rtpTimestamp: 1, packetCount: 10, octetCount: 1000, reports: [block(1111), block(2222)] },
    { type: 'sdes', chunks: [{ source: 9, items: [{ type: 1, text: 'far@host' }, { type: 2, text: 'Far' }] }, { source: 10, items: [{ type: 1, text: 'x' }] }] },
    { type: 'app', subtype: 1, ssrc: 9, name: 'kook', data: u8([1, 2, 3, 4, 5, 6, 7, 8]) },
    { type: 'bye', sources: [9, 10], reason: 'done' },
  ]);
  const headers: Header[] = [];
  const fields: FuzzField[] = [];
  let p = 0;
  let i = 0;
  while (p + 4 <= bytes.length) {
    const pt = bytes[p + 1]!;
    const size = (((bytes[p + 2]! << 8) | bytes[p + 3]!) + 1) * 4;
    headers.push({ name: `packet${i}`, start: p, end: p + 8 });
    fields.push(
      { name: `packet${i}.version`, at: p, width: 1, shift: 6, bits: 2 },
      { name: `packet${i}.padding`, at: p, width: 1, shift: 5, bits: 1 },
      { name: `packet${i}.count`, at: p, width: 1, bits: 5 },
      { name: `packet${i}.type`, at: p + 1, width: 1 },
      { name: `packet${i}.length`, at: p + 2, width: 2 },
    );
    if (pt === 202) {
      // SDES items: type, length, text; a chunk ends with a zero type and padding to 32 bits.
      let q = p + 4;
      for (let c = 0; c < 2 && q < p + size; c++) {
        q += 4;
        while (q < p + size && bytes[q] !== 0) {
          headers.push({ name: `sdes.item@${q - p}`, start: q, end: q + 2 });
          fields.push({ name: `sdes.item@${q - p}.length`, at: q + 1, width: 1 }, { name: `sdes.item@${q - p}.type`, at: q, width: 1 });
          q += 2 + bytes[q + 1]!;
        }
        q = (q + 4) & ~3;
      }
    }
    if (pt === 203) fields.push({ name: 'bye.reason.length', at: p + 12, width: 1 });
    p += size;
    i++;
  }
  return { format: 'rtcp-compound', target: 'rtcp', bytes, headers, fields };
}

/** The first three records of a fixture capture, with link, IP and UDP header fields. */
function pcapSeed(file: string): FuzzSeed | undefined {
  const src = fixture(`pcap/${file}`);
  const magic = (src[0]! << 24) | (src[1]! << 16) | (src[2]! << 8) | src[3]!;
  const isLe = magic === (0xd4c3b2a1 | 0) || magic === (0x4d3cb2a1 | 0);
  const rd = (at: number) => (isLe ? src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24) : (src[at]! << 24) | (src[at + 1]! << 16) | (src[at + 2]! << 8) | src[at + 3]!) >>> 0;
  const link = rd(20);
  const linkLen = link === 1 ? 14 : link === 113 ? 16 : link === 276 ? 20 : link === 0 ? 4 : undefined;
  if (linkLen === undefined) return undefined;
  const headers: Header[] = [{ name: 'file', start: 0, end: 24 }];
  const fields: FuzzField[] = [
    { name: 'magic', at: 0, width: 4 },
    { name: 'version.major', at: 4, width: 2, le: isLe },
    { name: 'snaplen', at: 16, width: 4, le: isLe },
    { name: 'linktype', at: 20, width: 4, le: isLe },
  ];
  let r = 24;
  for (let i = 0; i < 3 && r + 16 <= src.length; i++) {
    const incl = rd(r + 8);
    headers.push({ name: `record${i}`, start: r, end: r + 16 });
    fields.push({ name: `record${i}.incl`, at: r + 8, width: 4, le: isLe }, { name: `record${i}.orig`, at: r + 12, width: 4, le: isLe }, { name: `record${i}.usec`, at: r + 4, width: 4, le: isLe });
    const f = r + 16;
    headers.push({ name: `record${i}.link`, start: f, end: f + linkLen });
    if (link === 1) fields.push({ name: `record${i}.ethertype`, at: f + 12, width: 2 });
    if (link === 113) fields.push({ name: `record${i}.sll.protocol`, at: f + 14, width: 2 });
    if (link === 276) fields.push({ name: `record${i}.sll2.protocol`, at: f, width: 2 });
    const ip = f + linkLen;
    if (ip < src.length && src[ip]! >> 4 === 4) {
      const ihl = (src[ip]! & 15) * 4;
      headers.push({ name: `record${i}.ipv4`, start: ip, end: ip + ihl }, { name: `record${i}.udp`, start: ip + ihl, end: ip + ihl + 8 });
      fields.push(
        { name: `record${i}.ip.version`, at: ip, width: 1, shift: 4, bits: 4 },
        { name: `record${i}.ip.ihl`, at: ip, width: 1, bits: 4 },
        { name: `record${i}.ip.totalLength`, at: ip + 2, width: 2 },
        { name: `record${i}.ip.protocol`, at: ip + 9, width: 1 },
        { name: `record${i}.udp.length`, at: ip + ihl + 4, width: 2 },
      );
    } else if (ip < src.length && src[ip]! >> 4 === 6) {
      headers.push({ name: `record${i}.ipv6`, start: ip, end: ip + 40 }, { name: `record${i}.udp`, start: ip + 40, end: ip + 48 });
      fields.push({ name: `record${i}.ip6.payloadLength`, at: ip + 4, width: 2 }, { name: `record${i}.ip6.nextHeader`, at: ip + 6, width: 1 }, { name: `record${i}.udp.length`, at: ip + 44, width: 2 });
    }
    r += 16 + incl;
  }
  return { format: `pcap:${file}`, target: 'pcap', bytes: src.slice(0, Math.min(r, src.length)), headers, fields };
}

let cachedSeeds: FuzzSeed[] | undefined;

/** Every sample with its structure (built once). */
export function fuzzSeeds(): FuzzSeed[] {
  cachedSeeds ??= [
    id3Seed(3),
    id3Seed(4),
    wavSeed(false),
    wavSeed(true),
    flacSeed(),
    oggSeed('steps.ogg', 'ogg-opus', 4),
    oggSeed('sine-vorbis.ogg', 'ogg-vorbis', 3),
    oggSeed('sine-flac.oga', 'ogg-flac', 3),
    webmSeed(),
    flvSeed(),
    rtpSeed(false),
    rtpSeed(true),
    rtcpSeed(),
    ...readdirSync(new URL('../../fixtures/pcap/', import.meta.url))
      .filter((f) => f.endsWith('.pcap'))
      .sort()
      .map(pcapSeed)
      .filter((s): s is FuzzSeed => s !== undefined),
  ];
  return cachedSeeds;
}

// ---------------------------------------------------------------------------------------------------------------
// Cases

/** The systematic cases of every seed, in a fixed order: truncations, then field boundaries. */
export function systematicCases(seeds: readonly FuzzSeed[] = fuzzSeeds()): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const s of seeds) {
    const cuts = new Set<number>();
    for (const h of s.headers) for (let c = h.start; c <= Math.min(h.end, s.bytes.length); c++) cuts.add(c);
    for (const c of [...cuts].sort((a, b) => a - b)) out.push({ id: `${s.format}:cut@${c}`, format: s.format, target: s.target, bytes: s.bytes.slice(0, c) });
    for (const f of s.fields) {
      if (f.at + f.width > s.bytes.length) continue;
      for (const v of boundaries(s.bytes, f)) {
        const b = s.bytes.slice();
        writeField(b, f, v);
        s.fixup?.(b);
        out.push({ id: `${s.format}:${f.name}=${v}`, format: s.format, target: s.target, bytes: b });
      }
    }
  }
  return out;
}


/** A random combination case: 1-3 field settings, then maybe a cut at a header point or a few bit flips. */
export function randomCase(seed: number, index: number, seeds: readonly FuzzSeed[] = fuzzSeeds()): FuzzCase {
  const rnd = prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const s = pick(seeds);
  const b = s.bytes.slice();
  const steps: string[] = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n && s.fields.length > 0; i++) {
    const f = pick(s.fields);
    if (f.at + f.width > b.length) continue;
    const bs = boundaries(b, f);
    const v = rnd() < 0.75 && bs.length > 0 ? pick(bs) : BigInt(Math.floor(rnd() * Number(fieldMax(f) > 0xffffffffn ? 0xffffffffn : fieldMax(f) + 1n)));
    writeField(b, f, v);
    steps.push(`${f.name}=${v}`);
  }
  let bytes = b;
  if (s.fixup && rnd() < 0.7) s.fixup(bytes);
  const r = rnd();
  if (r < 0.3 && s.headers.length > 0) {
    const h = pick(s.headers);
    const c = Math.min(bytes.length, h.start + Math.floor(rnd() * (h.end - h.start + 1)));
    bytes = bytes.slice(0, c);
    steps.push(`cut@${c}`);
  } else if (r < 0.5 && bytes.length > 0) {
    for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
      const at = Math.floor(rnd() * bytes.length);
      const bit = Math.floor(rnd() * 8);
      bytes[at] = bytes[at]! ^ (1 << bit);
      steps.push(`flip@${at}.${bit}`);
    }
  }
  return { id: `${s.format}:random(${steps.join(',')})`, format: s.format, target: s.target, bytes };
}

/** A deterministic shuffle of `0..n-1` by `seed` (Fisher-Yates on the PRNG). */
export function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rnd = prng(seed ^ 0x5bd1e995);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Case number `i` of a run with `seed`: the systematic cases first (in an order shuffled by the seed), then random
 * combinations. The same (seed, i) always gives the same bytes.
 */
export function caseAt(seed: number, i: number, systematic: readonly FuzzCase[], order: readonly number[]): FuzzCase {
  return i < systematic.length ? systematic[order[i]!]! : randomCase(seed, i - systematic.length);
}

// ---------------------------------------------------------------------------------------------------------------
// Running a case

/**
 * What bad media bytes may fail with. Anything else (`INVALID_ARGUMENT` from the framer, say) is a contract broken
 * inside the pipeline, even if typed: the docs promise these three for a bad file.
 */
export const MEDIA_CODES: ReadonlySet<string> = new Set(['INVALID_INPUT', 'UNSUPPORTED_FORMAT', 'DECODE_FAILED']);

function mediaError(err: unknown, where: string): void {
  if (!(err instanceof KookRtpError)) throw err;
  if (!MEDIA_CODES.has(err.code)) throw new Error(`${where} failed with ${err.code} (expected one of ${[...MEDIA_CODES].join(', ')}): ${err.message}`, { cause: err });
}

async function runMedia(bytes: Uint8Array): Promise<void> {
  try {
    await probe(bytes, { roomBitrate: 96000 });
  } catch (err) {
    mediaError(err, 'probe');
  }
  let track;
  try {
    track = await openTrack(bytes, { roomBitrate: 96000 });
  } catch (err) {
    mediaError(err, 'openTrack');
    return;
  }
  try {
    for await (const f of track) {
      if (!(f.data instanceof Uint8Array) || f.data.length === 0) throw new Error(`openTrack yielded an empty frame (${f.samples} samples)`);
    }
  } catch (err) {
    mediaError(err, 'the track');
  } finally {
    await track.close();
  }
}

async function ours(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof KookRtpError)) throw err;
  }
}

/** Runs `fn`; a KookRtpError is a fine outcome, anything else is rethrown. */
function oursSync(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KookRtpError)) throw err;
  }
}

function runFlv(bytes: Uint8Array): void {
  oursSync(() => {
    const { tags } = decodeFlv(bytes, { maxTagSize: 1 << 16 });
    for (const t of tags) {
      if (t.type === FlvTagType.audio) {
        const a = decodeFlvAudioData(t.data);
        decodeMp3FrameHeader(a.payload);
      } else if (t.type === FlvTagType.script) decodeFlvScriptData(t.data);
    }
  });
  oursSync(() => {
    const r = new FlvReader({ maxTagSize: 1 << 16 });
    for (let i = 0; i < bytes.length; i += 7) r.push(bytes.subarray(i, i + 7));
  });
}

function runRtp(bytes: Uint8Array): void {
  oursSync(() => {
    classifyPacket(bytes);
    const p = decodeRtpPacket(bytes);
    if (p.extension) decodeRtpExtensionElements(p.extension.profile, p.extension.data);
  });
}

function runRtcp(bytes: Uint8Array): void {
  for (const strict of [true, false]) {
    oursSync(() => {
      const packets = decodeCompound(bytes, { strict });
      validateCompound(packets);
      for (const p of packets) if (p.type === 'sr' || p.type === 'rr') for (const b of p.reports) reportBlockPlausibility(b, { rttMs: 10, packetsSent: 100 });
    });
  }
}

function runPcap(bytes: Uint8Array): void {
  oursSync(() => {
    const { records } = decodePcap(bytes);
    for (const r of records) {
      if (r.payload.buffer !== bytes.buffer) throw new Error('a pcap payload is not a view of the input');
      runRtp(r.payload);
    }
  });
}

const RUNNERS: Record<FuzzTarget, (b: Uint8Array) => Promise<void> | void> = { media: runMedia, flv: runFlv, rtp: runRtp, rtcp: runRtcp, pcap: runPcap };

/** How a case ended: `ok` (success or a KookRtpError), or the foreign error / the time-out. */
export type CaseOutcome = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly ms: number; readonly error: unknown };

/**
 * Runs one case through its parser.
 * @param timeoutMs - a case still running after this long fails (a hang is a bug).
 */
export async function runCase(c: FuzzCase, timeoutMs = 10_000): Promise<CaseOutcome> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => RUNNERS[c.target](c.bytes))(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case still running after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, ms: performance.now() - t0, error };
  } finally {
    clearTimeout(timer);
  }
}

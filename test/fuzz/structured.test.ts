/**
 * The structure-aware fuzz cases (structured.ts) inside `npm test`: every cheap systematic case (FLV, RTP, RTCP,
 * pcap), a seeded sample of the media ones, the regression cases found so far, and some random combinations. The
 * full run is `npm run fuzz -- --seed S --cases N`.
 */
import { describe, expect, it } from 'vitest';
import { boundaries, fuzzSeeds, randomCase, readField, runCase, shuffledOrder, systematicCases, writeField, type FuzzCase, type FuzzField } from './structured.js';
import { SEED } from './helpers.js';

const seeds = fuzzSeeds();
const all = systematicCases(seeds);

/** Cases that failed once (the hostile-input campaign's and the fuzz runner's finds): always run. */
const REGRESSIONS = [
  // ID3v2.3 tag with the extended-header flag, cut inside the extended header: a bare RangeError from readId3.
  'id3v2.3+mp3:cut@10',
  'id3v2.3+mp3:cut@11',
  'id3v2.3+mp3:cut@12',
  'id3v2.3+mp3:cut@13',
  // STREAMINFO or frame header disagreeing with the decoded frames: INVALID_ARGUMENT from the framer.
  'flac:block0.type=1',
  'flac:streaminfo.channels=4',
  'ogg-flac:streaminfo.channels=4',
  // A header rate or channel count no decoder can produce: INVALID_ARGUMENT from the resampler or framer.
  'ogg-vorbis:id.channels=0',
  'ogg-vorbis:id.rate=2147483647',
  'ogg-flac:streaminfo.rate=1',
  'flac:streaminfo.rate=1048575',
];

async function expectOk(cases: readonly FuzzCase[]): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    const out = await runCase(c);
    if (!out.ok) failures.push(`${c.id}: ${String((out.error as Error)?.stack ?? out.error).split('\n').slice(0, 3).join(' | ')}`);
  }
  expect(failures).toEqual([]);
}

describe('structure-aware fuzz cases', () => {
  it('every sample is valid and its fields read back what they write', async () => {
    expect(seeds.map((s) => s.format)).toEqual(expect.arrayContaining(['id3v2.3+mp3', 'id3v2.4+mp3', 'wav', 'flac', 'ogg-opus', 'ogg-vorbis', 'ogg-flac', 'webm', 'flv', 'rtp-1byte-ext', 'rtcp-compound']));
    expect(seeds.filter((s) => s.target === 'pcap').length).toBeGreaterThanOrEqual(3);
    for (const s of seeds) {
      expect(s.fields.length, s.format).toBeGreaterThan(3);
      expect(s.headers.length, s.format).toBeGreaterThan(1);
      const out = await runCase({ id: s.format, format: s.format, target: s.target, bytes: s.bytes });
      expect(out.ok, s.format).toBe(true);
      for (const f of s.fields) {
        if (f.at + f.width > s.bytes.length) continue;
        const b = s.bytes.slice();
        writeField(b, f, readField(b, f));
        expect(Buffer.from(b).equals(Buffer.from(s.bytes)), `${s.format} ${f.name}`).toBe(true);
      }
    }
  });

  it.each<{ name: string; bytes: number[]; field: FuzzField; value: bigint; after: number[] }>([
    { name: 'synchsafe', bytes: [0, 0, 0x10, 0x79], field: { name: 's', at: 0, width: 4, enc: 'synchsafe' }, value: 0x0fffffffn, after: [0x7f, 0x7f, 0x7f, 0x7f] },
    { name: 'vint of 2 bytes, unknown size', bytes: [0x40, 0x05], field: { name: 'v', at: 0, width: 2, enc: 'vint' }, value: 0x3fffn, after: [0x7f, 0xff] },
    { name: '3 bits at shift 1', bytes: [0xf1], field: { name: 'c', at: 0, width: 1, shift: 1, bits: 3 }, value: 4n, after: [0xf9] },
    { name: 'little-endian 16 bits', bytes: [0x34, 0x12], field: { name: 'l', at: 0, width: 2, le: true }, value: 0xabcdn, after: [0xcd, 0xab] },
    { name: '20 bits at shift 4 of 3 bytes', bytes: [0x0a, 0xc4, 0x42], field: { name: 'r', at: 0, width: 3, shift: 4, bits: 20 }, value: 0xfffffn, after: [0xff, 0xff, 0xf2] },
  ])('field access: $name', ({ bytes, field, value, after }) => {
    const b = Uint8Array.from(bytes);
    writeField(b, field, value);
    expect([...b]).toEqual(after);
    expect(readField(b, field)).toBe(value);
    expect(boundaries(b, field)).not.toContain(value);
  });

  it('FLV, RTP, RTCP and pcap: every systematic case', async () => {
    const cheap = all.filter((c) => c.target !== 'media');
    expect(cheap.length).toBeGreaterThan(2000);
    await expectOk(cheap);
  }, 60_000);

  it('media: the regression cases and a seeded sample of 300 systematic cases', async () => {
    const media = all.filter((c) => c.target === 'media');
    const byId = new Map(media.map((c) => [c.id, c]));
    const regressions = REGRESSIONS.map((id) => byId.get(id));
    expect(regressions.every((c) => c !== undefined)).toBe(true);
    const sample = shuffledOrder(media.length, SEED).slice(0, 300).map((i) => media[i]!);
    await expectOk([...(regressions as FuzzCase[]), ...sample]);
  }, 120_000);

  it('100 random combinations', async () => {
    await expectOk(Array.from({ length: 100 }, (_, i) => randomCase(SEED, i, seeds)));
  }, 120_000);
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KookRtpError } from '../../../src/errors.js';
import { OggDemuxer } from '../../../src/wire/ogg/demuxer.js';
import { OGG_FLAG_BOS, OGG_FLAG_EOS, decodeOggPage, encodeOggPage, oggCrc32, type OggPage } from '../../../src/wire/ogg/page.js';
import { decodeOpusHead, encodeOpusHead, type OpusHead } from '../../../src/wire/ogg/opusHead.js';
import { decodeOpusTags, encodeOpusTags } from '../../../src/wire/ogg/opusTags.js';
import { OggOpusWriter } from '../../../src/wire/ogg/opusWriter.js';
import { opusPacketSamples } from '../../../src/wire/opus/toc.js';

const fixture = (n: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../fixtures/media/${n}`, import.meta.url)));

describe('Ogg CRC', () => {
  it('matches the reference value for "123456789" (CRC-32/MPEG-2 without final inversion: 0x89a1897f)', () => {
    // Ogg's CRC is CRC-32 poly 0x04c11db7, init 0, no reflection, no xorout ("CRC-32/OGG" in some catalogues).
    expect(oggCrc32(new TextEncoder().encode('123456789'))).toBe(0x89a1897f);
  });
});

describe('Ogg page', () => {
  // The first page ffmpeg wrote for sine-opus-48k.ogg: OpusHead alone, BOS.
  const real = fixture('sine-opus-48k.ogg');

  it('decodes a real page and re-encodes it byte-identically', () => {
    const d = decodeOggPage(real)!;
    expect(d.page.headerType).toBe(OGG_FLAG_BOS);
    expect(d.page.granulePosition).toBe(0n);
    expect(d.page.sequence).toBe(0);
    expect(d.page.segments).toEqual(Uint8Array.of(19));
    expect(new TextDecoder().decode(d.page.body.subarray(0, 8))).toBe('OpusHead');
    expect(Buffer.from(encodeOggPage(d.page)).equals(Buffer.from(real.subarray(0, d.size)))).toBe(true);
  });

  it('round-trips a page with a spanning lacing table', () => {
    const page: OggPage = { headerType: 0, granulePosition: 123456789n, serial: 0xdeadbeef, sequence: 7, segments: Uint8Array.of(255, 255, 10, 0), body: new Uint8Array(520).fill(7) };
    const d = decodeOggPage(encodeOggPage(page))!;
    expect(d.page).toEqual(page);
  });

  it.each([
    { name: 'bad capture pattern', mutate: (b: Uint8Array) => (b[0] = 0x50) },
    { name: 'version 1', mutate: (b: Uint8Array) => (b[4] = 1) },
    { name: 'flipped body bit (CRC)', mutate: (b: Uint8Array) => (b[30] = b[30]! ^ 1) },
  ])('rejects $name with INVALID_PACKET', ({ mutate }) => {
    const b = real.slice(0, 47);
    mutate(b);
    expect(() => decodeOggPage(b)).toThrowError(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });

  it('returns null for a page cut short', () => {
    expect(decodeOggPage(real.subarray(0, 30))).toBeNull();
  });

  it('any byte string decodes, asks for more, or throws KookRtpError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, capture) => {
        const b = capture && bytes.length >= 4 ? Uint8Array.from([0x4f, 0x67, 0x67, 0x53, ...bytes.subarray(4)]) : bytes;
        try {
          decodeOggPage(b);
        } catch (err) {
          expect(err).toBeInstanceOf(KookRtpError);
        }
      }),
    );
  });
});

describe('OpusHead / OpusTags', () => {
  it('round-trips OpusHead, family 0 and 1', () => {
    const h0: OpusHead = { version: 1, channels: 2, preSkip: 312, inputSampleRate: 44100, outputGain: -256, mappingFamily: 0 };
    expect(decodeOpusHead(encodeOpusHead(h0))).toEqual(h0);
    const h1: OpusHead = { ...h0, channels: 3, mappingFamily: 1, mapping: { streams: 2, coupled: 1, table: Uint8Array.of(0, 2, 1) } };
    expect(decodeOpusHead(encodeOpusHead(h1))).toEqual(h1);
  });

  it('decodes the OpusHead ffmpeg wrote and re-encodes it identically', () => {
    const packet = new OggDemuxer().push(fixture('sine-opus-48k.ogg'))[0]!.data;
    const head = decodeOpusHead(packet);
    expect(head).toMatchObject({ version: 1, channels: 2, preSkip: 312, inputSampleRate: 48000, mappingFamily: 0 });
    expect(Buffer.from(encodeOpusHead(head)).equals(Buffer.from(packet))).toBe(true);
  });

  it('round-trips OpusTags and reads ffmpeg\'s', () => {
    const tags = { vendor: 'kook-rtp', comments: [['TITLE', 'Ünïcode ✓'], ['ARTIST', 'a=b']] as [string, string][] };
    expect(decodeOpusTags(encodeOpusTags(tags))).toEqual(tags);
    const packet = new OggDemuxer().push(fixture('sine-opus-48k.ogg'))[1]!.data;
    const t = decodeOpusTags(packet);
    expect(t.comments).toContainEqual(['title', 'Opus Room']);
    expect(Buffer.from(encodeOpusTags(t)).equals(Buffer.from(packet))).toBe(true);
  });

  it.each([
    ['too short', Uint8Array.from([...new TextEncoder().encode('OpusHead'), 1, 2])],
    ['major version 1', Uint8Array.from([...new TextEncoder().encode('OpusHead'), 0x10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['3 channels in family 0', Uint8Array.from([...new TextEncoder().encode('OpusHead'), 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
  ])('rejects an OpusHead that is %s', (_n, b) => {
    expect(() => decodeOpusHead(b)).toThrowError(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });
});

describe('OggDemuxer', () => {
  const file = fixture('sine-opus-60ms.ogg');

  it('yields the same packets for any chunking', () => {
    const whole = new OggDemuxer().push(file).map((p) => Buffer.from(p.data).toString('hex'));
    expect(whole.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (size) => {
        const d = new OggDemuxer();
        const got: string[] = [];
        for (let o = 0; o < file.length; o += size) for (const p of d.push(file.subarray(o, o + size))) got.push(Buffer.from(p.data).toString('hex'));
        d.end();
        expect(got).toEqual(whole);
      }),
      { numRuns: 30 },
    );
  });

  it('flags bos/eos and carries the granule on the last packet of each page', () => {
    const packets = new OggDemuxer().push(file);
    expect(packets[0]!.bos).toBe(true);
    expect(packets.at(-1)!.eos).toBe(true);
    expect(packets.at(-1)!.granulePosition).toBeGreaterThan(0n);
  });

  it('resynchronises after garbage and counts it', () => {
    const junk = new Uint8Array(1000).fill(0x4f);
    const d = new OggDemuxer();
    const a = d.push(file.subarray(0, 5000));
    const b = d.push(junk);
    const c = d.push(file.subarray(5000));
    expect(d.junkTotal).toBeGreaterThanOrEqual(1000);
    // The page the junk landed in is lost (its CRC fails); every later page comes through.
    const all = new OggDemuxer().push(file);
    const got = [...a, ...b, ...c];
    expect(got.length).toBeLessThan(all.length);
    expect(got.length).toBeGreaterThan(all.length - 20);
    expect(got.at(-1)!.eos).toBe(true);
    expect(Buffer.from(got.at(-1)!.data).equals(Buffer.from(all.at(-1)!.data))).toBe(true);
  });

  it('end() after a cut-off page throws DECODE_FAILED', () => {
    const d = new OggDemuxer();
    d.push(file.subarray(0, file.length - 100));
    expect(() => d.end()).toThrowError(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });
});

describe('OggOpusWriter', () => {
  it('writes what OggDemuxer reads back, with RFC 7845 granules', () => {
    const src = new OggDemuxer().push(fixture('sine-opus-60ms.ogg')).slice(2).map((p) => p.data);
    const w = new OggOpusWriter({ serial: 42, preSkip: 312, comments: [['TITLE', 'rec']] });
    const chunks = [w.header(), ...src.flatMap((p) => w.write(p, opusPacketSamples(p))), w.end()];
    const bytes = Buffer.concat(chunks);
    const d = new OggDemuxer();
    const back = d.push(bytes);
    d.end();
    expect(decodeOpusHead(back[0]!.data).preSkip).toBe(312);
    expect(decodeOpusTags(back[1]!.data).comments).toEqual([['TITLE', 'rec']]);
    expect(back.slice(2).map((p) => Buffer.from(p.data).toString('hex'))).toEqual(src.map((p) => Buffer.from(p).toString('hex')));
    const total = src.reduce((n, p) => n + opusPacketSamples(p), 0);
    expect(d.lastGranule).toBe(BigInt(312 + total));
    expect(back.at(-1)!.eos).toBe(true);
    // Every page has a valid CRC and the first is BOS.
    expect(decodeOggPage(bytes)!.page.headerType).toBe(OGG_FLAG_BOS);
    expect(OGG_FLAG_EOS).toBe(4);
  });
});

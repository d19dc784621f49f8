/**
 * Ogg fuzzing: OggDemuxer over random bytes and mutated real files (fixtures/media/*.ogg) in random chunkings,
 * decodeOggPage, and the OpusHead / OpusTags / Vorbis comment decoders with declared lengths far beyond the buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OggDemuxer } from '../../src/wire/ogg/demuxer.js';
import { decodeOpusHead } from '../../src/wire/ogg/opusHead.js';
import { decodeOpusTags, encodeOpusTags } from '../../src/wire/ogg/opusTags.js';
import { decodeOggPage, OGG_MAX_PAGE_SIZE } from '../../src/wire/ogg/page.js';
import { decodeVorbisComments } from '../../src/wire/ogg/vorbisComment.js';
import { fixture, mutate, mutationArb, onlyOurErrors, SEED, split, splitsArb } from './helpers.js';

/** The first 24 KiB of each file: enough pages for every header path, small enough for hundreds of runs. */
const FILES = ['sine-opus-48k.ogg', 'sine-opus-60ms.ogg', 'speech.ogg', 'sine-vorbis.ogg', 'sine-flac.oga'].map((f) => fixture(`media/${f}`).subarray(0, 24 * 1024));
const MAX_PACKET = 64 * 1024;

function demuxAll(chunks: readonly Uint8Array[]): Uint8Array[] {
  const d = new OggDemuxer({ maxPacketSize: MAX_PACKET });
  const packets: Uint8Array[] = [];
  onlyOurErrors(() => {
    for (const c of chunks) {
      for (const p of d.push(c)) packets.push(p.data);
      // Held bytes: at most one page waiting plus one packet being reassembled (plus the chunk just fed).
      expect(d.pendingBytes).toBeLessThanOrEqual(OGG_MAX_PAGE_SIZE + MAX_PACKET + OGG_MAX_PAGE_SIZE);
    }
    d.end();
  });
  return packets;
}

describe('Ogg fuzz', () => {
  it('the corpus demuxes (sanity)', () => {
    for (const f of FILES) expect(demuxAll([f]).length).toBeGreaterThanOrEqual(2);
  });

  it('OggDemuxer: random bytes in random chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), splitsArb, (bytes, cuts) => {
        demuxAll(split(bytes, cuts));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('OggDemuxer: mutated real files in random chunks; packets through OpusHead/OpusTags', () => {
    fc.assert(
      fc.property(fc.nat(FILES.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 5 }), splitsArb, (which, ms, cuts) => {
        const bytes = mutate(FILES[which]!, ms);
        const packets = demuxAll(split(bytes, cuts));
        for (const p of packets.slice(0, 3)) {
          onlyOurErrors(() => decodeOpusHead(p));
          onlyOurErrors(() => decodeOpusTags(p));
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('chunking does not change the packets of a valid file', () => {
    fc.assert(
      fc.property(fc.nat(FILES.length - 1), splitsArb, (which, cuts) => {
        const f = FILES[which]!;
        const whole = demuxAll([f]);
        const pieces = demuxAll(split(f, cuts));
        expect(pieces.map((p) => Buffer.from(p).toString('hex'))).toEqual(whole.map((p) => Buffer.from(p).toString('hex')));
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('decodeOggPage: random and mutated single pages', () => {
    const first = FILES[0]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (bytes, ms) => {
        onlyOurErrors(() => decodeOggPage(bytes));
        onlyOurErrors(() => decodeOggPage(mutate(first, ms)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('OpusHead / OpusTags / Vorbis comments fuzz', () => {
  const head = Uint8Array.from([...Buffer.from('OpusHead'), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]);
  const tags = encodeOpusTags({ vendor: 'kook-rtp', comments: [['TITLE', 'x'], ['ARTIST', 'y']] });

  it('random and mutated packets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat(16), (bytes, ms, offset) => {
        onlyOurErrors(() => decodeOpusHead(bytes));
        onlyOurErrors(() => decodeOpusHead(mutate(head, ms)));
        onlyOurErrors(() => decodeOpusTags(mutate(tags, ms)));
        onlyOurErrors(() => decodeVorbisComments(bytes, offset));
        onlyOurErrors(() => decodeOpusTags(Uint8Array.from([...Buffer.from('OpusTags'), ...bytes])));
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('declared lengths and counts far beyond the buffer fail fast', () => {
    const le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
    const magic = [...Buffer.from('OpusTags')];
    const cases = [
      [...magic, ...le(0xffffffff)], // vendor length 4 GiB
      [...magic, ...le(0), ...le(0xffffffff)], // 4 billion comments, none present
      [...magic, ...le(0), ...le(2), ...le(0x7fffffff), 0x41], // a comment claiming 2 GiB
    ];
    for (const c of cases) expect(onlyOurErrors(() => decodeOpusTags(Uint8Array.from(c)))?.code).toBe('INVALID_PACKET');
    // An offset past the end is a short packet, not a RangeError from DataView.
    expect(onlyOurErrors(() => decodeVorbisComments(new Uint8Array(2), 9))?.code).toBe('INVALID_PACKET');
    // A channel mapping table declared for 255 channels in a 21-byte packet.
    const h = head.slice();
    h[9] = 255;
    h[18] = 1;
    expect(onlyOurErrors(() => decodeOpusHead(h))?.code).toBe('INVALID_PACKET');
  });
});

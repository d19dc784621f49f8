/**
 * FLV fuzzing: random bytes and mutated valid streams (header, onMetaData, MP3 audio tags) through decodeFlv and
 * FlvReader in random chunk splits, the single-structure decoders, AMF0 with hostile lengths, and the MP3 splitter.
 * Rule: parse, or throw KookRtpError; never another error, never an unbounded buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFlvScriptData, encodeFlvScriptData } from '../../src/wire/flv/amf0.js';
import { decodeFlvAudioData, encodeFlvAudioData, FlvSoundFormat, FlvSoundRate } from '../../src/wire/flv/audio.js';
import { decodeFlvHeader, encodeFlvHeader } from '../../src/wire/flv/header.js';
import { decodeMp3FrameHeader, Mp3FrameSplitter } from '../../src/wire/flv/mp3.js';
import { decodeFlv, FlvReader } from '../../src/wire/flv/reader.js';
import { decodeFlvTag, encodeFlvTag, FlvTagType } from '../../src/wire/flv/tag.js';
import { fixture, mutate, mutationArb, onlyOurErrors, SEED, split, splitsArb } from './helpers.js';

const MP3 = fixture('media/steps.mp3');
const FRAMES = new Mp3FrameSplitter().push(MP3).slice(0, 24);

/** A valid HTTP-FLV stream as the tap writes it: header, onMetaData, one MP3 frame per audio tag. */
const VALID = (() => {
  const parts: Uint8Array[] = [encodeFlvHeader({ hasAudio: true, hasVideo: false })];
  parts.push(encodeFlvTag({ type: FlvTagType.script, timestamp: 0, data: encodeFlvScriptData({ name: 'onMetaData', properties: { duration: 0, audiocodecid: 2, stereo: true, encoder: 'kook-rtp' } }) }));
  FRAMES.forEach((f, i) => {
    const data = encodeFlvAudioData({ soundFormat: FlvSoundFormat.mp3, soundRate: FlvSoundRate.rate44100, is16Bit: true, stereo: true, payload: f });
    parts.push(encodeFlvTag({ type: FlvTagType.audio, timestamp: i * 26, data }));
  });
  return new Uint8Array(Buffer.concat(parts));
})();

const MAX_TAG = 4096;
const bytesArb = fc.uint8Array({ maxLength: 2048 });

/** Feeds chunks to a fresh reader; checks the buffer bound after every push; stops at the first (our) error. */
function feed(chunks: readonly Uint8Array[]): void {
  const r = new FlvReader({ maxTagSize: MAX_TAG });
  onlyOurErrors(() => {
    for (const c of chunks) {
      for (const t of r.push(c)) expect(t.data.length).toBeLessThanOrEqual(MAX_TAG);
      // Never more than one tag's worth pending (11-byte header + body + PreviousTagSize), or a 1 KiB header area.
      expect(r.pendingBytes).toBeLessThanOrEqual(Math.max(1024 + 4, 11 + MAX_TAG + 4) + c.length);
    }
  });
}

describe('FLV fuzz', () => {
  it('the valid stream decodes (sanity of the corpus)', () => {
    const { tags, trailingBytes } = decodeFlv(VALID);
    expect(FRAMES.length).toBeGreaterThan(10);
    expect(tags.length).toBe(FRAMES.length + 1);
    expect(trailingBytes).toBe(0);
  });

  it('decodeFlv and FlvReader: random bytes, any chunking', () => {
    fc.assert(
      fc.property(bytesArb, splitsArb, (bytes, cuts) => {
        onlyOurErrors(() => decodeFlv(bytes, { maxTagSize: MAX_TAG }));
        feed(split(bytes, cuts));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('random bytes after a valid header', () => {
    fc.assert(
      fc.property(bytesArb, splitsArb, (bytes, cuts) => {
        const all = new Uint8Array(Buffer.concat([encodeFlvHeader({ hasAudio: true, hasVideo: false }), bytes]));
        onlyOurErrors(() => decodeFlv(all, { maxTagSize: MAX_TAG }));
        feed(split(all, cuts));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('mutated valid streams, in random chunk splits, and every tag body through the body decoders', () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), splitsArb, (ms, cuts) => {
        const bytes = mutate(VALID, ms);
        const err = onlyOurErrors(() => {
          const tags = new FlvReader({ maxTagSize: MAX_TAG }).push(bytes);
          for (const t of tags) {
            if (t.type === FlvTagType.script) onlyOurErrors(() => decodeFlvScriptData(t.data));
            if (t.type === FlvTagType.audio) onlyOurErrors(() => decodeFlvAudioData(t.data));
          }
        });
        // Chunking never changes the outcome's kind: whole and split feeds fail (or not) alike.
        const r = new FlvReader({ maxTagSize: MAX_TAG });
        let tags = 0;
        const splitErr = onlyOurErrors(() => {
          for (const c of split(bytes, cuts)) tags += r.push(c).length;
        });
        expect(splitErr?.code).toBe(err?.code);
        if (err === undefined) expect(tags).toBe(new FlvReader({ maxTagSize: MAX_TAG }).push(bytes).length);
        onlyOurErrors(() => decodeFlv(bytes, { maxTagSize: MAX_TAG }));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a huge DataSize is refused before buffering, whatever the limit', () => {
    const head = encodeFlvHeader({ hasAudio: true, hasVideo: false });
    const tag = Uint8Array.of(8, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0);
    const r = new FlvReader();
    expect(() => r.push(new Uint8Array(Buffer.concat([head, tag])))).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
    // A DataOffset pointing gigabytes away is refused too, not waited for.
    const far = head.slice();
    new DataView(far.buffer).setUint32(5, 0xfffffff0);
    expect(() => new FlvReader().push(far)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });

  it('decodeFlvHeader and decodeFlvTag: random and mutated bytes', () => {
    const tag = encodeFlvTag({ type: 8, timestamp: 0x12345678, data: Uint8Array.of(0x2f, 1, 2, 3) });
    fc.assert(
      fc.property(bytesArb, fc.array(mutationArb, { maxLength: 3 }), (bytes, ms) => {
        onlyOurErrors(() => decodeFlvHeader(bytes));
        onlyOurErrors(() => decodeFlvTag(bytes));
        onlyOurErrors(() => decodeFlvHeader(mutate(VALID.subarray(0, 13), ms)));
        onlyOurErrors(() => decodeFlvTag(mutate(tag, ms)));
        onlyOurErrors(() => decodeFlvAudioData(bytes));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('AMF0 (decodeFlvScriptData) fuzz', () => {
  const meta = encodeFlvScriptData({ name: 'onMetaData', properties: { a: 1, b: true, c: 'x'.repeat(40), d: -0.5 } });

  it('random and mutated bodies', () => {
    fc.assert(
      fc.property(bytesArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (bytes, ms) => {
        onlyOurErrors(() => decodeFlvScriptData(bytes));
        onlyOurErrors(() => decodeFlvScriptData(mutate(meta, ms)));
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('deep nesting, huge counts and huge string lengths fail fast without allocating', () => {
    // 100 000 nested object markers: there is no recursion to exhaust, nested objects are simply unsupported.
    const nested = new Uint8Array(3 + 10 + 100_000 * 4);
    nested.set([2, 0, 10, ...Buffer.from('onMetaData'), 3]);
    for (let i = 14; i + 3 < nested.length; i += 4) nested.set([0, 1, 0x61, 3], i);
    expect(onlyOurErrors(() => decodeFlvScriptData(nested))?.code).toBe('UNSUPPORTED_FORMAT');
    // ECMA array claiming 4 billion entries, then a key claiming 65535 bytes.
    const huge = Uint8Array.of(2, 0, 1, 0x6d, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x61);
    expect(onlyOurErrors(() => decodeFlvScriptData(huge))?.code).toBe('PACKET_TOO_SHORT');
    // A 4-billion count followed by a proper end marker is fine: the count is advisory.
    expect(decodeFlvScriptData(Uint8Array.of(2, 0, 1, 0x6d, 8, 0xff, 0xff, 0xff, 0xff, 0, 0, 9))).toEqual({ name: 'm', properties: {} });
  });

  it('keys such as __proto__ and constructor are kept as data, never touch the prototype', () => {
    const s = encodeFlvScriptData({ name: 'onMetaData', properties: JSON.parse('{"__proto__": 5, "constructor": "x", "toString": true}') as Record<string, number | string | boolean> });
    const d = decodeFlvScriptData(s);
    expect(Object.keys(d.properties).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(d.properties, '__proto__')?.value).toBe(5);
    expect(({} as Record<string, unknown>)['toString']).toBe(Object.prototype.toString);
  });
});

describe('Mp3FrameSplitter fuzz', () => {
  it('random and mutated MP3 bytes in random chunks: only whole frames out, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }).map((ms) => mutate(MP3.subarray(0, 8192), ms))), splitsArb, (bytes, cuts) => {
        const s = new Mp3FrameSplitter();
        let out = 0;
        for (const c of split(bytes, cuts)) {
          for (const f of s.push(c)) {
            const h = decodeMp3FrameHeader(f);
            expect(h?.frameLength).toBe(f.length);
            out += f.length;
          }
        }
        expect(out + s.skippedBytes).toBeLessThanOrEqual(bytes.length);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('garbage that never holds a frame is skipped, not buffered', () => {
    const s = new Mp3FrameSplitter();
    for (let i = 0; i < 64; i++) s.push(new Uint8Array(16_384).fill(0x55));
    expect(s.skippedBytes).toBeGreaterThan(64 * 16_384 - 4);
  });
});

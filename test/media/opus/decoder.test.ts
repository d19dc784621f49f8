import { describe, expect, it } from 'vitest';
import { createOpusDecoder } from '../../../src/media/opus/decoder.js';
import { createOpusEncoder } from '../../../src/media/opus/encoder.js';

describe('createOpusDecoder', () => {
  it('auto picks native, and each decode returns a fresh array the caller may keep', () => {
    const enc = createOpusEncoder({ bitrate: 64_000 });
    const dec = createOpusDecoder();
    expect(dec.backend).toBe('native');
    const loud = new Int16Array(1920).map((_, i) => Math.round(20_000 * Math.sin((2 * Math.PI * 440 * (i >> 1)) / 48_000)));
    const a = dec.decode(enc.encode(loud));
    const aCopy = a.slice();
    const b = dec.decode(enc.encode(new Int16Array(1920)));
    expect(b).not.toBe(a);
    expect(a).toEqual(aCopy); // not overwritten by the second decode
    expect(a.length).toBe(1920);
    enc.close();
    dec.close();
    dec.close(); // idempotent
    expect(() => dec.decode(Uint8Array.of(0xf8, 0xff, 0xfe))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });
});

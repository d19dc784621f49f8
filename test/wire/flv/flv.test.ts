import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKookRtpError, KookRtpError } from '../../../src/errors.js';
import { decodeFlvScriptData, encodeFlvScriptData } from '../../../src/wire/flv/amf0.js';
import { decodeFlvAudioData, encodeFlvAudioData, FlvSoundFormat, FlvSoundRate } from '../../../src/wire/flv/audio.js';
import { decodeFlvHeader, encodeFlvHeader } from '../../../src/wire/flv/header.js';
import { decodeMp3FrameHeader, Mp3FrameSplitter } from '../../../src/wire/flv/mp3.js';
import { decodeFlv, FlvReader } from '../../../src/wire/flv/reader.js';
import { decodeFlvTag, encodeFlvTag, FlvTagType } from '../../../src/wire/flv/tag.js';

const bytes = (...words: number[]): Uint8Array => {
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0));
  return out;
};

describe('FLV header', () => {
  it('encodes the audio-only header and PreviousTagSize0', () => {
    expect([...encodeFlvHeader({ hasAudio: true, hasVideo: false })]).toEqual([
      0x46, 0x4c, 0x56, 0x01, // "FLV", version 1
      0x04, 0x00, 0x00, 0x00, // flags: audio; DataOffset high bytes
      0x09, 0x00, 0x00, 0x00, // DataOffset = 9; PreviousTagSize0
      0x00,
    ]);
  });

  it('round-trips', () => {
    for (const h of [{ hasAudio: true, hasVideo: false }, { hasAudio: true, hasVideo: true }, { hasAudio: false, hasVideo: true }]) {
      expect(decodeFlvHeader(encodeFlvHeader(h))).toEqual({ version: 1, dataOffset: 9, ...h });
    }
  });

  it.each([
    { name: 'too short', input: Uint8Array.of(0x46, 0x4c, 0x56), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'bad signature', input: bytes(0x464c5801, 0x04000000, 0x09000000), errorCode: 'INVALID_PACKET' },
    { name: 'version 2', input: bytes(0x464c5602, 0x04000000, 0x09000000), errorCode: 'INVALID_VERSION' },
    { name: 'DataOffset 8', input: bytes(0x464c5601, 0x04000000, 0x08000000), errorCode: 'INVALID_PACKET' },
  ])('rejects $name', ({ input, errorCode }) => {
    expect(() => decodeFlvHeader(input)).toThrow(expect.objectContaining({ code: errorCode }));
  });
});

describe('FLV tag', () => {
  it('encodes an audio tag with an extended timestamp', () => {
    const t = encodeFlvTag({ type: FlvTagType.audio, timestamp: 0x01020304, data: Uint8Array.of(0x2e, 0xaa) });
    expect([...t]).toEqual([
      0x08, 0x00, 0x00, 0x02, // type 8, DataSize 2
      0x02, 0x03, 0x04, 0x01, // Timestamp low 24 bits, TimestampExtended
      0x00, 0x00, 0x00, // StreamID
      0x2e, 0xaa, // body
      0x00, 0x00, 0x00, 0x0d, // PreviousTagSize = 11 + 2
    ]);
    const { tag, size } = decodeFlvTag(t);
    expect(size).toBe(t.length);
    expect(tag.timestamp).toBe(0x01020304);
    expect([...tag.data]).toEqual([0x2e, 0xaa]);
  });

  it.each([
    { name: 'truncated body', input: encodeFlvTag({ type: 8, timestamp: 0, data: new Uint8Array(4) }).subarray(0, 16), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'wrong PreviousTagSize', input: Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12), errorCode: 'INVALID_PACKET' },
    { name: 'non-zero StreamID', input: Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 11), errorCode: 'INVALID_PACKET' },
  ])('rejects $name', ({ input, errorCode }) => {
    expect(() => decodeFlvTag(input)).toThrow(expect.objectContaining({ code: errorCode }));
  });

  it('encode(decode(b)) equals b for any tag', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 9, 18), fc.nat(), fc.uint8Array({ maxLength: 300 }), (type, ts, data) => {
        const b = encodeFlvTag({ type, timestamp: ts >>> 0, data });
        expect(encodeFlvTag(decodeFlvTag(b).tag)).toEqual(b);
      }),
    );
  });
});

describe('FLV audio data', () => {
  it('writes MP3 48 kHz mono as ffmpeg does (SoundRate 44 kHz, 16-bit)', () => {
    const body = encodeFlvAudioData({ soundFormat: FlvSoundFormat.mp3, soundRate: FlvSoundRate.rate44100, is16Bit: true, stereo: false, payload: Uint8Array.of(0xff, 0xfb) });
    expect(body[0]).toBe(0x2e); // 0010 11 1 0
    expect(decodeFlvAudioData(body)).toEqual({ soundFormat: 2, soundRate: 3, is16Bit: true, stereo: false, payload: Uint8Array.of(0xff, 0xfb) });
  });

  it('carries the AACPacketType for AAC', () => {
    const body = encodeFlvAudioData({ soundFormat: FlvSoundFormat.aac, soundRate: 3, is16Bit: true, stereo: true, aacPacketType: 0, payload: Uint8Array.of(0x11, 0x90) });
    expect([...body]).toEqual([0xaf, 0x00, 0x11, 0x90]);
    expect(decodeFlvAudioData(body).aacPacketType).toBe(0);
  });

  it('rejects empty bodies and bad fields', () => {
    expect(() => decodeFlvAudioData(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'PACKET_TOO_SHORT' }));
    expect(() => decodeFlvAudioData(Uint8Array.of(0xaf))).toThrow(expect.objectContaining({ code: 'PACKET_TOO_SHORT' }));
    expect(() => encodeFlvAudioData({ soundFormat: 16, soundRate: 0, is16Bit: true, stereo: false, payload: new Uint8Array(0) })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('AMF0 onMetaData', () => {
  it('round-trips numbers, booleans and strings', () => {
    const s = { name: 'onMetaData', properties: { audiocodecid: 2, audiosamplerate: 48000, stereo: false, encoder: 'kook-rtp' } };
    expect(decodeFlvScriptData(encodeFlvScriptData(s))).toEqual(s);
  });

  it('rejects truncated data with our error', () => {
    const b = encodeFlvScriptData({ name: 'onMetaData', properties: { a: 1 } });
    for (let n = 0; n < b.length; n++) {
      expect(() => decodeFlvScriptData(b.subarray(0, n))).toThrow(KookRtpError);
    }
  });
});

describe('MP3 frame header', () => {
  it('decodes a 48 kHz 64 kbit/s mono MPEG-1 Layer III header', () => {
    // FF FB: sync, MPEG-1, Layer III, no CRC; 0x54: bitrate 5 (64k), rate 1 (48k), no padding; 0xC4: mono
    expect(decodeMp3FrameHeader(Uint8Array.of(0xff, 0xfb, 0x54, 0xc4))).toEqual({
      version: 1, layer: 3, bitrateKbps: 64, sampleRate: 48000, channels: 1, samplesPerFrame: 1152, frameLength: 192,
    });
  });

  it('refuses free format, bad rates and non-sync bytes', () => {
    expect(decodeMp3FrameHeader(Uint8Array.of(0xff, 0xfb, 0x04, 0xc4))).toBeUndefined();
    expect(decodeMp3FrameHeader(Uint8Array.of(0xff, 0xfb, 0x5c, 0xc4))).toBeUndefined();
    expect(decodeMp3FrameHeader(Uint8Array.of(0x00, 0xfb, 0x54, 0xc4))).toBeUndefined();
  });

  it('splits a stream cut anywhere into whole frames, skipping garbage', () => {
    const frame = new Uint8Array(192);
    frame.set([0xff, 0xfb, 0x54, 0xc4]);
    const stream = new Uint8Array(3 + 192 * 3);
    stream.set([1, 2, 3]);
    for (let i = 0; i < 3; i++) stream.set(frame, 3 + i * 192);
    const s = new Mp3FrameSplitter();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 50) out.push(...s.push(stream.subarray(i, i + 50)));
    expect(out.length).toBe(3);
    expect(s.push(Uint8Array.of(0xff, 0xfb))).toEqual([]); // half a header waits for more bytes
    expect(out.every((f) => f.length === 192 && f[0] === 0xff)).toBe(true);
    expect(s.skippedBytes).toBe(3);
  });
});

describe('FlvReader', () => {
  const file = (): Uint8Array => {
    const parts = [
      encodeFlvHeader({ hasAudio: true, hasVideo: false }),
      encodeFlvTag({ type: 18, timestamp: 0, data: encodeFlvScriptData({ name: 'onMetaData', properties: { audiocodecid: 2 } }) }),
      encodeFlvTag({ type: 8, timestamp: 0, data: Uint8Array.of(0x2e, 1, 2, 3) }),
      encodeFlvTag({ type: 8, timestamp: 24, data: Uint8Array.of(0x2e, 4, 5, 6) }),
    ];
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };

  it('gives the same tags whether fed at once or byte by byte', () => {
    const f = file();
    const whole = decodeFlv(f);
    expect(whole.header.hasAudio).toBe(true);
    expect(whole.tags.map((t) => [t.type, t.timestamp])).toEqual([[18, 0], [8, 0], [8, 24]]);
    const r = new FlvReader();
    const tags = [];
    for (const b of f) tags.push(...r.push(Uint8Array.of(b)));
    expect(tags).toEqual(whole.tags);
    expect(r.pendingBytes).toBe(0);
  });

  it('refuses a hostile DataSize instead of buffering it', () => {
    const r = new FlvReader({ maxTagSize: 1000 });
    r.push(encodeFlvHeader({ hasAudio: true, hasVideo: false }));
    expect(() => r.push(Uint8Array.of(8, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0))).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });

  it('any byte string decodes or throws KookRtpError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (junk, withHeader) => {
        const input = withHeader ? new Uint8Array([...encodeFlvHeader({ hasAudio: true, hasVideo: false }), ...junk]) : junk;
        try {
          new FlvReader().push(input);
        } catch (e) {
          expect(isKookRtpError(e)).toBe(true);
        }
        try {
          decodeFlvScriptData(junk);
        } catch (e) {
          expect(isKookRtpError(e)).toBe(true);
        }
        try {
          decodeFlvAudioData(junk);
        } catch (e) {
          expect(isKookRtpError(e)).toBe(true);
        }
      }),
    );
  });
});

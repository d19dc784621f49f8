import { describe, expect, it } from 'vitest';
import { classifyPacket, isRtcp } from '../../src/wire/demux.js';

describe('classifyPacket (RFC 5761 §4)', () => {
  it.each([
    { name: 'RTP, PT 111, no marker', bytes: [0x80, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], expected: 'rtp' },
    { name: 'RTP, PT 97 with marker (0xe1)', bytes: [0x80, 0xe1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], expected: 'rtp' },
    { name: 'RTP, PT 127 with marker (0xff)', bytes: [0x80, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], expected: 'rtp' },
    { name: 'RTP, PT 63 with marker (0xbf, just below RTCP)', bytes: [0x80, 0xbf, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], expected: 'rtp' },
    { name: 'RTCP SR (200)', bytes: [0x80, 0xc8, 0, 6, 0, 0, 0, 1], expected: 'rtcp' },
    { name: 'RTCP RR (201) with one block flag', bytes: [0x81, 0xc9, 0, 7, 0, 0, 0, 1], expected: 'rtcp' },
    { name: 'RTCP BYE with no sources (4 bytes)', bytes: [0x80, 0xcb, 0, 0], expected: 'rtcp' },
    { name: 'type 192 (lowest RTCP)', bytes: [0x80, 0xc0, 0, 0], expected: 'rtcp' },
    { name: 'type 223 (highest RTCP)', bytes: [0x80, 0xdf, 0, 0], expected: 'rtcp' },
    { name: 'type 224 is RTP PT 96 with marker', bytes: [0x80, 0xe0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], expected: 'rtp' },
    { name: 'empty', bytes: [], expected: 'unknown' },
    { name: 'one byte', bytes: [0x80], expected: 'unknown' },
    { name: 'RTCP header cut to 3 bytes', bytes: [0x80, 0xc8, 0], expected: 'unknown' },
    { name: 'RTP cut to 11 bytes', bytes: [0x80, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0], expected: 'unknown' },
    { name: 'STUN (version 0)', bytes: [0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0], expected: 'unknown' },
    { name: 'DTLS handshake (first byte 22)', bytes: [0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0], expected: 'unknown' },
    { name: 'version 3', bytes: [0xc0, 0xc8, 0, 6, 0, 0, 0, 1], expected: 'unknown' },
  ])('$name -> $expected', ({ bytes, expected }) => {
    expect(classifyPacket(Uint8Array.from(bytes))).toBe(expected);
  });

  it.each([
    [[0x80, 191], false],
    [[0x80, 192], true],
    [[0x80, 223], true],
    [[0x80, 224], false],
    [[0x80], false],
    [[], false],
  ])('isRtcp(%j) = %s', (bytes, expected) => {
    expect(isRtcp(Uint8Array.from(bytes))).toBe(expected);
  });
});

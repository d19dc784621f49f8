import { describe, expect, it } from 'vitest';
import { countRtcp, emptyRtcpCounts, isMuxedRtcp, parseGnuTime, parseRtp } from '../../bench/lib/packets.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('parseRtp', () => {
  it.each([
    {
      name: 'ffmpeg Opus packet (marker set, PT 97)',
      bytes: hex(`
        80e10684 // V=2 P=0 X=0 CC=0, M=1 PT=97, seq 0x0684
        1dc8d7cf // timestamp
        3324e723 // SSRC
        fcb4065a // Opus payload (4 bytes)
      `.replace(/\/\/.*$/gm, '')),
      expected: { marker: true, payloadType: 97, sequenceNumber: 0x0684, timestamp: 0x1dc8d7cf, ssrc: 0x3324e723, headerLength: 12, payloadLength: 4 },
    },
    {
      name: 'one CSRC, a one-word extension and 2 bytes of padding',
      bytes: hex(`
        b16f0001 // V=2 P=1 X=1 CC=1, M=0 PT=111, seq 1
        000003c0 // timestamp 960
        00000457 // SSRC 1111
        00000001 // CSRC
        bede0001 // extension profile, length 1 word
        10900000 // extension data
        aabbcc00 // payload aa bb cc, then padding 00 ...
        02       // ... padding count 2 (pads: 00 02)
      `.replace(/\/\/.*$/gm, '')),
      expected: { marker: false, payloadType: 111, sequenceNumber: 1, timestamp: 960, ssrc: 1111, headerLength: 24, payloadLength: 3 },
    },
  ])('$name', ({ bytes, expected }) => {
    expect(parseRtp(bytes)).toEqual(expected);
  });

  it.each([
    { name: 'too short', bytes: hex('80e10684 1dc8d7cf 3324e7') },
    { name: 'version 1', bytes: hex('40e10684 1dc8d7cf 3324e723') },
    { name: 'CSRC count past the end', bytes: hex('8fe10684 1dc8d7cf 3324e723') },
    { name: 'padding longer than the packet', bytes: hex('a0e10684 1dc8d7cf 3324e723 000000ff') },
  ])('rejects $name', ({ bytes }) => {
    expect(parseRtp(bytes)).toBeUndefined();
  });
});

describe('countRtcp', () => {
  it.each([
    {
      name: "ffmpeg's bare SR (fixtures/rtcp/ffmpeg-sr.json)",
      bytes: hex('80c800069bd16b3ceeaeffba153f7cedc2c97b51000000fa0000903c'),
      expected: { datagrams: 1, muxed: 0, sr: 1, rr: 0, sdes: 0, bye: 0, app: 0, other: 0, malformed: 0 },
    },
    {
      name: 'SR + SDES + BYE compound',
      bytes: hex(`
        80c80006 00000457 00000000 00000000 00000000 00000000 00000000
        81ca0003 00000457 01046b6f 6f6b0000
        81cb0001 00000457
      `),
      expected: { datagrams: 1, muxed: 0, sr: 1, rr: 0, sdes: 1, bye: 1, app: 0, other: 0, malformed: 0 },
    },
    {
      name: 'RR then an XR',
      bytes: hex('80c90001 00000457 80cf0001 00000457'),
      expected: { datagrams: 1, muxed: 0, sr: 0, rr: 1, sdes: 0, bye: 0, app: 0, other: 1, malformed: 0 },
    },
    {
      name: 'length past the end: malformed, earlier packets still count',
      bytes: hex('80c90001 00000457 81cb0005 00000457'),
      expected: { datagrams: 1, muxed: 0, sr: 0, rr: 1, sdes: 0, bye: 0, app: 0, other: 0, malformed: 1 },
    },
    { name: 'three bytes', bytes: hex('80c800'), expected: { datagrams: 1, muxed: 0, sr: 0, rr: 0, sdes: 0, bye: 0, app: 0, other: 0, malformed: 1 } },
  ])('$name', ({ bytes, expected }) => {
    expect(countRtcp(bytes, emptyRtcpCounts())).toEqual(expected);
  });

  it('accumulates across datagrams', () => {
    const counts = emptyRtcpCounts();
    countRtcp(hex('80c90001 00000457'), counts);
    countRtcp(hex('81cb0001 00000457'), counts);
    expect(counts).toMatchObject({ datagrams: 2, rr: 1, bye: 1 });
  });
});

describe('parseGnuTime', () => {
  it.each([
    {
      name: 'clean exit',
      text: 'KOOKBENCH elapsed=15.07 user=0.31 sys=0.03 maxrss=57652 exit=0\n',
      expected: { elapsedSeconds: 15.07, userSeconds: 0.31, systemSeconds: 0.03, maxRssKiB: 57652, exitStatus: 0 },
    },
    {
      name: 'killed by SIGTERM',
      text: 'Command terminated by signal 15\nKOOKBENCH elapsed=3.00 user=0.10 sys=0.01 maxrss=1000 exit=0\n',
      expected: { elapsedSeconds: 3, userSeconds: 0.1, systemSeconds: 0.01, maxRssKiB: 1000, exitStatus: 143 },
    },
    {
      name: 'non-zero exit after other stderr',
      text: 'Command exited with non-zero status 1\nKOOKBENCH elapsed=0.20 user=0.15 sys=0.02 maxrss=40000 exit=1\n',
      expected: { elapsedSeconds: 0.2, userSeconds: 0.15, systemSeconds: 0.02, maxRssKiB: 40000, exitStatus: 1 },
    },
  ])('$name', ({ text, expected }) => {
    expect(parseGnuTime(text)).toEqual(expected);
  });

  it('returns undefined without the tagged line', () => {
    expect(parseGnuTime('')).toBeUndefined();
  });
});

describe('isMuxedRtcp (RFC 5761 §4)', () => {
  it.each([
    { name: 'SR', bytes: hex('80c80006'), expected: true },
    { name: 'RR', bytes: hex('80c90001'), expected: true },
    { name: 'PT 223 edge', bytes: hex('80df0001'), expected: true },
    { name: 'RTP PT 111 with marker (0xef)', bytes: hex('80ef0001'), expected: false },
    { name: 'RTP PT 97 with marker (0xe1)', bytes: hex('80e10684'), expected: false },
    { name: 'RTP PT 111 (0x6f)', bytes: hex('806f0001'), expected: false },
    { name: 'too short', bytes: hex('80c8'), expected: false },
  ])('$name', ({ bytes, expected }) => {
    expect(isMuxedRtcp(bytes)).toBe(expected);
  });
});

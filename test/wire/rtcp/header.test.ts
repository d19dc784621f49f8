import { describe, expect, it } from 'vitest';
import {
  decodeRtcpHeader,
  encodeRtcpHeaderInto,
  openRtcpPacket,
  RTCP_APP,
  RTCP_BYE,
  RTCP_RR,
  RTCP_SDES,
  RTCP_SR,
} from '../../../src/wire/rtcp/header.js';
import { classifyPacket } from '../../../src/wire/demux.js';
import type { ErrorCode } from '../../../src/errors.js';
import { expectCode, words } from './helpers.js';

describe('RTCP header', () => {
  it('has the RFC 3550 packet type numbers', () => {
    expect([RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP]).toEqual([200, 201, 202, 203, 204]);
  });

  it.each([
    {
      name: 'SR, no padding',
      bytes: words('81c8000c'), // V=2 P=0 RC=1 | PT=200 | length=12
      offset: 0,
      expected: { padding: false, count: 1, packetType: 200, length: 12 },
    },
    {
      name: 'padded APP with subtype 31 and the largest length',
      bytes: words('bfccffff'), // V=2 P=1 subtype=31 | PT=204 | length=65535
      offset: 0,
      expected: { padding: true, count: 31, packetType: 204, length: 65535 },
    },
    {
      name: 'at an offset',
      bytes: words(
        '00000000', // unrelated word
        '80ca0002', // V=2 P=0 SC=0 | PT=202 | length=2
      ),
      offset: 4,
      expected: { padding: false, count: 0, packetType: 202, length: 2 },
    },
  ])('decodes $name', ({ bytes, offset, expected }) => {
    expect(decodeRtcpHeader(bytes, offset)).toEqual(expected);
    const out = new Uint8Array(4);
    expect(encodeRtcpHeaderInto(expected, out)).toBe(4);
    expect(out).toEqual(bytes.subarray(offset, offset + 4));
  });

  it.each<{ name: string; bytes: Uint8Array; offset: number; errorCode: ErrorCode }>([
    { name: 'three bytes', bytes: words('80c800'), offset: 0, errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a header past the end', bytes: words('80c80000'), offset: 2, errorCode: 'PACKET_TOO_SHORT' },
    { name: 'version 1', bytes: words('40c80006'), offset: 0, errorCode: 'INVALID_VERSION' },
    { name: 'version 3', bytes: words('c0c80006'), offset: 0, errorCode: 'INVALID_VERSION' },
    { name: 'a negative offset', bytes: words('80c80006'), offset: -1, errorCode: 'INVALID_ARGUMENT' },
  ])('rejects $name', ({ bytes, offset, errorCode }) => {
    expectCode(() => decodeRtcpHeader(bytes, offset), errorCode);
  });

  it('rejects out-of-range header fields and a short buffer when encoding', () => {
    const h = { padding: false, count: 0, packetType: 200, length: 0 };
    expectCode(() => encodeRtcpHeaderInto({ ...h, count: 32 }, new Uint8Array(4)), 'INVALID_ARGUMENT');
    expectCode(() => encodeRtcpHeaderInto({ ...h, packetType: 256 }, new Uint8Array(4)), 'INVALID_ARGUMENT');
    expectCode(() => encodeRtcpHeaderInto({ ...h, length: 0x10000 }, new Uint8Array(4)), 'INVALID_ARGUMENT');
    expectCode(() => encodeRtcpHeaderInto(h, new Uint8Array(3)), 'BUFFER_TOO_SMALL');
  });

  it.each([
    { name: 'an SR', bytes: words('80c80006'), expected: true },
    { name: 'an RTPFB (205)', bytes: words('81cd0002'), expected: true },
    { name: 'RTP with PT 111', bytes: words('806f0001'), expected: false },
    { name: 'RTP with PT 111 and the marker bit', bytes: words('80ef0001'), expected: false },
    { name: 'two bytes', bytes: words('80c8'), expected: false },
  ])('classifyPacket tells $name apart (RFC 5761 §4)', ({ bytes, expected }) => {
    expect(classifyPacket(bytes) === 'rtcp').toBe(expected);
  });

  describe('openRtcpPacket', () => {
    it('strips padding counted by the last octet', () => {
      const opened = openRtcpPacket(
        words(
          'a0cb0002', // V=2 P=1 SC=0 | PT=203 | length=2
          '00000000', // padding
          '00000008', // padding, last octet = 8 padding octets
        ),
        RTCP_BYE,
        'BYE',
      );
      expect(opened.end).toBe(4);
    });

    it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
      { name: 'another packet type', bytes: words('80c90001', '00000000'), errorCode: 'INVALID_RTCP' },
      { name: 'a length past the end', bytes: words('80cb0002', '00000000'), errorCode: 'PACKET_TOO_SHORT' },
      { name: 'bytes past the length', bytes: words('80cb0000', '00000000'), errorCode: 'INVALID_RTCP' },
      { name: 'a padding count of 0', bytes: words('a0cb0001', '00000000'), errorCode: 'INVALID_RTCP' },
      { name: 'padding eating the header', bytes: words('a0cb0001', '00000005'), errorCode: 'INVALID_RTCP' },
    ])('rejects $name', ({ bytes, errorCode }) => {
      expectCode(() => openRtcpPacket(bytes, RTCP_BYE, 'BYE'), errorCode);
    });
  });
});

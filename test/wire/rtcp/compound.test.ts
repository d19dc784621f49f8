import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import {
  decodeCompound,
  encodeCompound,
  hasCname,
  validateCompound,
  type RtcpPacket,
} from '../../../src/wire/rtcp/compound.js';
import { decodeSenderReport } from '../../../src/wire/rtcp/senderReport.js';
import { expectCode, words } from './helpers.js';

const RR = [
  '80c90001', // RR: V=2 P=0 RC=0 | PT=201 | length=1
  'cafebabe', //     SSRC of packet sender
];
const SDES = [
  '81ca0003', // SDES: V=2 P=0 SC=1 | PT=202 | length=3
  'cafebabe', //       SSRC
  '01046b6f', //       CNAME, length 4, "ko"
  '6f6b0000', //       "ok", END, null
];
const BYE = [
  '81cb0001', // BYE: V=2 P=0 SC=1 | PT=203 | length=1
  'cafebabe', //      SSRC
];
const RTPFB = [
  '81cd0002', // PT=205 (RTPFB, unknown here) FMT=1 | length=2
  'cafebabe', // sender SSRC
  '00000457', // media SSRC
];

const rr: RtcpPacket = { type: 'rr', ssrc: 0xcafebabe, reports: [] };
const sdes: RtcpPacket = { type: 'sdes', chunks: [{ source: 0xcafebabe, items: [{ type: 1, text: 'kook' }] }] };
const bye: RtcpPacket = { type: 'bye', sources: [0xcafebabe] };

describe('compound RTCP (RFC 3550 §6.1, A.2)', () => {
  it.each<{ name: string; bytes: Uint8Array; strict: boolean; expected: RtcpPacket[] }>([
    { name: 'RR + SDES', bytes: words(...RR, ...SDES), strict: true, expected: [rr, sdes] },
    { name: 'RR + SDES + BYE', bytes: words(...RR, ...SDES, ...BYE), strict: true, expected: [rr, sdes, bye] },
    {
      name: 'an unknown type, skipped by its length',
      bytes: words(...RR, ...RTPFB, ...SDES),
      strict: true,
      expected: [rr, { type: 'unknown', packetType: 205, bytes: words(...RTPFB) }, sdes],
    },
    {
      name: 'padding on the last packet',
      bytes: words(
        ...RR,
        'a1ca0004', // SDES: V=2 P=1 SC=1 | PT=202 | length=4
        'cafebabe', //       SSRC
        '01046b6f', //       CNAME "ko"
        '6f6b0000', //       "ok", END, null
        '00000004', //       RTCP padding: 4 octets
      ),
      strict: true,
      expected: [rr, sdes],
    },
    { name: 'an SDES first when not strict', bytes: words(...SDES, ...RR), strict: false, expected: [sdes, rr] },
  ])('decodes $name', ({ bytes, strict, expected }) => {
    expect(decodeCompound(bytes, { strict })).toEqual(expected);
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    { name: 'an empty datagram', bytes: new Uint8Array(0), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a truncated header', bytes: words(...RR, '81ca'), errorCode: 'PACKET_TOO_SHORT' },
    {
      name: 'a length past the end',
      bytes: words(
        ...RR,
        '81ca0003', // SDES claiming 16 bytes
        'cafebabe', // only 8 present
      ),
      errorCode: 'PACKET_TOO_SHORT',
    },
    { name: 'a bad version in the first packet', bytes: words('40c90001', 'cafebabe'), errorCode: 'INVALID_VERSION' },
    {
      name: 'a bad version in a later packet',
      bytes: words(...RR, '41ca0003', 'cafebabe', '01046b6f', '6f6b0000'),
      errorCode: 'INVALID_VERSION',
    },
    {
      name: 'padding on a packet that is not the last',
      bytes: words(
        'a0c90002', // RR: V=2 P=1 RC=0 | PT=201 | length=2
        'cafebabe', //     SSRC
        '00000004', //     padding: 4 octets
        ...SDES,
      ),
      errorCode: 'INVALID_RTCP',
    },
    { name: 'an SDES first (strict)', bytes: words(...SDES, ...RR), errorCode: 'INVALID_RTCP' },
    { name: 'an unknown type first (strict)', bytes: words(...RTPFB, ...RR), errorCode: 'INVALID_RTCP' },
    {
      name: 'a malformed packet inside',
      bytes: words(...RR, '81ca0002', 'cafebabe', '01026162'), // SDES chunk not terminated
      errorCode: 'INVALID_RTCP',
    },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeCompound(bytes), errorCode);
  });

  it('encodes what it decodes, byte for byte', () => {
    for (const bytes of [words(...RR, ...SDES), words(...RR, ...RTPFB, ...SDES, ...BYE)]) {
      expect(encodeCompound(decodeCompound(bytes))).toEqual(bytes);
    }
  });

  it.each<{ name: string; packets: RtcpPacket[]; codes: string[] }>([
    { name: 'a well-formed compound', packets: [rr, sdes, bye], codes: [] },
    { name: 'no packets', packets: [], codes: ['EMPTY'] },
    { name: 'a bare SR-less SDES', packets: [sdes], codes: ['FIRST_NOT_REPORT'] },
    { name: 'a bare RR', packets: [rr], codes: ['MISSING_CNAME'] },
    {
      name: 'an SDES without a CNAME',
      packets: [rr, { type: 'sdes', chunks: [{ source: 1, items: [{ type: 2, text: 'name' }] }] }],
      codes: ['MISSING_CNAME'],
    },
    { name: 'a BYE before the SDES', packets: [rr, bye, sdes], codes: ['BYE_NOT_LAST'] },
    { name: 'two BYEs at the end', packets: [rr, sdes, bye, bye], codes: [] },
  ])('validateCompound reports $name', ({ packets, codes }) => {
    expect(validateCompound(packets).map((i) => i.code)).toEqual(codes);
    if (codes.length > 0) expectCode(() => encodeCompound(packets), 'INVALID_RTCP');
    else expect(decodeCompound(encodeCompound(packets))).toEqual(packets);
  });

  it('hasCname optionally checks the source', () => {
    expect(hasCname([rr, sdes])).toBe(true);
    expect(hasCname([rr, sdes], 0xcafebabe)).toBe(true);
    expect(hasCname([rr, sdes], 1)).toBe(false);
    expect(hasCname([rr])).toBe(false);
  });

  it('encodes a bare report when not strict, but never an empty compound', () => {
    expect(encodeCompound([rr], { strict: false })).toEqual(words(...RR));
    expectCode(() => encodeCompound([], { strict: false }), 'INVALID_RTCP');
  });

  it.each<{ name: string; packet: RtcpPacket }>([
    { name: 'a wrong packet type', packet: { type: 'unknown', packetType: 206, bytes: words(...RTPFB) } },
    { name: 'a length that disagrees', packet: { type: 'unknown', packetType: 205, bytes: words(...RTPFB, '00000000') } },
    { name: 'a bad version', packet: { type: 'unknown', packetType: 205, bytes: words('01cd0000') } },
    { name: 'fewer than 4 bytes', packet: { type: 'unknown', packetType: 205, bytes: words('81cd') } },
  ])('refuses to encode an unknown packet with $name', ({ packet }) => {
    expectCode(() => encodeCompound([rr, sdes, packet]), 'INVALID_ARGUMENT');
  });

  it('refuses a padded unknown packet that is not last', () => {
    const padded: RtcpPacket = { type: 'unknown', packetType: 205, bytes: words('a1cd0001', '00000004') };
    expectCode(() => encodeCompound([rr, padded, sdes]), 'INVALID_RTCP');
    expect(encodeCompound([rr, sdes, padded])).toEqual(words(...RR, ...SDES, 'a1cd0001', '00000004'));
  });
});

describe('a real ffmpeg sender report', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../../../fixtures/rtcp/ffmpeg-sr.json', import.meta.url), 'utf8'),
  ) as { note: string; hex: string };
  const bytes = Uint8Array.from(Buffer.from(fixture.hex, 'hex'));
  const expected = {
    ssrc: 0x9bd16b3c,
    ntpTimestamp: 0xeeaeffba153f7cedn,
    rtpTimestamp: 0xc2c97b51,
    packetCount: 250, // 5 s of 20 ms packets
    octetCount: 36924,
    reports: [],
  };

  it('is documented with the ffmpeg version and command', () => {
    expect(fixture.note).toMatch(/^ffmpeg version /);
    expect(fixture.note).toContain('-f rtp');
  });

  it('decodes as a bare SR with no SDES, accepted by the strict decoder', () => {
    expect(decodeSenderReport(bytes)).toEqual(expected);
    const packets = decodeCompound(bytes);
    expect(packets).toEqual([{ type: 'sr', ...expected }]);
    expect(encodeCompound(packets, { strict: false })).toEqual(bytes);
  });

  it('is flagged by validateCompound for its missing CNAME', () => {
    const packets = decodeCompound(bytes);
    expect(hasCname(packets)).toBe(false);
    expect(validateCompound(packets).map((i) => i.code)).toEqual(['MISSING_CNAME']);
  });
});

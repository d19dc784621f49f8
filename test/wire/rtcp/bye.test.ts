import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import { decodeGoodbye, encodeGoodbye, encodeGoodbyeInto, goodbyeSize, type Goodbye } from '../../../src/wire/rtcp/bye.js';
import { expectCode, words } from './helpers.js';

describe('BYE (RFC 3550 §6.6)', () => {
  it.each<{ name: string; bytes: Uint8Array; expected: Goodbye }>([
    {
      name: 'one source, no reason',
      bytes: words(
        '81cb0001', // V=2 P=0 SC=1 | PT=203 | length=1
        '12345678', // SSRC
      ),
      expected: { sources: [0x12345678] },
    },
    {
      name: 'two sources and a 3-byte reason (fills the word)',
      bytes: words(
        '82cb0003', // V=2 P=0 SC=2 | PT=203 | length=3
        '00000001', // SSRC 1
        '00000002', // CSRC 2
        '03627965', // reason length 3, "bye"
      ),
      expected: { sources: [1, 2], reason: 'bye' },
    },
    {
      name: 'a short reason with null padding',
      bytes: words(
        '81cb0002', // V=2 P=0 SC=1 | PT=203 | length=2
        '12345678', // SSRC
        '026f6b00', // reason length 2, "ok", null
      ),
      expected: { sources: [0x12345678], reason: 'ok' },
    },
    {
      name: 'an empty reason',
      bytes: words('81cb0002', '12345678', '00000000'), // reason length 0, 3 nulls
      expected: { sources: [0x12345678], reason: '' },
    },
    {
      name: 'no sources',
      bytes: words('80cb0000'), // V=2 P=0 SC=0 | PT=203 | length=0
      expected: { sources: [] },
    },
  ])('decodes $name and round-trips it', ({ bytes, expected }) => {
    expect(decodeGoodbye(bytes)).toEqual(expected);
    expect(encodeGoodbye(expected)).toEqual(bytes);
    expect(encodeGoodbye(decodeGoodbye(bytes))).toEqual(bytes);
    expect(goodbyeSize(expected)).toBe(bytes.length);
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    { name: 'missing sources', bytes: words('82cb0001', '12345678'), errorCode: 'INVALID_RTCP' },
    { name: 'a reason past the end', bytes: words('81cb0002', '12345678', '09627965'), errorCode: 'INVALID_RTCP' },
    {
      name: 'a word after the reason',
      bytes: words('81cb0003', '12345678', '01610000', '00000000'),
      errorCode: 'INVALID_RTCP',
    },
    { name: 'a reason that is not UTF-8', bytes: words('81cb0002', '12345678', '01c30000'), errorCode: 'INVALID_RTCP' },
    { name: 'a truncated packet', bytes: words('81cb0001', '1234'), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a bad version', bytes: words('c1cb0001', '12345678'), errorCode: 'INVALID_VERSION' },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeGoodbye(bytes), errorCode);
  });

  it('rejects goodbyes it cannot encode', () => {
    expectCode(() => encodeGoodbye({ sources: Array.from({ length: 32 }, (_, i) => i) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeGoodbye({ sources: [0.5] }), 'INVALID_ARGUMENT');
    expectCode(() => encodeGoodbye({ sources: [1], reason: 'x'.repeat(256) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeGoodbyeInto({ sources: [1] }, new Uint8Array(7)), 'BUFFER_TOO_SMALL');
  });
});

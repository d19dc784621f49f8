import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import {
  applicationDefinedSize,
  decodeApplicationDefined,
  encodeApplicationDefined,
  encodeApplicationDefinedInto,
  type ApplicationDefined,
} from '../../../src/wire/rtcp/app.js';
import { expectCode, words } from './helpers.js';

describe('APP (RFC 3550 §6.7)', () => {
  it.each<{ name: string; bytes: Uint8Array; expected: ApplicationDefined }>([
    {
      name: 'subtype 2 with one word of data',
      bytes: words(
        '82cc0003', // V=2 P=0 subtype=2 | PT=204 | length=3
        '12345678', // SSRC
        '4b4f4f4b', // name "KOOK"
        '01020304', // application-dependent data
      ),
      expected: { subtype: 2, ssrc: 0x12345678, name: 'KOOK', data: words('01020304') },
    },
    {
      name: 'no data',
      bytes: words(
        '9fcc0002', // V=2 P=0 subtype=31 | PT=204 | length=2
        '00000000', // SSRC
        '7a7a7a7a', // name "zzzz"
      ),
      expected: { subtype: 31, ssrc: 0, name: 'zzzz', data: new Uint8Array(0) },
    },
  ])('decodes $name and round-trips it', ({ bytes, expected }) => {
    expect(decodeApplicationDefined(bytes)).toEqual(expected);
    expect(encodeApplicationDefined(expected)).toEqual(bytes);
    expect(encodeApplicationDefined(decodeApplicationDefined(bytes))).toEqual(bytes);
    expect(applicationDefinedSize(expected)).toBe(bytes.length);
  });

  it('returns the data as a zero-copy subarray', () => {
    const bytes = words('82cc0003', '12345678', '4b4f4f4b', '01020304');
    const { data } = decodeApplicationDefined(bytes);
    expect(data.buffer).toBe(bytes.buffer);
    expect(data.byteOffset).toBe(12);
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    { name: 'no name', bytes: words('80cc0001', '12345678'), errorCode: 'INVALID_RTCP' },
    { name: 'a non-ASCII name', bytes: words('80cc0002', '12345678', 'ff4f4f4b'), errorCode: 'INVALID_RTCP' },
    {
      name: 'data that padding leaves partial',
      bytes: words('a0cc0003', '12345678', '4b4f4f4b', '01020302'),
      errorCode: 'INVALID_RTCP',
    },
    { name: 'a truncated packet', bytes: words('80cc0002', '12345678'), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a bad version', bytes: words('00cc0002', '12345678', '4b4f4f4b'), errorCode: 'INVALID_VERSION' },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeApplicationDefined(bytes), errorCode);
  });

  it('rejects packets it cannot encode', () => {
    const v: ApplicationDefined = { subtype: 0, ssrc: 1, name: 'KOOK', data: new Uint8Array(0) };
    expectCode(() => encodeApplicationDefined({ ...v, subtype: 32 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeApplicationDefined({ ...v, name: 'KOO' }), 'INVALID_ARGUMENT');
    expectCode(() => encodeApplicationDefined({ ...v, name: 'KOÖK' }), 'INVALID_ARGUMENT');
    expectCode(() => encodeApplicationDefined({ ...v, data: new Uint8Array(5) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeApplicationDefinedInto(v, new Uint8Array(11)), 'BUFFER_TOO_SMALL');
  });
});

import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import {
  decodeSourceDescription,
  encodeSourceDescription,
  encodeSourceDescriptionInto,
  findCname,
  SDES_CNAME,
  SDES_NOTE,
  SDES_PRIV,
  SDES_TOOL,
  sourceDescriptionSize,
  type SourceDescription,
} from '../../../src/wire/rtcp/sdes.js';
import { expectCode, words } from './helpers.js';

describe('SDES (RFC 3550 §6.5)', () => {
  it.each<{ name: string; bytes: Uint8Array; expected: SourceDescription }>([
    {
      name: 'one chunk with a CNAME',
      bytes: words(
        '81ca0003', // V=2 P=0 SC=1 | PT=202 | length=3 (16 bytes)
        '12345678', // SSRC
        '01046b6f', // CNAME, length 4, "ko"
        '6f6b0000', // "ok", END, null pad
      ),
      expected: { chunks: [{ source: 0x12345678, items: [{ type: SDES_CNAME, text: 'kook' }] }] },
    },
    {
      name: 'a chunk ending on a word boundary (needs a whole null word) and a PRIV chunk',
      bytes: words(
        '82ca0006', // V=2 P=0 SC=2 | PT=202 | length=6 (28 bytes)
        '00000001', // chunk 1: SSRC 1
        '01026162', // CNAME, length 2, "ab"
        '00000000', // END + 3 nulls
        '00000002', // chunk 2: SSRC 2
        '08040178', // PRIV, length 4, prefix length 1, prefix "x"
        '68690000', // value "hi", END, null pad
      ),
      expected: {
        chunks: [
          { source: 1, items: [{ type: SDES_CNAME, text: 'ab' }] },
          { source: 2, items: [{ type: SDES_PRIV, prefix: 'x', text: 'hi' }] },
        ],
      },
    },
    {
      name: 'a chunk with no items',
      bytes: words(
        '81ca0002', // V=2 P=0 SC=1 | PT=202 | length=2
        '00000003', // SSRC 3
        '00000000', // END + 3 nulls
      ),
      expected: { chunks: [{ source: 3, items: [] }] },
    },
    {
      name: 'no chunks',
      bytes: words('80ca0000'), // V=2 P=0 SC=0 | PT=202 | length=0
      expected: { chunks: [] },
    },
    {
      name: 'UTF-8 text, an empty item and a TOOL',
      bytes: words(
        '81ca0005', // V=2 P=0 SC=1 | PT=202 | length=5 (24 bytes)
        '0000000a', // SSRC 10
        '0703e4bd', // NOTE, length 3, "你" = e4 bd a0 ...
        'a0070006', // ... a0 | NOTE, length 0 | TOOL
        '036b7270', // length 3, "krp"
        '00000000', // END + 3 nulls (the items ended on a boundary)
      ),
      expected: {
        chunks: [
          {
            source: 10,
            items: [
              { type: SDES_NOTE, text: '你' },
              { type: SDES_NOTE, text: '' },
              { type: SDES_TOOL, text: 'krp' },
            ],
          },
        ],
      },
    },
  ])('decodes $name and round-trips it', ({ bytes, expected }) => {
    expect(decodeSourceDescription(bytes)).toEqual(expected);
    expect(encodeSourceDescription(expected)).toEqual(bytes);
    expect(encodeSourceDescription(decodeSourceDescription(bytes))).toEqual(bytes);
    expect(sourceDescriptionSize(expected)).toBe(bytes.length);
  });

  it('accepts RTCP padding and non-zero octets after END (liberal reader)', () => {
    expect(
      decodeSourceDescription(
        words(
          'a1ca0004', // V=2 P=1 SC=1 | PT=202 | length=4 (20 bytes)
          '12345678', // SSRC
          '01026162', // CNAME "ab"
          '00ffffff', // END, then junk where nulls belong
          '00000004', // RTCP padding, 4 octets
        ),
      ),
    ).toEqual({ chunks: [{ source: 0x12345678, items: [{ type: SDES_CNAME, text: 'ab' }] }] });
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    {
      name: 'a chunk not terminated',
      bytes: words(
        '81ca0002', // SC=1, length=2
        '12345678', // SSRC
        '01026162', // CNAME "ab", then the packet ends without END
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'an item running past the packet',
      bytes: words(
        '81ca0002', // SC=1, length=2
        '12345678', // SSRC
        '010a6162', // CNAME claiming 10 bytes, only 2 left
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'an item header cut in half',
      bytes: words(
        '81ca0002', // SC=1, length=2
        '12345678', // SSRC
        '01006101', // CNAME "", then type 0x61 "a" len 1, then type 1 without a length octet
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'a missing chunk',
      bytes: words(
        '82ca0002', // SC=2, length=2
        '12345678', // chunk 1 SSRC
        '00000000', // END; chunk 2 missing
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'a word after the last chunk',
      bytes: words('81ca0003', '12345678', '00000000', '00000000'),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'END padding past odd RTCP padding',
      bytes: words(
        'a1ca0002', // P=1 SC=1 length=2
        '12345678', // SSRC
        '00000002', // END at 8, but RTCP padding of 2 ends the content at 10
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'text that is not UTF-8',
      bytes: words('81ca0002', '12345678', '0101ff00'),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'a PRIV prefix longer than its item',
      bytes: words('81ca0003', '12345678', '08020561', '00000000'),
      errorCode: 'INVALID_RTCP',
    },
    { name: 'a truncated packet', bytes: words('81ca0003', '12345678'), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a bad version', bytes: words('01ca0000'), errorCode: 'INVALID_VERSION' },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeSourceDescription(bytes), errorCode);
  });

  it('rejects descriptions it cannot encode', () => {
    const chunk = (items: SourceDescription['chunks'][number]['items']) => ({ chunks: [{ source: 1, items }] });
    expectCode(() => encodeSourceDescription(chunk([{ type: 0, text: 'x' }])), 'INVALID_ARGUMENT');
    expectCode(() => encodeSourceDescription(chunk([{ type: 256, text: 'x' }])), 'INVALID_ARGUMENT');
    expectCode(() => encodeSourceDescription(chunk([{ type: 1, text: 'x'.repeat(256) }])), 'INVALID_ARGUMENT');
    expectCode(() => encodeSourceDescription(chunk([{ type: 1, text: '\ud800' }])), 'INVALID_ARGUMENT');
    expectCode(() => encodeSourceDescription(chunk([{ type: 1, text: 'x', prefix: 'p' }])), 'INVALID_ARGUMENT');
    expectCode(
      () => encodeSourceDescription(chunk([{ type: 8, prefix: 'p'.repeat(100), text: 'v'.repeat(155) }])),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => encodeSourceDescription({ chunks: Array.from({ length: 32 }, (_, i) => ({ source: i, items: [] })) }),
      'INVALID_ARGUMENT',
    );
    expectCode(() => encodeSourceDescription({ chunks: [{ source: -1, items: [] }] }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSourceDescriptionInto(chunk([]), new Uint8Array(11)), 'BUFFER_TOO_SMALL');
  });

  it('encodes the largest items (255 bytes of text, PRIV 254)', () => {
    const v: SourceDescription = {
      chunks: [
        {
          source: 1,
          items: [
            { type: SDES_CNAME, text: 'c'.repeat(255) },
            { type: SDES_PRIV, prefix: 'p'.repeat(100), text: 'v'.repeat(154) },
          ],
        },
      ],
    };
    expect(decodeSourceDescription(encodeSourceDescription(v))).toEqual(v);
  });

  it('pads chunks relative to the packet when written at an unaligned offset', () => {
    const v: SourceDescription = { chunks: [{ source: 7, items: [{ type: SDES_CNAME, text: 'abc' }] }] };
    const buf = new Uint8Array(3 + sourceDescriptionSize(v));
    encodeSourceDescriptionInto(v, buf, 3);
    expect(buf.subarray(3)).toEqual(encodeSourceDescription(v));
  });

  it('findCname finds a CNAME, optionally for one source', () => {
    const v: SourceDescription = {
      chunks: [
        { source: 1, items: [{ type: SDES_TOOL, text: 't' }] },
        { source: 2, items: [{ type: SDES_CNAME, text: 'two' }] },
      ],
    };
    expect(findCname(v)).toBe('two');
    expect(findCname(v, 2)).toBe('two');
    expect(findCname(v, 1)).toBeUndefined();
  });
});

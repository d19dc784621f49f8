import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KookRtpError, type ErrorCode } from '../../../src/errors.js';
import { codeOf } from '../../helpers.js';
import {
  RTP_HEADER_SIZE,
  decodeRtpExtensionElements,
  decodeRtpPacket,
  encodeRtpPacket,
  encodeRtpPacketInto,
  rtpPacketSize,
  writeRtpHeader,
  type RtpExtensionElement,
  type RtpPacket,
} from '../../../src/wire/rtp/packet.js';

const u8 = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

const base = { marker: false, payloadType: 111, sequenceNumber: 0x1234, timestamp: 0x01020304, ssrc: 0xdeadbeef, csrcs: [], padding: 0 };

interface ValidCase {
  readonly name: string;
  readonly bytes: number[];
  readonly expected: RtpPacket;
}

const valid: ValidCase[] = [
  {
    name: 'plain header + payload',
    bytes: [
      0x80, 0x6f, 0x12, 0x34, // V=2 P=0 X=0 CC=0 | M=0 PT=111 | seq=0x1234
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xf8, 0xff, 0xfe, //       payload (Opus silence)
    ],
    expected: { ...base, payload: u8(0xf8, 0xff, 0xfe) },
  },
  {
    name: 'marker bit, max values, empty payload',
    bytes: [
      0x80, 0xff, 0xff, 0xff, // V=2 CC=0 | M=1 PT=127 | seq=65535
      0xff, 0xff, 0xff, 0xff, // timestamp=2^32-1
      0x00, 0x00, 0x00, 0x00, // SSRC=0
    ],
    expected: { ...base, marker: true, payloadType: 127, sequenceNumber: 0xffff, timestamp: 0xffffffff, ssrc: 0, payload: u8() },
  },
  {
    name: 'two CSRCs',
    bytes: [
      0x82, 0x60, 0x00, 0x01, // V=2 CC=2 | M=0 PT=96 | seq=1
      0x00, 0x00, 0x03, 0xc0, // timestamp=960
      0x11, 0x22, 0x33, 0x44, // SSRC
      0xaa, 0xaa, 0xaa, 0xaa, // CSRC 1
      0xbb, 0xbb, 0xbb, 0xbb, // CSRC 2
      0x01, 0x02, //             payload
    ],
    expected: {
      ...base, payloadType: 96, sequenceNumber: 1, timestamp: 960, ssrc: 0x11223344,
      csrcs: [0xaaaaaaaa, 0xbbbbbbbb], payload: u8(1, 2),
    },
  },
  {
    name: 'one-byte (0xBEDE) extension with two elements and padding',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1 CC=0 | PT=111 | seq
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xbe, 0xde, 0x00, 0x02, // profile=0xBEDE | length=2 words
      0x10, 0xaa, 0x21, 0xbb, // id=1 L=0 (1 byte) 0xaa | id=2 L=1 (2 bytes) 0xbb..
      0xcc, 0x00, 0x00, 0x00, // ..0xcc | 3 padding bytes
      0x09, //                   payload
    ],
    expected: {
      ...base,
      extension: {
        profile: 0xbede,
        data: u8(0x10, 0xaa, 0x21, 0xbb, 0xcc, 0, 0, 0),
        elements: [{ id: 1, value: u8(0xaa) }, { id: 2, value: u8(0xbb, 0xcc) }],
      },
      payload: u8(9),
    },
  },
  {
    name: 'two-byte (0x1000) extension: an empty element and one of 2 bytes',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1 | PT=111 | seq
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x10, 0x00, 0x00, 0x02, // profile=0x1000 (appbits 0) | length=2 words
      0x03, 0x00, 0xc8, 0x02, // id=3 len=0 | id=200 len=2
      0x11, 0x22, 0x00, 0x00, // value 0x1122 | 2 padding bytes
    ],
    expected: {
      ...base,
      extension: {
        profile: 0x1000,
        data: u8(0x03, 0x00, 0xc8, 0x02, 0x11, 0x22, 0, 0),
        elements: [{ id: 3, value: u8() }, { id: 200, value: u8(0x11, 0x22) }],
      },
      payload: u8(),
    },
  },
  {
    name: 'non-RFC 8285 extension keeps raw data only',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1 | PT=111 | seq
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x12, 0x34, 0x00, 0x01, // profile=0x1234 | length=1 word
      0xca, 0xfe, 0xba, 0xbe, // opaque data
      0x07, //                   payload
    ],
    expected: { ...base, extension: { profile: 0x1234, data: u8(0xca, 0xfe, 0xba, 0xbe) }, payload: u8(7) },
  },
  {
    name: 'padding of 4 bytes',
    bytes: [
      0xa0, 0x6f, 0x12, 0x34, // V=2 P=1 | PT=111 | seq
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x05, 0x06, 0x00, 0x00, // payload 0x0506 | padding..
      0x00, 0x04, //             ..padding | count=4
    ],
    expected: { ...base, padding: 4, payload: u8(5, 6) },
  },
  {
    name: 'CSRC + one-byte extension + padding together',
    bytes: [
      0xb1, 0xef, 0x00, 0x00, // V=2 P=1 X=1 CC=1 | M=1 PT=111 | seq=0
      0x00, 0x00, 0x00, 0x00, // timestamp=0
      0x00, 0x00, 0x00, 0x01, // SSRC=1
      0x00, 0x00, 0x00, 0x02, // CSRC=2
      0xbe, 0xde, 0x00, 0x01, // profile=0xBEDE | length=1 word
      0xe0, 0x7f, 0x00, 0x00, // id=14 L=0 value 0x7f | padding
      0x42, 0x01, //             payload 0x42 | padding count=1
    ],
    expected: {
      marker: true, payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 1, csrcs: [2], padding: 1,
      extension: { profile: 0xbede, data: u8(0xe0, 0x7f, 0, 0), elements: [{ id: 14, value: u8(0x7f) }] },
      payload: u8(0x42),
    },
  },
];

interface ErrorCase {
  readonly name: string;
  readonly bytes: number[];
  readonly code: ErrorCode;
}

const invalid: ErrorCase[] = [
  { name: 'empty', bytes: [], code: 'PACKET_TOO_SHORT' },
  {
    name: '11 bytes',
    bytes: [
      0x80, 0x6f, 0x12, 0x34, // header..
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, //       SSRC cut short
    ],
    code: 'PACKET_TOO_SHORT',
  },
  {
    name: 'CC=2 but no CSRC bytes',
    bytes: [
      0x82, 0x6f, 0x12, 0x34, // V=2 CC=2
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xaa, 0xaa, 0xaa, 0xaa, // CSRC 1, CSRC 2 missing
    ],
    code: 'PACKET_TOO_SHORT',
  },
  {
    name: 'X=1 but no extension header',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xbe, 0xde, //             extension header cut short
    ],
    code: 'PACKET_TOO_SHORT',
  },
  {
    name: 'extension length past the end',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xbe, 0xde, 0x00, 0x02, // length=2 words
      0x10, 0xaa, 0x00, 0x00, // only 1 word present
    ],
    code: 'PACKET_TOO_SHORT',
  },
  {
    name: 'version 1',
    bytes: [
      0x40, 0x6f, 0x12, 0x34, // V=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
    ],
    code: 'INVALID_VERSION',
  },
  {
    name: 'version 0 (a STUN binding request)',
    bytes: [
      0x00, 0x01, 0x00, 0x00, // STUN type=1 | length=0
      0x21, 0x12, 0xa4, 0x42, // magic cookie
      0x00, 0x00, 0x00, 0x00, // transaction id..
      0x00, 0x00, 0x00, 0x00, //
      0x00, 0x00, 0x00, 0x00, //
    ],
    code: 'INVALID_VERSION',
  },
  {
    name: 'padding count 0',
    bytes: [
      0xa0, 0x6f, 0x12, 0x34, // V=2 P=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x05, 0x00, //             payload | count=0
    ],
    code: 'INVALID_PACKET',
  },
  {
    name: 'padding count larger than the payload',
    bytes: [
      0xa0, 0x6f, 0x12, 0x34, // V=2 P=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x05, 0x03, //             count=3 > 2 bytes
    ],
    code: 'INVALID_PACKET',
  },
  {
    name: 'padding with no byte after the header',
    bytes: [
      0xa0, 0x6f, 0x12, 0x34, // V=2 P=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0x01, // SSRC (its last byte would be the count)
    ],
    code: 'INVALID_PACKET',
  },
  {
    name: 'one-byte element runs past the extension',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0xbe, 0xde, 0x00, 0x01, // profile=0xBEDE | length=1 word
      0x00, 0x00, 0x13, 0xaa, // padding, padding, id=1 L=3 (4 bytes) but only 1 left
    ],
    code: 'INVALID_PACKET',
  },
  {
    name: 'two-byte element runs past the extension',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x10, 0x05, 0x00, 0x01, // profile=0x1005 | length=1 word
      0x01, 0x05, 0xaa, 0xbb, // id=1 len=5 but only 2 left
    ],
    code: 'INVALID_PACKET',
  },
  {
    name: 'two-byte element without its length byte',
    bytes: [
      0x90, 0x6f, 0x12, 0x34, // V=2 X=1
      0x01, 0x02, 0x03, 0x04, // timestamp
      0xde, 0xad, 0xbe, 0xef, // SSRC
      0x10, 0x00, 0x00, 0x01, // profile=0x1000 | length=1 word
      0x00, 0x00, 0x00, 0x07, // padding x3 | id=7 with no length byte
    ],
    code: 'INVALID_PACKET',
  },
];

describe('decodeRtpPacket', () => {
  it.each(valid)('decodes $name', ({ bytes, expected }) => {
    expect(decodeRtpPacket(Uint8Array.from(bytes))).toEqual(expected);
  });

  it.each(valid)('encode(decode(b)) = b: $name', ({ bytes }) => {
    const b = Uint8Array.from(bytes);
    expect(encodeRtpPacket(decodeRtpPacket(b))).toEqual(b);
  });

  it.each(valid)('decode(encode(x)) = x: $name', ({ expected }) => {
    expect(decodeRtpPacket(encodeRtpPacket(expected))).toEqual(expected);
    expect(rtpPacketSize(expected)).toBe(encodeRtpPacket(expected).length);
  });

  it.each(invalid)('rejects $name with $code', ({ bytes, code }) => {
    expect(codeOf(() => decodeRtpPacket(Uint8Array.from(bytes)))).toBe(code);
  });

  it('returns zero-copy views of the input', () => {
    const bytes = Uint8Array.from(valid[3]!.bytes);
    const p = decodeRtpPacket(bytes);
    expect(p.payload.buffer).toBe(bytes.buffer);
    expect(p.extension?.data.buffer).toBe(bytes.buffer);
    bytes[bytes.length - 1] = 0x55;
    expect(p.payload[0]).toBe(0x55);
  });

  it('stops one-byte parsing at ID 15 and skips ID 0 bytes whatever their L', () => {
    const data = u8(0x00, 0x0f, 0x10, 0xaa, 0xf3, 0x20, 0xbb, 0x00);
    expect(decodeRtpExtensionElements(0xbede, data)).toEqual([{ id: 1, value: u8(0xaa) }]);
  });

  it('decodes from a subarray with a non-zero byteOffset', () => {
    const bytes = Uint8Array.from([0xff, 0xff, 0xff, ...valid[2]!.bytes]);
    expect(decodeRtpPacket(bytes.subarray(3))).toEqual(valid[2]!.expected);
  });
});

describe('encodeRtpPacket', () => {
  const ok: RtpPacket = { ...base, payload: u8(1, 2, 3) };

  it('encodes one-byte elements given without data, padded to 32 bits', () => {
    const p: RtpPacket = {
      ...ok,
      extension: { profile: 0xbede, data: u8(), elements: [{ id: 5, value: u8(1, 2, 3) }] },
    };
    expect(Array.from(encodeRtpPacket(p).subarray(12, 24))).toEqual([
      0xbe, 0xde, 0x00, 0x01, // profile | 1 word
      0x52, 0x01, 0x02, 0x03, // id=5 L=2 | value
      0x01, 0x02, 0x03, //       payload
      // (only 11 bytes here: the packet ends)
    ]);
  });

  it('encodes two-byte elements with the appbits kept in the profile', () => {
    const p: RtpPacket = {
      ...ok,
      extension: { profile: 0x100f, data: u8(), elements: [{ id: 255, value: u8(9) }] },
    };
    expect(Array.from(encodeRtpPacket(p).subarray(12, 20))).toEqual([
      0x10, 0x0f, 0x00, 0x01, // profile 0x100F | 1 word
      0xff, 0x01, 0x09, 0x00, // id=255 len=1 value=9 | padding
    ]);
  });

  it('prefers elements over stale data', () => {
    const p: RtpPacket = {
      ...ok,
      extension: { profile: 0xbede, data: u8(0x10, 0xaa, 0, 0), elements: [{ id: 2, value: u8(0xbb) }] },
    };
    const decoded = decodeRtpPacket(encodeRtpPacket(p));
    expect(decoded.extension?.elements).toEqual([{ id: 2, value: u8(0xbb) }]);
  });

  it('writes at an offset and reports the bytes written', () => {
    const buf = new Uint8Array(64).fill(0xee);
    const n = encodeRtpPacketInto(ok, buf, 10);
    expect(n).toBe(15);
    expect(buf[9]).toBe(0xee);
    expect(buf[25]).toBe(0xee);
    expect(decodeRtpPacket(buf.subarray(10, 10 + n))).toEqual(ok);
  });

  const bad: { name: string; p: RtpPacket; code: ErrorCode }[] = [
    { name: 'payload type 128', p: { ...ok, payloadType: 128 }, code: 'INVALID_ARGUMENT' },
    { name: 'payload type 1.5', p: { ...ok, payloadType: 1.5 }, code: 'INVALID_ARGUMENT' },
    { name: 'sequence 65536', p: { ...ok, sequenceNumber: 65536 }, code: 'INVALID_ARGUMENT' },
    { name: 'sequence -1', p: { ...ok, sequenceNumber: -1 }, code: 'INVALID_ARGUMENT' },
    { name: 'timestamp 2^32', p: { ...ok, timestamp: 2 ** 32 }, code: 'INVALID_ARGUMENT' },
    { name: 'timestamp NaN', p: { ...ok, timestamp: Number.NaN }, code: 'INVALID_ARGUMENT' },
    { name: 'ssrc -1', p: { ...ok, ssrc: -1 }, code: 'INVALID_ARGUMENT' },
    { name: '16 CSRCs', p: { ...ok, csrcs: new Array<number>(16).fill(1) }, code: 'INVALID_ARGUMENT' },
    { name: 'CSRC 2^32', p: { ...ok, csrcs: [2 ** 32] }, code: 'INVALID_ARGUMENT' },
    { name: 'padding 256', p: { ...ok, padding: 256 }, code: 'INVALID_ARGUMENT' },
    { name: 'extension data of 3 bytes', p: { ...ok, extension: { profile: 1, data: u8(1, 2, 3) } }, code: 'INVALID_ARGUMENT' },
    { name: 'profile 0x10000', p: { ...ok, extension: { profile: 0x10000, data: u8() } }, code: 'INVALID_ARGUMENT' },
    ...([
      ['one-byte id 15', 0xbede, { id: 15, value: u8(1) }],
      ['one-byte id 0', 0xbede, { id: 0, value: u8(1) }],
      ['one-byte empty value', 0xbede, { id: 1, value: u8() }],
      ['one-byte 17-byte value', 0xbede, { id: 1, value: new Uint8Array(17) }],
      ['two-byte id 0', 0x1000, { id: 0, value: u8() }],
      ['two-byte id 256', 0x1000, { id: 256, value: u8() }],
      ['two-byte 256-byte value', 0x1000, { id: 1, value: new Uint8Array(256) }],
      ['elements under a non-RFC 8285 profile', 0x1234, { id: 1, value: u8(1) }],
    ] as const).map(([name, profile, element]: readonly [string, number, RtpExtensionElement]) => ({
      name,
      p: { ...ok, extension: { profile, data: u8(), elements: [element] } },
      code: 'INVALID_ARGUMENT' as const,
    })),
  ];

  it.each(bad)('rejects $name with $code', ({ p, code }) => {
    expect(codeOf(() => encodeRtpPacket(p))).toBe(code);
  });

  it('throws BUFFER_TOO_SMALL when the packet does not fit', () => {
    expect(codeOf(() => encodeRtpPacketInto(ok, new Uint8Array(14)))).toBe('BUFFER_TOO_SMALL');
    expect(codeOf(() => encodeRtpPacketInto(ok, new Uint8Array(20), 6))).toBe('BUFFER_TOO_SMALL');
    expect(codeOf(() => encodeRtpPacketInto(ok, new Uint8Array(20), -1))).toBe('INVALID_ARGUMENT');
  });
});

describe('writeRtpHeader', () => {
  it('writes the same 12 bytes as the full encoder', () => {
    const buf = new Uint8Array(16);
    expect(writeRtpHeader(buf, 4, true, 111, 0xfffe, 0xfffffc40, 0x3324e723)).toBe(RTP_HEADER_SIZE);
    const full = encodeRtpPacket({
      marker: true, payloadType: 111, sequenceNumber: 0xfffe, timestamp: 0xfffffc40, ssrc: 0x3324e723,
      csrcs: [], padding: 0, payload: u8(),
    });
    expect(buf.subarray(4)).toEqual(full);
    expect(Array.from(buf.subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it.each([
    ['payload type 128', [false, 128, 0, 0, 0], 'INVALID_ARGUMENT'],
    ['sequence 65536', [false, 0, 65536, 0, 0], 'INVALID_ARGUMENT'],
    ['sequence 0.5', [false, 0, 0.5, 0, 0], 'INVALID_ARGUMENT'],
    ['timestamp -1', [false, 0, 0, -1, 0], 'INVALID_ARGUMENT'],
    ['ssrc 2^32', [false, 0, 0, 0, 2 ** 32], 'INVALID_ARGUMENT'],
  ] as const)('rejects %s', (_name, [m, pt, seq, ts, ssrc], code) => {
    expect(codeOf(() => writeRtpHeader(new Uint8Array(12), 0, m, pt, seq, ts, ssrc))).toBe(code);
  });

  it('throws BUFFER_TOO_SMALL with fewer than 12 bytes left', () => {
    expect(codeOf(() => writeRtpHeader(new Uint8Array(20), 9, false, 0, 0, 0, 0))).toBe('BUFFER_TOO_SMALL');
  });
});

// --- property tests ---------------------------------------------------------------------------------------------

/** Independent RFC 8285 encoder for the expected `data` (not the code under test). */
function elementsData(profile: number, elements: readonly RtpExtensionElement[]): Uint8Array {
  const out: number[] = [];
  for (const e of elements) {
    if (profile === 0xbede) out.push((e.id << 4) | (e.value.length - 1), ...e.value);
    else out.push(e.id, e.value.length, ...e.value);
  }
  while (out.length % 4 !== 0) out.push(0);
  return Uint8Array.from(out);
}

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const oneByteElement = fc.record({
  id: fc.integer({ min: 1, max: 14 }),
  value: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});
const twoByteElement = fc.record({
  id: fc.integer({ min: 1, max: 255 }),
  value: fc.uint8Array({ minLength: 0, maxLength: 40 }),
});
const extension = fc.oneof(
  fc.array(oneByteElement, { maxLength: 5 }).map((elements) => ({
    profile: 0xbede, data: elementsData(0xbede, elements), elements,
  })),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.array(twoByteElement, { maxLength: 5 })).map(([appbits, elements]) => ({
    profile: 0x1000 | appbits, data: elementsData(0x1000, elements), elements,
  })),
  fc.tuple(
    fc.integer({ min: 0, max: 0xffff }).filter((p) => p !== 0xbede && (p & 0xfff0) !== 0x1000),
    fc.integer({ min: 0, max: 8 }),
  ).chain(([profile, words]) =>
    fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }).map((data) => ({ profile, data })),
  ),
);
const packet: fc.Arbitrary<RtpPacket> = fc
  .record({
    marker: fc.boolean(),
    payloadType: fc.integer({ min: 0, max: 127 }),
    sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
    timestamp: uint32,
    ssrc: uint32,
    csrcs: fc.array(uint32, { maxLength: 15 }),
    padding: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 64 }),
    extension: fc.option(extension, { nil: undefined }),
  })
  .map(({ extension: ext, ...rest }) => (ext === undefined ? rest : { ...rest, extension: ext }));

describe('RTP properties', () => {
  it('decode(encode(x)) deep-equals x for arbitrary valid packets', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encodeRtpPacket(p);
        expect(bytes.length).toBe(rtpPacketSize(p));
        expect(decodeRtpPacket(bytes)).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('any byte string either decodes or throws KookRtpError, and what decodes re-encodes to the same length', () => {
    // Half the inputs get version 2 so the parser goes past the first check.
    const bytes = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 80 })).map(([v2, b]) => {
      if (v2 && b.length > 0) b[0] = (b[0]! & 0x3f) | 0x80;
      return b;
    });
    fc.assert(
      fc.property(bytes, (b) => {
        let p: RtpPacket;
        try {
          p = decodeRtpPacket(b);
        } catch (err) {
          expect(err).toBeInstanceOf(KookRtpError);
          return;
        }
        expect(encodeRtpPacket(p).length).toBe(b.length);
      }),
      { numRuns: 2000 },
    );
  });
});

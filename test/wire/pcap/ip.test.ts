import { describe, expect, it } from 'vitest';
import { KookRtpError } from '../../../src/errors.js';
import { formatIpAddress, internetChecksum, parseIpAddress } from '../../../src/wire/pcap/ip.js';

describe('internetChecksum (RFC 1071)', () => {
  it("reproduces RFC 1071 §3's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2", () => {
    expect(internetChecksum([Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)])).toBe(0xffff - 0xddf2);
  });

  it('checksums an IPv4 header to zero once the checksum is in place', () => {
    const header = Uint8Array.of(
      0x45, 0x00, 0x00, 0x2b, // version 4, IHL 5 | TOS | total length 43
      0x00, 0x00, 0x40, 0x00, // identification | DF
      0x40, 0x11, 0xb1, 0xbf, // TTL 64 | UDP | checksum
      0x7f, 0x00, 0x00, 0x01, // 127.0.0.1
      0x0a, 0x00, 0x00, 0x02, // 10.0.0.2
    );
    expect(internetChecksum([header])).toBe(0);
  });

  it('pads an odd final part with a zero byte', () => {
    expect(internetChecksum([Uint8Array.of(0x12, 0x34), Uint8Array.of(0x56)])).toBe(~(0x1234 + 0x5600) & 0xffff);
  });
});

describe('IP address text', () => {
  it.each([
    ['127.0.0.1', [127, 0, 0, 1], '127.0.0.1'],
    ['255.255.255.255', [255, 255, 255, 255], '255.255.255.255'],
    ['::1', [...new Array<number>(15).fill(0), 1], '::1'],
    ['::', new Array<number>(16).fill(0), '::'],
    ['FE80::0:2', [0xfe, 0x80, ...new Array<number>(13).fill(0), 2], 'fe80::2'],
    ['2001:db8:0:0:1:0:0:1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:0:1:1:1:1:1'],
    ['::ffff:1.2.3.4', [...new Array<number>(10).fill(0), 0xff, 0xff, 1, 2, 3, 4], '::ffff:102:304'],
  ])('%s', (text, bytes, canonical) => {
    expect(Array.from(parseIpAddress(text))).toEqual(bytes);
    expect(formatIpAddress(Uint8Array.from(bytes))).toBe(canonical);
  });

  it.each(['', '1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::', 'fe80::1%lo', '1:2:3:4:5:6:7::8'])(
    'rejects %j with INVALID_ARGUMENT',
    (text) => {
      let code = 'no error';
      try {
        parseIpAddress(text);
      } catch (err) {
        code = err instanceof KookRtpError ? err.code : 'other';
      }
      expect(code).toBe('INVALID_ARGUMENT');
    },
  );
});

import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import {
  decodeReportBlock,
  encodeReportBlock,
  encodeReportBlockInto,
  reportBlockSize,
  type ReportBlock,
} from '../../../src/wire/rtcp/reportBlock.js';
import {
  decodeSenderReport,
  encodeSenderReport,
  encodeSenderReportInto,
  senderReportSize,
  type SenderReport,
} from '../../../src/wire/rtcp/senderReport.js';
import { expectCode, words } from './helpers.js';

const block: ReportBlock = {
  ssrc: 0xdeadbeef,
  fractionLost: 26,
  cumulativeLost: 10,
  highestSequence: 131071,
  jitter: 16,
  lastSenderReport: 0xa5108000,
  delaySinceLastSenderReport: 0x18000,
};

const blockWords = [
  'deadbeef', // SSRC_1
  '1a00000a', // fraction lost 26/256 | cumulative lost 10
  '0001ffff', // extended highest sequence: 1 cycle, seq 65535
  '00000010', // interarrival jitter 16
  'a5108000', // LSR
  '00018000', // DLSR 1.5 s (0x18000 / 65536)
];

describe('report block (RFC 3550 §6.4.1)', () => {
  it.each([
    { name: 'a plain block', bytes: words(...blockWords), expected: block },
    {
      name: 'a negative cumulative loss (duplicates)',
      bytes: words(
        '00000001', // SSRC_1
        '40fffffe', // fraction lost 64 | cumulative lost -2 (24-bit two's complement)
        '00000000', // extended highest sequence
        '00000000', // jitter
        '00000000', // LSR
        '00000000', // DLSR
      ),
      expected: { ...block, ssrc: 1, fractionLost: 64, cumulativeLost: -2, highestSequence: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 },
    },
    {
      name: 'the extreme values',
      bytes: words(
        'ffffffff', // SSRC_1
        'ff800000', // fraction lost 255 | cumulative lost -8388608
        'ffffffff', // extended highest sequence
        'ffffffff', // jitter
        'ffffffff', // LSR
        'ffffffff', // DLSR
      ),
      expected: {
        ssrc: 0xffffffff,
        fractionLost: 255,
        cumulativeLost: -0x800000,
        highestSequence: 0xffffffff,
        jitter: 0xffffffff,
        lastSenderReport: 0xffffffff,
        delaySinceLastSenderReport: 0xffffffff,
      },
    },
  ])('decodes and re-encodes $name', ({ bytes, expected }) => {
    expect(decodeReportBlock(bytes)).toEqual(expected);
    expect(encodeReportBlock(expected)).toEqual(bytes);
    expect(reportBlockSize(expected)).toBe(24);
  });

  it('rejects a short block and out-of-range fields', () => {
    expectCode(() => decodeReportBlock(new Uint8Array(23)), 'PACKET_TOO_SHORT');
    expectCode(() => decodeReportBlock(new Uint8Array(24), 1), 'PACKET_TOO_SHORT');
    expectCode(() => encodeReportBlock({ ...block, cumulativeLost: 0x800000 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReportBlock({ ...block, cumulativeLost: -0x800001 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReportBlock({ ...block, fractionLost: 256 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReportBlock({ ...block, jitter: 1.5 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReportBlock({ ...block, ssrc: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReportBlockInto(block, new Uint8Array(30), 7), 'BUFFER_TOO_SMALL');
  });
});

const sr: SenderReport = {
  ssrc: 0x12345678,
  ntpTimestamp: 0xe8d4a51080000000n,
  rtpTimestamp: 48000,
  packetCount: 50,
  octetCount: 8000,
  reports: [block],
};

describe('sender report (RFC 3550 §6.4.1)', () => {
  it.each<{ name: string; bytes: Uint8Array; expected: SenderReport; canonical: boolean }>([
    {
      name: 'an SR with one report block',
      bytes: words(
        '81c8000c', // V=2 P=0 RC=1 | PT=200 | length=12 (52 bytes)
        '12345678', // SSRC of sender
        'e8d4a510', // NTP timestamp, seconds
        '80000000', // NTP timestamp, fraction (0.5 s)
        '0000bb80', // RTP timestamp 48000
        '00000032', // sender's packet count 50
        '00001f40', // sender's octet count 8000
        ...blockWords, // report block 1
      ),
      expected: sr,
      canonical: true,
    },
    {
      name: 'an SR with no blocks and a profile extension',
      bytes: words(
        '80c80007', // V=2 P=0 RC=0 | PT=200 | length=7 (32 bytes)
        '12345678', // SSRC of sender
        'e8d4a510', // NTP seconds
        '80000000', // NTP fraction
        '0000bb80', // RTP timestamp
        '00000032', // packet count
        '00001f40', // octet count
        'cafef00d', // profile-specific extension
      ),
      expected: { ...sr, reports: [], profileExtension: words('cafef00d') },
      canonical: true,
    },
    {
      name: 'a padded SR (padding dropped)',
      bytes: words(
        'a0c80007', // V=2 P=1 RC=0 | PT=200 | length=7
        '12345678', // SSRC of sender
        'e8d4a510', // NTP seconds
        '80000000', // NTP fraction
        '0000bb80', // RTP timestamp
        '00000032', // packet count
        '00001f40', // octet count
        '00000004', // padding: 4 octets
      ),
      expected: { ...sr, reports: [] },
      canonical: false,
    },
  ])('decodes $name', ({ bytes, expected, canonical }) => {
    const decoded = decodeSenderReport(bytes);
    expect(decoded).toEqual(expected);
    expect(decodeSenderReport(encodeSenderReport(decoded))).toEqual(expected);
    if (canonical) {
      expect(encodeSenderReport(decoded)).toEqual(bytes);
      expect(senderReportSize(decoded)).toBe(bytes.length);
    }
  });

  it('returns the profile extension as a zero-copy subarray', () => {
    const bytes = words('80c80007', '12345678', 'e8d4a510', '80000000', '0000bb80', '00000032', '00001f40', 'cafef00d');
    const ext = decodeSenderReport(bytes).profileExtension;
    expect(ext?.buffer).toBe(bytes.buffer);
    expect(ext?.byteOffset).toBe(28);
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    { name: 'a truncated header', bytes: words('80c8'), errorCode: 'PACKET_TOO_SHORT' },
    {
      name: 'a length past the end',
      bytes: words(
        '80c80006', // length=6 (28 bytes) but only 8 present
        '12345678', // SSRC
      ),
      errorCode: 'PACKET_TOO_SHORT',
    },
    {
      name: 'a bad version',
      bytes: words('40c80006', '12345678', 'e8d4a510', '80000000', '0000bb80', '00000032', '00001f40'),
      errorCode: 'INVALID_VERSION',
    },
    {
      name: 'an RR given to the SR decoder',
      bytes: words('80c90001', '12345678'),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'a report count the length cannot hold',
      bytes: words(
        '81c80006', // RC=1 but length=6 leaves no room for a block
        '12345678', 'e8d4a510', '80000000', '0000bb80', '00000032', '00001f40',
      ),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'an SR shorter than the sender info',
      bytes: words('80c80001', '12345678'),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'padding that leaves a partial word of extension',
      bytes: words('a0c80007', '12345678', 'e8d4a510', '80000000', '0000bb80', '00000032', '00001f40', '00000002'),
      errorCode: 'INVALID_RTCP',
    },
    {
      name: 'a second packet after the first',
      bytes: words('80c80006', '12345678', 'e8d4a510', '80000000', '0000bb80', '00000032', '00001f40', '80ca0000'),
      errorCode: 'INVALID_RTCP',
    },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeSenderReport(bytes), errorCode);
  });

  it('rejects values it cannot encode', () => {
    expectCode(() => encodeSenderReport({ ...sr, ntpTimestamp: -1n }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReport({ ...sr, ntpTimestamp: 1n << 64n }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReport({ ...sr, rtpTimestamp: 2 ** 32 }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReport({ ...sr, reports: Array.from({ length: 32 }, () => block) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReport({ ...sr, profileExtension: new Uint8Array(3) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReport({ ...sr, profileExtension: new Uint8Array(0x40000) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeSenderReportInto(sr, new Uint8Array(51)), 'BUFFER_TOO_SMALL');
  });

  it('writes at an offset and returns the bytes written', () => {
    const buf = new Uint8Array(60).fill(0xee);
    expect(encodeSenderReportInto(sr, buf, 8)).toBe(52);
    expect(buf.subarray(0, 8)).toEqual(new Uint8Array(8).fill(0xee));
    expect(decodeSenderReport(buf.subarray(8))).toEqual(sr);
  });
});

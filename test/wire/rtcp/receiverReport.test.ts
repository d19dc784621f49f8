import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../src/errors.js';
import {
  decodeReceiverReport,
  encodeReceiverReport,
  encodeReceiverReportInto,
  receiverReportSize,
  type ReceiverReport,
} from '../../../src/wire/rtcp/receiverReport.js';
import { expectCode, words } from './helpers.js';

const block = {
  ssrc: 1111,
  fractionLost: 0,
  cumulativeLost: 0,
  highestSequence: 70000,
  jitter: 240,
  lastSenderReport: 0x10624dd2,
  delaySinceLastSenderReport: 0x8000,
};

describe('receiver report (RFC 3550 §6.4.2)', () => {
  it.each<{ name: string; bytes: Uint8Array; expected: ReceiverReport }>([
    {
      name: 'an empty RR',
      bytes: words(
        '80c90001', // V=2 P=0 RC=0 | PT=201 | length=1 (8 bytes)
        'cafebabe', // SSRC of packet sender
      ),
      expected: { ssrc: 0xcafebabe, reports: [] },
    },
    {
      name: 'an RR with one block',
      bytes: words(
        '81c90007', // V=2 P=0 RC=1 | PT=201 | length=7 (32 bytes)
        'cafebabe', // SSRC of packet sender
        '00000457', // SSRC_1 = 1111
        '00000000', // fraction lost 0 | cumulative lost 0
        '00011170', // extended highest sequence 70000
        '000000f0', // jitter 240 (5 ms at 48 kHz)
        '10624dd2', // LSR
        '00008000', // DLSR 0.5 s
      ),
      expected: { ssrc: 0xcafebabe, reports: [block] },
    },
    {
      name: 'an RR with a profile extension',
      bytes: words(
        '80c90002', // V=2 P=0 RC=0 | PT=201 | length=2 (12 bytes)
        'cafebabe', // SSRC of packet sender
        '01020304', // profile-specific extension
      ),
      expected: { ssrc: 0xcafebabe, reports: [], profileExtension: words('01020304') },
    },
  ])('decodes $name and round-trips it', ({ bytes, expected }) => {
    expect(decodeReceiverReport(bytes)).toEqual(expected);
    expect(encodeReceiverReport(expected)).toEqual(bytes);
    expect(encodeReceiverReport(decodeReceiverReport(bytes))).toEqual(bytes);
    expect(receiverReportSize(expected)).toBe(bytes.length);
  });

  it.each<{ name: string; bytes: Uint8Array; errorCode: ErrorCode }>([
    { name: 'a truncated packet', bytes: words('80c90001', 'cafe'), errorCode: 'PACKET_TOO_SHORT' },
    { name: 'a bad version', bytes: words('00c90001', 'cafebabe'), errorCode: 'INVALID_VERSION' },
    { name: 'an RR without its SSRC', bytes: words('80c90000'), errorCode: 'INVALID_RTCP' },
    { name: 'a block the length cannot hold', bytes: words('81c90001', 'cafebabe'), errorCode: 'INVALID_RTCP' },
    { name: 'an SR given to the RR decoder', bytes: words('80c80001', 'cafebabe'), errorCode: 'INVALID_RTCP' },
  ])('rejects $name', ({ bytes, errorCode }) => {
    expectCode(() => decodeReceiverReport(bytes), errorCode);
  });

  it('rejects values it cannot encode', () => {
    expectCode(() => encodeReceiverReport({ ssrc: 2 ** 32, reports: [] }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReceiverReport({ ssrc: 1, reports: [{ ...block, fractionLost: -1 }] }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReceiverReport({ ssrc: 1, reports: [], profileExtension: new Uint8Array(2) }), 'INVALID_ARGUMENT');
    expectCode(() => encodeReceiverReportInto({ ssrc: 1, reports: [] }, new Uint8Array(7)), 'BUFFER_TOO_SMALL');
  });
});

/**
 * Shared helpers of the RTCP tests: hex words to bytes, error-code assertions and fast-check arbitraries of valid
 * packets.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { KookRtpError, type ErrorCode } from '../../../src/errors.js';
import type { ApplicationDefined } from '../../../src/wire/rtcp/app.js';
import type { Goodbye } from '../../../src/wire/rtcp/bye.js';
import type { RtcpPacket } from '../../../src/wire/rtcp/compound.js';
import type { ReceiverReport } from '../../../src/wire/rtcp/receiverReport.js';
import type { ReportBlock } from '../../../src/wire/rtcp/reportBlock.js';
import type { SdesChunk, SdesItem, SourceDescription } from '../../../src/wire/rtcp/sdes.js';
import type { SenderReport } from '../../../src/wire/rtcp/senderReport.js';

/** Bytes from hex strings, one 32-bit word (or a shorter tail) per argument. */
export function words(...hexWords: string[]): Uint8Array {
  const hex = hexWords.join('');
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error(`bad hex in test vector: ${hex}`);
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** Runs `fn` and asserts it throws a KookRtpError with `code`. */
export function expectCode(fn: () => unknown, code: ErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(KookRtpError);
  expect((thrown as KookRtpError).code).toBe(code);
}

/** Runs `fn` and asserts it either returns or throws a KookRtpError (never another error). */
export function decodesOrThrowsOurs(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KookRtpError)) throw err;
  }
}

const uint32 = fc.nat({ max: 0xffffffff });
const words4 = fc.integer({ min: 0, max: 4 }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 }));

export const reportBlockArb: fc.Arbitrary<ReportBlock> = fc.record({
  ssrc: uint32,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSequence: uint32,
  jitter: uint32,
  lastSenderReport: uint32,
  delaySinceLastSenderReport: uint32,
});

const reports = fc.array(reportBlockArb, { maxLength: 31 });

/** Optional profile extension, omitted (not undefined) when absent, as the decoders return it. */
const withExtension = <T extends object>(base: fc.Arbitrary<T>): fc.Arbitrary<T & { profileExtension?: Uint8Array }> =>
  fc.tuple(base, words4).map(([b, ext]) => (ext.length > 0 ? { ...b, profileExtension: ext } : b));

export const senderReportArb: fc.Arbitrary<SenderReport> = withExtension(
  fc.record({
    ssrc: uint32,
    ntpTimestamp: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    rtpTimestamp: uint32,
    packetCount: uint32,
    octetCount: uint32,
    reports,
  }),
);

export const receiverReportArb: fc.Arbitrary<ReceiverReport> = withExtension(fc.record({ ssrc: uint32, reports }));

// Full Unicode strings whose UTF-8 form fits an item (fast-check 'grapheme' units are well-formed, no lone surrogates).
const text = (maxBytes: number): fc.Arbitrary<string> =>
  fc
    .string({ unit: 'grapheme', maxLength: 40 })
    .filter((s) => new TextEncoder().encode(s).length <= maxBytes);

const sdesItemArb: fc.Arbitrary<SdesItem> = fc.oneof(
  fc.record({ type: fc.integer({ min: 1, max: 255 }).filter((t) => t !== 8), text: text(255) }),
  fc.record({ type: fc.constant(8), prefix: text(100), text: text(100) }),
);

const sdesChunkArb: fc.Arbitrary<SdesChunk> = fc.record({ source: uint32, items: fc.array(sdesItemArb, { maxLength: 4 }) });

export const sourceDescriptionArb: fc.Arbitrary<SourceDescription> = fc.record({
  chunks: fc.array(sdesChunkArb, { maxLength: 5 }),
});

export const goodbyeArb: fc.Arbitrary<Goodbye> = fc
  .tuple(fc.array(uint32, { maxLength: 31 }), fc.option(text(255), { nil: undefined }))
  .map(([sources, reason]) => (reason === undefined ? { sources } : { sources, reason }));

export const applicationDefinedArb: fc.Arbitrary<ApplicationDefined> = fc.record({
  subtype: fc.integer({ min: 0, max: 31 }),
  ssrc: uint32,
  name: fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), minLength: 4, maxLength: 4 }),
  data: words4,
});

/** A valid packet of an unknown type (205–223 but not 200–204), bytes consistent with its header. */
const unknownArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(fc.integer({ min: 205, max: 223 }), fc.integer({ min: 0, max: 31 }), words4)
  .map(([packetType, count, body]) => {
    const bytes = new Uint8Array(4 + body.length);
    bytes[0] = 0x80 | count;
    bytes[1] = packetType;
    bytes[3] = bytes.length / 4 - 1;
    bytes.set(body, 4);
    return { type: 'unknown' as const, packetType, bytes };
  });

/** A compound that satisfies every §6.1 rule: SR/RR, optional extra RRs, SDES with a CNAME, others, BYE last. */
export const validCompoundArb: fc.Arbitrary<RtcpPacket[]> = fc
  .tuple(
    fc.oneof(
      senderReportArb.map((v): RtcpPacket => ({ type: 'sr', ...v })),
      receiverReportArb.map((v): RtcpPacket => ({ type: 'rr', ...v })),
    ),
    fc.array(receiverReportArb.map((v): RtcpPacket => ({ type: 'rr', ...v })), { maxLength: 2 }),
    fc.tuple(uint32, text(255), sourceDescriptionArb),
    fc.array(
      fc.oneof(applicationDefinedArb.map((v): RtcpPacket => ({ type: 'app', ...v })), unknownArb),
      { maxLength: 2 },
    ),
    fc.option(goodbyeArb.map((v): RtcpPacket => ({ type: 'bye', ...v })), { nil: undefined }),
  )
  .map(([first, rrs, [source, cname, sdes], others, bye]) => [
    first,
    ...rrs,
    { type: 'sdes' as const, chunks: [{ source, items: [{ type: 1, text: cname }] }, ...sdes.chunks].slice(0, 31) },
    ...others,
    ...(bye === undefined ? [] : [bye]),
  ]);

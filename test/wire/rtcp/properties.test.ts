import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeApplicationDefined, encodeApplicationDefined } from '../../../src/wire/rtcp/app.js';
import { decodeGoodbye, encodeGoodbye } from '../../../src/wire/rtcp/bye.js';
import { decodeCompound, encodeCompound, validateCompound } from '../../../src/wire/rtcp/compound.js';
import { decodeRtcpHeader } from '../../../src/wire/rtcp/header.js';
import { decodeReceiverReport, encodeReceiverReport } from '../../../src/wire/rtcp/receiverReport.js';
import { decodeReportBlock, encodeReportBlock } from '../../../src/wire/rtcp/reportBlock.js';
import { decodeSourceDescription, encodeSourceDescription } from '../../../src/wire/rtcp/sdes.js';
import { decodeSenderReport, encodeSenderReport } from '../../../src/wire/rtcp/senderReport.js';
import {
  applicationDefinedArb,
  decodesOrThrowsOurs,
  goodbyeArb,
  receiverReportArb,
  reportBlockArb,
  senderReportArb,
  sourceDescriptionArb,
  validCompoundArb,
} from './helpers.js';

const decoders = {
  decodeCompound: (b: Uint8Array) => decodeCompound(b),
  decodeCompoundLoose: (b: Uint8Array) => decodeCompound(b, { strict: false }),
  decodeRtcpHeader: (b: Uint8Array) => decodeRtcpHeader(b),
  decodeReportBlock: (b: Uint8Array) => decodeReportBlock(b),
  decodeSenderReport,
  decodeReceiverReport,
  decodeSourceDescription,
  decodeGoodbye,
  decodeApplicationDefined,
};

/** Valid encodings, then damaged: a byte changed, a tail cut off or bytes appended; plus plain random bytes. */
const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc
    .tuple(fc.uint8Array({ minLength: 4, maxLength: 96 }), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 200, max: 207 }))
    .map(([b, count, pt]) => {
      // A plausible header whose length field is close to the truth, to get past the first checks.
      const out = Uint8Array.from(b);
      out[0] = 0x80 | ((b[0] ?? 0) & 0x20) | count;
      out[1] = pt;
      out[2] = 0;
      out[3] = Math.max(0, (out.length >> 2) - 1 + ((b[3] ?? 0) % 3) - 1);
      return out;
    }),
  fc
    .tuple(validCompoundArb, fc.nat(), fc.nat({ max: 255 }), fc.integer({ min: -8, max: 8 }))
    .map(([packets, position, value, resize]) => {
      const bytes = encodeCompound(packets);
      const damaged = Uint8Array.from(bytes);
      damaged[position % damaged.length] = value;
      if (resize < 0) return damaged.subarray(0, Math.max(0, damaged.length + resize));
      const grown = new Uint8Array(damaged.length + resize);
      grown.set(damaged);
      return grown;
    }),
);

describe('RTCP properties', () => {
  it.each(Object.entries(decoders))('%s either decodes or throws KookRtpError, for any bytes', (_name, decode) => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        decodesOrThrowsOurs(() => decode(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips arbitrary report blocks', () => {
    fc.assert(
      fc.property(reportBlockArb, (v) => {
        expect(decodeReportBlock(encodeReportBlock(v))).toEqual(v);
      }),
    );
  });

  it('round-trips arbitrary sender reports', () => {
    fc.assert(
      fc.property(senderReportArb, (v) => {
        const bytes = encodeSenderReport(v);
        expect(decodeSenderReport(bytes)).toEqual(v);
        expect(encodeSenderReport(decodeSenderReport(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips arbitrary receiver reports', () => {
    fc.assert(
      fc.property(receiverReportArb, (v) => {
        const bytes = encodeReceiverReport(v);
        expect(decodeReceiverReport(bytes)).toEqual(v);
        expect(encodeReceiverReport(decodeReceiverReport(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips arbitrary source descriptions', () => {
    fc.assert(
      fc.property(sourceDescriptionArb, (v) => {
        const bytes = encodeSourceDescription(v);
        expect(bytes.length % 4).toBe(0);
        expect(decodeSourceDescription(bytes)).toEqual(v);
        expect(encodeSourceDescription(decodeSourceDescription(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips arbitrary goodbyes', () => {
    fc.assert(
      fc.property(goodbyeArb, (v) => {
        const bytes = encodeGoodbye(v);
        expect(decodeGoodbye(bytes)).toEqual(v);
        expect(encodeGoodbye(decodeGoodbye(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips arbitrary APP packets', () => {
    fc.assert(
      fc.property(applicationDefinedArb, (v) => {
        const bytes = encodeApplicationDefined(v);
        expect(decodeApplicationDefined(bytes)).toEqual(v);
        expect(encodeApplicationDefined(decodeApplicationDefined(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips arbitrary valid compounds, which validate cleanly', () => {
    fc.assert(
      fc.property(validCompoundArb, (packets) => {
        expect(validateCompound(packets)).toEqual([]);
        const bytes = encodeCompound(packets);
        const decoded = decodeCompound(bytes);
        expect(decoded).toEqual(packets);
        expect(encodeCompound(decoded)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});

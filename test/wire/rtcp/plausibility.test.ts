import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reportBlockPlausibility, type ReportPlausibilityContext } from '../../../src/wire/rtcp/plausibility.js';
import { MAX_CUMULATIVE_LOST, MIN_CUMULATIVE_LOST, type ReportBlock } from '../../../src/wire/rtcp/reportBlock.js';

/** A healthy block: 1 000 packets from sequence 64 000 (one wrap), 5 lost, 10 ms jitter. */
const good: ReportBlock = { ssrc: 1111, fractionLost: 3, cumulativeLost: 5, highestSequence: 0x1_0000 + 64_999 - 65_536, jitter: 480, lastSenderReport: 0x1234_5678, delaySinceLastSenderReport: 0x8000 };

describe('reportBlockPlausibility', () => {
  it.each<{ name: string; block: Partial<ReportBlock>; ctx: ReportPlausibilityContext; reasons: number }>([
    { name: 'a healthy block', block: {}, ctx: { rttMs: 40, packetsSent: 1000 }, reasons: 0 },
    { name: 'no context at all', block: {}, ctx: {}, reasons: 0 },
    { name: 'duplicates (negative loss) within the packets sent', block: { cumulativeLost: -3 }, ctx: { packetsSent: 1000 }, reasons: 0 },
    { name: 'RTT exactly at the bound', block: {}, ctx: { rttMs: 60_000 }, reasons: 0 },
    { name: 'RTT 0 (clock rounding)', block: {}, ctx: { rttMs: 0 }, reasons: 0 },
    { name: 'jitter exactly 10 s at 48 kHz', block: { jitter: 480_000 }, ctx: {}, reasons: 0 },
    { name: 'one wrap reachable from a high start', block: { highestSequence: 0x1_0005 }, ctx: { packetsSent: 10 }, reasons: 0 },
    // The hostile-input campaign's figures.
    { name: 'RTT 18 328 678 ms', block: {}, ctx: { rttMs: 18_328_678 }, reasons: 1 },
    { name: 'cumulative loss -8 388 608 for 1 000 packets', block: { cumulativeLost: MIN_CUMULATIVE_LOST }, ctx: { packetsSent: 1000 }, reasons: 1 },
    { name: 'cumulative loss 8 388 607 for 1 000 packets', block: { cumulativeLost: MAX_CUMULATIVE_LOST }, ctx: { packetsSent: 1000 }, reasons: 1 },
    { name: 'loss one over the packets sent', block: { cumulativeLost: 1001 }, ctx: { packetsSent: 1000 }, reasons: 1 },
    { name: 'duplicates one over the packets sent', block: { cumulativeLost: -1001 }, ctx: { packetsSent: 1000 }, reasons: 1 },
    { name: 'RTT NaN', block: {}, ctx: { rttMs: Number.NaN }, reasons: 1 },
    { name: 'RTT negative', block: {}, ctx: { rttMs: -1 }, reasons: 1 },
    { name: 'RTT one ms over a custom bound', block: {}, ctx: { rttMs: 2001, maxRttMs: 2000 }, reasons: 1 },
    { name: 'jitter 0xffffffff', block: { jitter: 0xffff_ffff }, ctx: {}, reasons: 1 },
    { name: 'two wraps from 10 packets', block: { highestSequence: 0x2_0000 }, ctx: { packetsSent: 10 }, reasons: 1 },
    { name: 'everything at once', block: { cumulativeLost: MIN_CUMULATIVE_LOST, jitter: 0xffff_ffff, highestSequence: 0xffff_ffff }, ctx: { rttMs: 18_328_678, packetsSent: 100 }, reasons: 4 },
  ])('$name: $reasons reason(s)', ({ block, ctx, reasons }) => {
    const r = reportBlockPlausibility({ ...good, ...block }, ctx);
    expect(r.reasons).toHaveLength(reasons);
    expect(r.plausible).toBe(reasons === 0);
  });

  it('never flags what an honest receiver of n packets can report, and never throws', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 480_000 }),
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        (n, start, lostPct, jitter, rttMs) => {
          const lost = Math.floor((n * lostPct) / 100);
          const highestSequence = (start + n - 1) >>> 0;
          expect(reportBlockPlausibility({ ...good, cumulativeLost: Math.min(lost, MAX_CUMULATIVE_LOST), highestSequence, jitter }, { rttMs, packetsSent: n }).plausible).toBe(true);
        },
      ),
      { seed: 0x6b6f6f6b, numRuns: 500 },
    );
  });
});

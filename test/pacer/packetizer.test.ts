import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpPacketizer } from '../../src/pacer/packetizer.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { RtpSequencer } from '../../src/wire/rtp/sequencer.js';

describe('RtpPacketizer', () => {
  it('writes header fields and the payload, and counts packets and payload octets for the SR', () => {
    const p = new RtpPacketizer({ ssrc: 0xdeadbeef, payloadType: 111, sequencer: RtpSequencer.fixed(7, 1000) });
    const bytes = p.packetize(Uint8Array.of(1, 2, 3), 960, true);
    expect(Array.from(bytes.subarray(0, 12))).toEqual([
      0x80, 0xef, 0x00, 0x07, // V=2, M=1 + PT=111, seq 7
      0x00, 0x00, 0x03, 0xe8, // timestamp 1000
      0xde, 0xad, 0xbe, 0xef, // SSRC
    ]);
    expect(Array.from(bytes.subarray(12))).toEqual([1, 2, 3]);
    expect(p.packetCount).toBe(1);
    expect(p.octetCount).toBe(3);
    expect(p.lastTimestamp).toBe(1000);
    expect(p.sequencer.timestamp).toBe(1960);
  });

  it('skip() advances the timestamp by rounded samples without a packet', () => {
    const p = new RtpPacketizer({ ssrc: 1, payloadType: 111, sequencer: RtpSequencer.fixed(0, 0) });
    p.skip(100.4);
    p.skip(-5);
    expect(p.sequencer.timestamp).toBe(100);
    expect(p.packetCount).toBe(0);
  });

  it.each([
    { ssrc: -1, payloadType: 111 },
    { ssrc: 2 ** 32, payloadType: 111 },
    { ssrc: 1, payloadType: 128 },
  ])('rejects ssrc $ssrc / payloadType $payloadType with INVALID_ARGUMENT', (o) => {
    expect(() => new RtpPacketizer(o)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('property: sequence +1 and timestamp +samples per packet, across both wraps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.constantFrom(120, 240, 480, 960, 1920, 2880), { minLength: 2, maxLength: 200 }),
        (seq, ts, durations) => {
          const p = new RtpPacketizer({ ssrc: 5, payloadType: 111, sequencer: RtpSequencer.fixed(seq, ts) });
          let prev = decodeRtpPacket(p.packetize(Uint8Array.of(0xf8), durations[0] ?? 960, false));
          for (let i = 1; i < durations.length; i++) {
            const cur = decodeRtpPacket(p.packetize(Uint8Array.of(0xf8), durations[i] ?? 960, false));
            expect(cur.sequenceNumber).toBe((prev.sequenceNumber + 1) & 0xffff);
            expect(cur.timestamp).toBe((prev.timestamp + (durations[i - 1] ?? 0)) >>> 0);
            prev = cur;
          }
        },
      ),
    );
  });
});

/**
 * Speed of the wire formats: RTP header writes, full RTP encode/decode, Opus TOC parsing, RTCP compound (SR + SDES)
 * encode/decode and BYE, in packets (operations) per second.
 *
 * Run: npx tsx bench/wire.ts [--quick]
 */

import b from 'benny';
import { decodeRtpPacket, encodeRtpPacket, encodeRtpPacketInto, writeRtpHeader, type RtpPacket } from '../src/wire/rtp/packet.js';
import { parseOpusToc } from '../src/wire/opus/toc.js';
import { decodeCompound, encodeCompound, type RtcpPacket } from '../src/wire/rtcp/compound.js';

const quick = process.argv.includes('--quick');
/** benny per-case budget: short in --quick runs (npm run bench -- --quick must finish in a minute). */
const caseOptions = quick ? { minSamples: 3, maxTime: 0.25 } : { minSamples: 5, maxTime: 2 };

const payload = new Uint8Array(160).fill(0x55);
payload[0] = 0xfc; // CELT FB stereo 20 ms, code 0
const packet: RtpPacket = {
  marker: false, payloadType: 111, sequenceNumber: 1234, timestamp: 960_000, ssrc: 0x3324e723, csrcs: [], padding: 0, payload,
};
const withExtension: RtpPacket = {
  ...packet,
  extension: { profile: 0xbede, data: new Uint8Array(0), elements: [{ id: 1, value: Uint8Array.of(0x90) }] },
};
const bytes = encodeRtpPacket(packet);
const bytesWithExtension = encodeRtpPacket(withExtension);
const buf = new Uint8Array(1500);
const srSdes: RtcpPacket[] = [
  { type: 'sr', ssrc: 0x3324e723, ntpTimestamp: 0xe8a1b2c3_40000000n, rtpTimestamp: 960_000, packetCount: 250, octetCount: 36_924, reports: [] },
  { type: 'sdes', chunks: [{ source: 0x3324e723, items: [{ type: 1, text: 'kook-rtp-0123456789ab' }] }] },
];
const srSdesBytes = encodeCompound(srSdes);
const rrBytes = encodeCompound([
  {
    type: 'rr',
    ssrc: 0x1234,
    reports: [{ ssrc: 0x3324e723, fractionLost: 3, cumulativeLost: 17, highestSequence: 70_000, jitter: 42, lastSenderReport: 0xb2c34000, delaySinceLastSenderReport: 6554 }],
  },
  { type: 'sdes', chunks: [{ source: 0x1234, items: [{ type: 1, text: 'kook-emulator' }] }] },
]);
let seq = 0;

await b.suite(
  'wire formats (ops/s = packets/s)',
  b.add('writeRtpHeader + payload copy', () => {
    seq = (seq + 1) & 0xffff;
    writeRtpHeader(buf, 0, false, 111, seq, 960_000, 0x3324e723);
    buf.set(payload, 12);
  }, caseOptions),
  b.add('encodeRtpPacketInto (plain)', () => encodeRtpPacketInto(packet, buf, 0), caseOptions),
  b.add('encodeRtpPacketInto (one-byte extension)', () => encodeRtpPacketInto(withExtension, buf, 0), caseOptions),
  b.add('decodeRtpPacket (plain)', () => decodeRtpPacket(bytes), caseOptions),
  b.add('decodeRtpPacket (one-byte extension)', () => decodeRtpPacket(bytesWithExtension), caseOptions),
  b.add('parseOpusToc', () => parseOpusToc(payload), caseOptions),
  b.add('RTCP encodeCompound (SR + SDES CNAME)', () => encodeCompound(srSdes), caseOptions),
  b.add('RTCP decodeCompound (SR + SDES CNAME)', () => decodeCompound(srSdesBytes), caseOptions),
  b.add('RTCP decodeCompound (RR with one block + SDES)', () => decodeCompound(rrBytes), caseOptions),
  b.add('RTCP encodeCompound (SR + SDES + BYE)', () => encodeCompound([...srSdes, { type: 'bye', sources: [0x3324e723] }]), caseOptions),
  b.cycle(),
  b.complete(),
);

/**
 * Speed of the RTP wire hot path: header writes, full encode/decode, Opus TOC parsing (operations per second).
 *
 * Run: npx tsx bench/wire-rtp.ts
 */

import b from 'benny';
import { decodeRtpPacket, encodeRtpPacket, encodeRtpPacketInto, writeRtpHeader, type RtpPacket } from '../src/wire/rtp/packet.js';
import { parseOpusToc } from '../src/wire/opus/toc.js';

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
let seq = 0;

await b.suite(
  'RTP wire',
  b.add('writeRtpHeader + payload copy', () => {
    seq = (seq + 1) & 0xffff;
    writeRtpHeader(buf, 0, false, 111, seq, 960_000, 0x3324e723);
    buf.set(payload, 12);
  }),
  b.add('encodeRtpPacketInto (plain)', () => encodeRtpPacketInto(packet, buf, 0)),
  b.add('encodeRtpPacketInto (one-byte extension)', () => encodeRtpPacketInto(withExtension, buf, 0)),
  b.add('decodeRtpPacket (plain)', () => decodeRtpPacket(bytes)),
  b.add('decodeRtpPacket (one-byte extension)', () => decodeRtpPacket(bytesWithExtension)),
  b.add('parseOpusToc', () => parseOpusToc(payload)),
  b.cycle(),
  b.complete(),
);

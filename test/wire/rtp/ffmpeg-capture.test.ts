import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRtpPacket, encodeRtpPacket } from '../../../src/wire/rtp/packet.js';
import { seqAdd, tsAdd } from '../../../src/wire/rtp/sequencer.js';
import { parseOpusToc } from '../../../src/wire/opus/toc.js';
import { classifyPacket } from '../../../src/wire/demux.js';

// Real datagrams captured from ffmpeg's RTP muxer (see fixtures/rtp/capture-ffmpeg.mjs and the "note" field).
interface Capture {
  readonly note: string;
  readonly packets: readonly string[];
}
const opus = JSON.parse(readFileSync(new URL('../../../fixtures/rtp/ffmpeg-opus.json', import.meta.url), 'utf8')) as Capture;
const rtcp = JSON.parse(readFileSync(new URL('../../../fixtures/rtp/ffmpeg-rtcp-sr.json', import.meta.url), 'utf8')) as Capture;
const bytes = opus.packets.map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));

describe('ffmpeg -f rtp capture (libopus, 48 kHz stereo)', () => {
  it('has the fixture and its provenance', () => {
    expect(bytes.length).toBeGreaterThanOrEqual(5);
    expect(opus.note).toMatch(/ffmpeg version .* -acodec libopus .* -f rtp rtp:\/\/127\.0\.0\.1:PORT/);
  });

  it.each(bytes.map((b, i) => [i, b] as const))('packet %i decodes and re-encodes byte for byte', (_i, b) => {
    expect(classifyPacket(b)).toBe('rtp');
    const p = decodeRtpPacket(b);
    // ffmpeg 5.1 uses dynamic PT 97 for Opus, no CSRC/extension/padding, and sets M on every Opus packet.
    expect(p.payloadType).toBe(97);
    expect(p.marker).toBe(true);
    expect(p.csrcs).toEqual([]);
    expect(p.extension).toBeUndefined();
    expect(p.padding).toBe(0);
    expect(encodeRtpPacket(p)).toEqual(b);
    const toc = parseOpusToc(p.payload);
    expect(toc).toMatchObject({ mode: 'celt', bandwidth: 'fb', stereo: true, frameCount: 1, samples: 960, durationMs: 20 });
  });

  it('keeps one SSRC, seq +1 and timestamp +960 from packet to packet', () => {
    const packets = bytes.map(decodeRtpPacket);
    for (let i = 1; i < packets.length; i++) {
      const prev = packets[i - 1]!;
      const cur = packets[i]!;
      expect(cur.ssrc).toBe(prev.ssrc);
      expect(cur.sequenceNumber).toBe(seqAdd(prev.sequenceNumber, 1));
      expect(cur.timestamp).toBe(tsAdd(prev.timestamp, 960));
    }
  });

  it("ffmpeg's RTCP SR is classified as RTCP and names the RTP stream's SSRC", () => {
    const sr = Uint8Array.from(Buffer.from(rtcp.packets[0]!, 'hex'));
    expect(classifyPacket(sr)).toBe('rtcp');
    expect(sr[1]).toBe(200);
    const view = new DataView(sr.buffer, sr.byteOffset, sr.byteLength);
    expect(view.getUint32(4)).toBe(decodeRtpPacket(bytes[0]!).ssrc);
    // The SR's RTP timestamp is the first packet's: ffmpeg sends it just before the first RTP packet.
    expect(view.getUint32(16)).toBe(decodeRtpPacket(bytes[0]!).timestamp);
  });
});

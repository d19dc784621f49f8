/**
 * The CLI's stream as a third party sees it: dumpcap captures the loopback interface while `kook-rtp play --to` pushes
 * to UDP sinks, and tshark's own dissectors and RTP stream analysis judge the capture. RTCP is checked both muxed on the
 * RTP port (RFC 5761) and split onto its own port. The `--pcap` file the CLI writes must equal the live capture.
 *
 * tshark facts relied on (4.0): `-d udp.port==P,rtp` decodes the RTP port and the RTP dissector hands datagrams whose
 * second byte is an RTCP packet type to the RTCP dissector (so no extra preference is needed for a muxed port);
 * `-d udp.port==Q,rtcp` decodes a split RTCP port; `-q -z rtp,streams` prints one row per stream with Lost, the
 * min/mean/max inter-packet delta and an "X" in its last column on sequence or timestamp problems; payload types 100
 * and 101 are claimed by rtpevent by default, so these tests use dynamic types outside them; a malformed packet or a
 * warning-level expert item matches `_ws.malformed || _ws.expert.severity >= warning`. dumpcap writes libpcap with
 * `-P` (its `-F` is tshark-only) and prints "Capturing on 'Loopback: lo'" once the capture is open.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTrack } from '../../src/media/track.js';
import { OPUS_SILENCE_FRAME } from '../../src/wire/opus/toc.js';
import { decodePcap, type PcapUdpRecord } from '../../src/wire/pcap/pcap.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { isRtcp } from '../../src/wire/demux.js';
import {
  canCaptureLo,
  fieldRows,
  fixture,
  hasTshark,
  hex,
  openSinks,
  parseRtpStreams,
  runCliInProcess,
  runCliSpawned,
  startCapture,
  tempDir,
  toolGate,
  tshark,
  tsharkComplaints,
  type TsharkRtpStream,
} from './helpers.js';

const missing = [...(hasTshark ? [] : ['tshark']), ...(canCaptureLo ? [] : ['dumpcap with capture rights on lo'])];
const run = toolGate('the live-capture tests', missing);

interface Scenario {
  readonly name: string;
  readonly label: string;
  readonly mux: boolean;
  readonly spawned: boolean;
  readonly file: string;
  readonly ssrc: number;
  readonly pt: number;
  readonly extra: readonly string[];
  /** The Opus packets the CLI must send unchanged (passthrough), checked against the capture's RTP payloads. */
  readonly passthrough?: { seek: number; roomBitrate: number };
}

interface CaptureResult {
  readonly live: string;
  readonly cliPcap: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly decode: readonly string[];
  readonly sinkCounts: readonly number[];
  readonly cli: { code: number | null; out: string; err: string };
}

let tmp: ReturnType<typeof tempDir>;

async function captureScenario(s: Scenario): Promise<CaptureResult> {
  const sinks = await openSinks(s.mux ? 1 : 2);
  const rtpPort = sinks.ports[0]!;
  const rtcpPort = s.mux ? rtpPort : sinks.ports[1]!;
  const live = join(tmp.dir, `${s.name}-live.pcap`);
  const cliPcap = join(tmp.dir, `${s.name}-cli.pcap`);
  let cli: CaptureResult['cli'];
  try {
    const capture = await startCapture(s.mux ? [rtpPort] : [rtpPort, rtcpPort], live);
    try {
      const to = s.mux ? `rtp://127.0.0.1:${rtpPort}` : `rtp://127.0.0.1:${rtpPort}?rtcpport=${rtcpPort}`;
      const args = ['play', s.file, '--to', to, ...(s.mux ? ['--rtcp-mux'] : []), '--ssrc', String(s.ssrc), '--pt', String(s.pt), '--pcap', cliPcap, '--quiet', ...s.extra];
      cli = s.spawned ? await runCliSpawned(args) : await runCliInProcess(args);
    } finally {
      await capture.stop();
    }
  } finally {
    await sinks.close();
  }
  const decode = ['-d', `udp.port==${rtpPort},rtp`, ...(s.mux ? [] : ['-d', `udp.port==${rtcpPort},rtcp`])];
  return { live, cliPcap, rtpPort, rtcpPort, decode, sinkCounts: [...sinks.received], cli };
}

const scenarios: Scenario[] = [
  {
    name: 'split',
    label: 'spawned bin/kook-rtp.js, MP3 transcoded',
    mux: false,
    spawned: true,
    file: fixture('sine-stereo-44k-vbr.mp3'),
    ssrc: 0xcafe0001,
    pt: 111,
    extra: ['--seek', '1.5'],
  },
  {
    name: 'muxed',
    label: 'in-process runCli, Ogg/Opus passed through',
    mux: true,
    spawned: false,
    file: fixture('sine-opus-48k.ogg'),
    ssrc: 424242,
    pt: 120,
    extra: ['--seek', '1.5', '--bitrate', '96000', '--passthrough', 'always'],
    passthrough: { seek: 1.5, roomBitrate: 96000 },
  },
];

describe.runIf(run)('live loopback capture judged by tshark', () => {
  beforeAll(() => {
    tmp = tempDir('kook-rtp-capture-');
  });
  afterAll(() => tmp.remove());

  it('has tshark and a dumpcap that may capture on lo', () => {
    // Reached without the tools only under CI=true, where their absence is a failure.
    expect(missing, 'the capture tests need these tools (required when CI=true)').toEqual([]);
  });

  describe.each(scenarios)('RTCP $name: $label', (s) => {
    let r: CaptureResult;
    let streams: TsharkRtpStream[];
    let rtpRows: string[][];

    beforeAll(async () => {
      r = await captureScenario(s);
      expect(r.cli.err, 'CLI stderr').toBe('');
      expect(r.cli.code).toBe(0);
      const out = await tshark(['-r', r.live, ...r.decode, '-q', '-z', 'rtp,streams']);
      streams = parseRtpStreams(out.stdout);
      const rows = await tshark(['-r', r.live, ...r.decode, '-Y', 'rtp && !rtcp', '-T', 'fields', '-E', 'separator=|',
        '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.ssrc', '-e', 'rtp.p_type', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.payload']);
      rtpRows = fieldRows(rows.stdout);
    }, 90_000);

    it('tshark sees one RTP stream: the configured SSRC, no loss, no sequence problems, 20 ms apart', () => {
      expect(streams).toHaveLength(1);
      const st = streams[0]!;
      expect(st.ssrc).toBe(s.ssrc);
      expect(st.dstAddress).toBe('127.0.0.1');
      expect(st.dstPort).toBe(r.rtpPort);
      expect(st.lost).toBe(0);
      expect(st.problems).toBe(false);
      expect(st.packets).toBe(rtpRows.length);
      // --seek 1.5 of a 3 s file: about 75 packets of 20 ms.
      expect(st.packets).toBeGreaterThanOrEqual(70);
      expect(st.packets).toBeLessThanOrEqual(90);
      expect(st.meanDeltaMs).toBeGreaterThanOrEqual(19);
      expect(st.meanDeltaMs).toBeLessThanOrEqual(21);
    });

    it('every RTP packet carries the payload type and SSRC, sequence +1 and timestamp +960 each', () => {
      const srcPort = rtpRows[0]![0];
      let prev: { seq: number; ts: number } | undefined;
      for (const [src, dst, ssrc, pt, seq, ts] of rtpRows) {
        expect(src).toBe(srcPort);
        expect(Number(dst)).toBe(r.rtpPort);
        expect(Number.parseInt(ssrc!, 16)).toBe(s.ssrc);
        expect(Number(pt)).toBe(s.pt);
        const cur = { seq: Number(seq), ts: Number(ts) };
        if (prev) {
          expect(cur.seq).toBe((prev.seq + 1) & 0xffff);
          expect((cur.ts - prev.ts) >>> 0).toBe(960);
        }
        prev = cur;
      }
      // The sink read every datagram sent to it (RTP, plus RTCP when muxed).
      const rtcpCount = decodePcap(new Uint8Array(readFileSync(r.live))).records.filter((x) => isRtcp(x.payload)).length;
      expect(r.sinkCounts[0]).toBe(rtpRows.length + (s.mux ? rtcpCount : 0));
      if (!s.mux) expect(r.sinkCounts[1]).toBe(rtcpCount);
    });

    it('tshark dissects RTCP: SR+SDES first, SR+SDES+BYE last, counts matching the RTP it saw', async () => {
      const out = await tshark(['-r', r.live, ...r.decode, '-Y', 'rtcp', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,',
        '-e', 'frame.number', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtcp.pt', '-e', 'rtcp.senderssrc',
        '-e', 'rtcp.sender.packetcount', '-e', 'rtcp.sender.octetcount', '-e', 'rtcp.sdes.type', '-e', 'rtcp.sdes.text', '-e', 'rtcp.ssrc.identifier']);
      const rows = fieldRows(out.stdout);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const rtpSrc = rtpRows[0]![0]!;
      for (const [, src, dst, pts, senderSsrc, , , sdesTypes, sdesText] of rows) {
        expect(pts!.split(',')[0], 'a compound starts with an SR').toBe('200');
        expect(pts!.split(',')).toContain('202');
        expect(Number.parseInt(senderSsrc!, 16)).toBe(s.ssrc);
        expect(sdesTypes!.split(',')).toContain('1'); // CNAME
        expect(sdesText).toMatch(/\S/);
        expect(Number(dst)).toBe(r.rtcpPort);
        if (s.mux) expect(src, 'muxed RTCP leaves from the RTP socket').toBe(rtpSrc);
        else expect(src, 'split RTCP leaves from its own socket').not.toBe(rtpSrc);
      }
      expect(rows[0]![3]).toBe('200,202');
      const last = rows[rows.length - 1]!;
      expect(last[3]).toBe('200,202,203');
      const totalFrames = fieldRows((await tshark(['-r', r.live, '-T', 'fields', '-e', 'frame.number'])).stdout).length;
      expect(Number(last[0]), 'the BYE is the last datagram of the stream').toBe(totalFrames);
      expect(last[9]!.split(',').map((x) => Number.parseInt(x, 16))).toEqual([s.ssrc, s.ssrc]); // SDES chunk and BYE source
      expect(Number(last[5]), 'final SR packet count').toBe(rtpRows.length);
      const payloadBytes = rtpRows.reduce((n, row) => n + row[6]!.replace(/:/g, '').length / 2, 0);
      expect(Number(last[6]), 'final SR octet count').toBe(payloadBytes);
    });

    it('has no malformed packets and no expert warnings or errors', async () => {
      const bad = await tshark(['-r', r.live, ...r.decode, '-Y', '_ws.malformed || _ws.expert.severity >= warning']);
      expect(bad.stdout.trim()).toBe('');
      const expert = await tshark(['-r', r.live, ...r.decode, '-q', '-z', 'expert']);
      expect(expert.stdout).not.toMatch(/Errors \(|Warns \(/);
      expect(tsharkComplaints(expert.stderr)).toEqual([]);
    });

    it('the --pcap file equals the live capture packet for packet, and tshark reads it alike', async () => {
      const live = decodePcap(new Uint8Array(readFileSync(r.live)));
      const mine = decodePcap(new Uint8Array(readFileSync(r.cliPcap)));
      const view = (recs: readonly PcapUdpRecord[]): string[] => recs.map((x) => `${x.src.address}:${x.src.port}>${x.dst.address}:${x.dst.port} ${hex(x.payload)}`);
      expect(live.records.length).toBeGreaterThan(70);
      expect(view(mine.records)).toEqual(view(live.records));
      expect(mine.skipped).toBe(0);

      const fields = ['-T', 'fields', '-E', 'separator=|', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.length', '-e', 'udp.payload', '-e', '_ws.col.Protocol'];
      const [a, b] = await Promise.all([tshark(['-r', r.live, ...r.decode, ...fields]), tshark(['-r', r.cliPcap, ...r.decode, ...fields])]);
      expect(tsharkComplaints(b.stderr)).toEqual([]);
      expect(b.stdout.length).toBeGreaterThan(0);
      expect(b.stdout).toBe(a.stdout);
      const streamsOfCliPcap = parseRtpStreams((await tshark(['-r', r.cliPcap, ...r.decode, '-q', '-z', 'rtp,streams'])).stdout);
      expect(streamsOfCliPcap.map((x) => [x.ssrc, x.srcPort, x.dstPort, x.packets, x.lost, x.problems])).toEqual(
        streams.map((x) => [x.ssrc, x.srcPort, x.dstPort, x.packets, x.lost, x.problems]),
      );
      const bad = await tshark(['-r', r.cliPcap, ...r.decode, '-Y', '_ws.malformed || _ws.expert.severity >= warning']);
      expect(bad.stdout.trim()).toBe('');
    });

    if (s.passthrough) {
      const pass = s.passthrough;
      it('passthrough: the captured RTP payloads are the Ogg packets of the file, bit for bit', async () => {
        const track = await openTrack(s.file, { seek: pass.seek, passthrough: 'always', roomBitrate: pass.roomBitrate });
        expect(track.info.mode).toBe('passthrough');
        const frames: string[] = [];
        for await (const f of track) frames.push(hex(f.data));
        await track.close();
        const payloads = decodePcap(new Uint8Array(readFileSync(r.live)))
          .records.filter((x) => !isRtcp(x.payload))
          .map((x) => hex(decodeRtpPacket(x.payload).payload));
        expect(payloads.length).toBeGreaterThan(70);
        // The file's packets unchanged, then the sender's end-of-play Opus silence (5 frames, as @discordjs/voice does).
        expect(payloads).toEqual([...frames, ...Array<string>(5).fill(hex(OPUS_SILENCE_FRAME))]);
        // tshark's own view of the payloads agrees with our RTP decoder.
        expect(rtpRows.map((row) => row[6]!.replace(/:/g, ''))).toEqual(payloads);
      });
    }
  });
});

/**
 * ffmpeg as an independent receiver: it opens the SDP that `kook-rtp sdp` prints, receives what `kook-rtp play --to`
 * sends, and either decodes it to PCM (compared with ffmpeg's own decode of the source file by cross-correlation) or
 * copies the Opus packets into Ogg (compared bit for bit with the file's packets and the RTP payloads sent).
 *
 * ffmpeg facts relied on (5.1): an SDP input needs `-protocol_whitelist file,udp,rtp`; ffmpeg binds the m= port for
 * RTP and always port + 1 for RTCP (it ignores `a=rtcp:`), so the tests use rtcpport = port + 1; with `a=rtcp-mux` it
 * still binds both but classifies RTCP arriving on the RTP port by packet type; SIGINT interrupts a blocked read and
 * ffmpeg still finishes the output file (a raw s16le stream, or an Ogg file with its last page), so the tests stop it
 * with SIGINT after the stream's BYE rather than guessing a `-t` duration.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTrack } from '../../src/media/track.js';
import { OggDemuxer } from '../../src/wire/ogg/demuxer.js';
import { OPUS_SILENCE_FRAME } from '../../src/wire/opus/toc.js';
import { decodePcap } from '../../src/wire/pcap/pcap.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { isRtcp } from '../../src/wire/demux.js';
import {
  bestAlignment,
  correlationAt,
  ffmpeg,
  fixture,
  freePortPair,
  hasFfmpeg,
  hex,
  oggOpusAudioPackets,
  readS16StereoAsMono,
  rms,
  runCliInProcess,
  sleep,
  startFfmpegReceiver,
  tempDir,
  toolGate,
} from './helpers.js';

const run = toolGate('the ffmpeg receiver tests', hasFfmpeg ? [] : ['ffmpeg']);
const RATE = 48_000;

let tmp: ReturnType<typeof tempDir>;

/** Prints the receiver's SDP with the CLI and writes it to a file. */
async function writeSdp(name: string, to: string, ssrc: number, pt: number, mux: boolean): Promise<string> {
  const r = await runCliInProcess(['sdp', '--to', to, '--ssrc', String(ssrc), '--pt', String(pt), ...(mux ? ['--rtcp-mux'] : [])]);
  expect(r.code).toBe(0);
  expect(r.out).toContain(`m=audio ${new URL(to).port} RTP/AVP ${pt}`);
  expect(r.out).toContain(`a=rtpmap:${pt} opus/48000/2`);
  const file = join(tmp.dir, `${name}.sdp`);
  writeFileSync(file, r.out);
  return file;
}

/** Starts ffmpeg on the SDP, plays with the CLI, stops ffmpeg after a grace; returns the CLI result and ffmpeg's log. */
async function receive(
  sdp: string,
  port: number,
  output: readonly string[],
  play: readonly string[],
): Promise<{ cli: { code: number; out: string; err: string }; ffmpeg: { code: number | null; log: string } }> {
  const receiver = await startFfmpegReceiver(sdp, [port, port + 1], output);
  let cli: { code: number; out: string; err: string };
  try {
    cli = await runCliInProcess(play);
    // Let ffmpeg drain its socket buffers and jitter queue before it is interrupted.
    await sleep(1000);
  } catch (err) {
    await receiver.stop();
    throw err;
  }
  return { cli, ffmpeg: await receiver.stop() };
}

describe.runIf(run)('ffmpeg receives the CLI stream from its SDP', () => {
  beforeAll(() => {
    tmp = tempDir('kook-rtp-ffmpeg-');
  });
  afterAll(() => tmp.remove());

  it('has ffmpeg', () => {
    // Reached without ffmpeg only under CI=true, where its absence is a failure.
    expect(hasFfmpeg, 'the ffmpeg receiver tests need ffmpeg (required when CI=true)').toBe(true);
  });

  it('transcode (split RTCP): the PCM ffmpeg decodes matches the source after alignment (correlation >= 0.9)', async () => {
    const port = await freePortPair();
    const to = `rtp://127.0.0.1:${port}?rtcpport=${port + 1}`;
    const sdp = await writeSdp('transcode', to, 0x51c0ffee, 111, false);
    expect(readFileSync(sdp, 'utf8')).toContain(`a=rtcp:${port + 1}\r\n`);
    const received = join(tmp.dir, 'received.raw');
    const reference = join(tmp.dir, 'reference.raw');
    const seek = 6.5;
    const source = fixture('speech.ogg');
    const r = await receive(sdp, port, ['-f', 's16le', '-ac', '2', '-ar', String(RATE), '-y', received], [
      'play', source, '--to', to, '--ssrc', String(0x51c0ffee), '--pt', '111', '--seek', String(seek), '--quiet',
    ]);
    expect(r.cli.err).toBe('');
    expect(r.cli.code).toBe(0);
    expect(r.ffmpeg.log).toMatch(/Stream #0:0: Audio: opus, 48000 Hz, stereo/);
    await ffmpeg(['-ss', String(seek), '-i', source, '-f', 's16le', '-ac', '2', '-ar', String(RATE), '-y', reference]);

    const got = readS16StereoAsMono(received);
    const want = readS16StereoAsMono(reference);
    // 8.5 s of speech from 6.5 s: 2 s sent (plus 100 ms of end-of-play silence).
    expect(want.length / RATE).toBeGreaterThan(1.8);
    expect(got.length / RATE).toBeGreaterThan(1.8);
    expect(got.length / RATE).toBeLessThan(2.6);
    expect(rms(got)).toBeGreaterThan(0.01);
    const { lag, correlation } = bestAlignment(want, got, Math.round(0.4 * RATE));
    expect(correlation, `correlation ${correlation.toFixed(4)} at lag ${lag}`).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(lag)).toBeLessThan(0.3 * RATE);
    // The alignment means something: the same signal shifted by 50 ms no longer matches.
    const off = correlationAt(want, got, lag + Math.round(0.05 * RATE), 1);
    expect(off).toBeLessThan(0.5);
  }, 90_000);

  it('passthrough (RTCP muxed): ffmpeg -c:a copy writes the very Opus packets of the file, as does --pcap', async () => {
    const port = await freePortPair();
    const to = `rtp://127.0.0.1:${port}`;
    const sdp = await writeSdp('passthrough', to, 777, 111, true);
    expect(readFileSync(sdp, 'utf8')).toContain('a=rtcp-mux');
    const ogg = join(tmp.dir, 'copy.ogg');
    const pcap = join(tmp.dir, 'passthrough.pcap');
    const source = fixture('sine-opus-48k.ogg');
    const seek = 1.5;
    const r = await receive(sdp, port, ['-c:a', 'copy', '-f', 'ogg', '-y', ogg], [
      'play', source, '--to', to, '--rtcp-mux', '--ssrc', '777', '--pt', '111', '--seek', String(seek),
      '--passthrough', 'always', '--bitrate', '96000', '--pcap', pcap, '--quiet',
    ]);
    expect(r.cli.err).toBe('');
    expect(r.cli.code).toBe(0);

    const track = await openTrack(source, { seek, passthrough: 'always', roomBitrate: 96000 });
    expect(track.info.mode).toBe('passthrough');
    const frames: string[] = [];
    for await (const f of track) frames.push(hex(f.data));
    await track.close();
    const expected = [...frames, ...Array<string>(5).fill(hex(OPUS_SILENCE_FRAME))];

    const sent = decodePcap(new Uint8Array(readFileSync(pcap)))
      .records.filter((x) => !isRtcp(x.payload))
      .map((x) => hex(decodeRtpPacket(x.payload).payload));
    expect(sent).toEqual(expected);

    const demux = new OggDemuxer();
    const packets = demux.push(new Uint8Array(readFileSync(ogg))).map((p) => p.data);
    demux.end();
    expect(packets.length).toBeGreaterThan(2);
    const copied = oggOpusAudioPackets(packets).map(hex);
    expect(copied.length).toBeGreaterThan(70);
    expect(copied).toEqual(expected);
  }, 90_000);
});

import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeError, normalizeArgs, opusBackendLine, type StatsDocument } from '../../src/cli/main.js';
import { runCliInProcess } from '../helpers.js';
import { parseRtpUrl } from '../../src/cli/target.js';
import { formatTime, progressLine } from '../../src/cli/output.js';
import { probe } from '../../src/media/probe.js';
import { decodePcap } from '../../src/wire/pcap/pcap.js';
import { isRtcp } from '../../src/wire/demux.js';
import { OggDemuxer } from '../../src/wire/ogg/demuxer.js';
import { createOpusDecoder } from '../../src/media/opus/decoder.js';
import { toneDb, toneWav } from '../engine/wire.js';

const F = (name: string): string => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

const run = runCliInProcess;

describe('parseRtpUrl', () => {
  it.each([
    { url: 'rtp://127.0.0.1:5004', mux: undefined, expected: { host: '127.0.0.1', port: 5004, rtcpPort: 5005, rtcpMux: false } },
    { url: 'rtp://127.0.0.1:5004?rtcpport=6000', mux: undefined, expected: { host: '127.0.0.1', port: 5004, rtcpPort: 6000, rtcpMux: false } },
    { url: 'rtp://127.0.0.1:5004', mux: true, expected: { host: '127.0.0.1', port: 5004, rtcpPort: 5004, rtcpMux: true } },
    { url: 'rtp://[::1]:5004?rtcpport=5004', mux: undefined, expected: { host: '::1', port: 5004, rtcpPort: 5004, rtcpMux: true } },
  ])('parses $url', ({ url, mux, expected }) => {
    expect(parseRtpUrl(url, mux)).toEqual(expected);
  });

  it.each(['http://x:1', 'rtp://host', 'rtp://h:70000', 'rtp://h:5004?rtcpport=0', 'not a url', 'rtp://h:65535'])('rejects %s with USAGE', (url) => {
    expect(() => parseRtpUrl(url)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('output helpers', () => {
  it('formats time and the progress line', () => {
    expect(formatTime(0)).toBe('0:00');
    expect(formatTime(75.9)).toBe('1:15');
    expect(formatTime(3725)).toBe('1:02:05');
    expect(progressLine({ positionSec: 30, durationSec: 60, bitrateBps: 46000, limitBps: 48000, title: 't' }, 10)).toBe(
      '[#####.....] 0:30/1:00  46.0/48.0 kbps (96%)  t',
    );
  });
});

describe('kook-rtp CLI', () => {
  it('plays into the built-in emulator and prints its report; writes --stats-json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-cli-'));
    const statsFile = join(dir, 'stats.json');
    const r = await run(['play', F('sine-s16-44k.wav'), F('sine-opus-48k.ogg'), '--seek', '0.2', '--stats-json', statsFile]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('KOOK emulator report');
    expect(r.out).toMatch(/lost 0,/);
    // Which Opus encoder is in use, as the README's Set-up says npm start prints it.
    expect(r.out).toMatch(/^Opus encoder: (native \(@discordjs\/opus\)|opusscript \(WebAssembly; the native module did not load.*\))$/m);
    const doc = JSON.parse(readFileSync(statsFile, 'utf8')) as StatsDocument;
    expect(doc.schema).toBe('kook-rtp/stats@1');
    expect(doc.target.kind).toBe('emulator');
    expect(doc.tracks.map((t) => t.reason)).toEqual(['finished', 'finished']);
    expect(doc.emulator?.lost).toBe(0);
    expect(doc.emulator?.droppedFromOtherSources).toBe(0);
    expect(doc.emulator?.kicked).toBeUndefined();
    expect(doc.emulator?.packets).toBe(doc.sender?.packetsSent);
    // The guard held the room's rate as the emulator measured it (RTP bytes, any 1 s window).
    expect(doc.emulator!.maxBitrate1s).toBeLessThanOrEqual(doc.target.bitrate * 1.2);
  });

  it('exits 1 with a one-line reason when a track fails, and still plays the rest', async () => {
    const r = await run(['play', F('garbage.mp3'), F('sine-s16-44k.wav'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kook-rtp: (INVALID_INPUT|UNSUPPORTED_FORMAT): 1 of 2 track\(s\) did not play; .*garbage\.mp3: /);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run(['play'])).code).toBe(2);
    expect((await run(['play', 'x', '--bogus'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    const r = await run(['play', F('sine-s16-44k.wav'), '--channel', '1', '--to', 'rtp://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kook-rtp: USAGE: /);
  });

  it('pushes to a plain RTP endpoint with --to, writing --pcap and --record files that match what was sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-cli-'));
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    const got: Buffer[] = [];
    let rtcpCount = 0;
    rtp.on('message', (m) => got.push(m));
    rtcp.on('message', (m) => {
      if (isRtcp(m)) rtcpCount++;
    });
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', r));
    const rtpPort = rtp.address().port;
    const url = `rtp://127.0.0.1:${rtpPort}?rtcpport=${rtcp.address().port}`;
    const pcap = join(dir, 'out.pcap');
    const ogg = join(dir, 'out.ogg');
    const r = await run(['play', F('sine-opus-48k.ogg'), '--seek', '2', '--to', url, '--ssrc', '77', '--pt', '100', '--pcap', pcap, '--record', ogg, '--json']);
    await new Promise((res) => setTimeout(res, 100));
    rtp.close();
    rtcp.close();
    expect(r.code).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toContain('trackEnd');
    expect(got.length).toBeGreaterThan(40);
    expect(rtcpCount).toBeGreaterThanOrEqual(2); // SR at the start and the BYE
    expect(got.every((m) => (m[1]! & 0x7f) === 100 && m.readUInt32BE(8) === 77)).toBe(true);
    const file = decodePcap(readFileSync(pcap));
    const rtpRecords = file.records.filter((rec) => rec.dst.port === rtpPort);
    expect(rtpRecords.length).toBe(got.length);
    rtpRecords.forEach((rec, i) => expect(Buffer.from(rec.payload).equals(got[i]!)).toBe(true));
    expect(file.records.some((rec) => rec.dst.port !== rtpPort)).toBe(true);
    const info = await probe(ogg);
    expect(info.container).toBe('ogg');
    expect(info.codec).toBe('opus');
  });

  it('mixes: --overlay FILE@S over the music (recorded), --normalize and --crossfade; only the tracks are reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-cli-'));
    const music = join(dir, 'music.wav');
    const clip = join(dir, 'clip.wav');
    writeFileSync(music, toneWav(2, [[440, 0.25]]));
    writeFileSync(clip, toneWav(1, [[1500, 0.25]]));
    const ogg = join(dir, 'out.ogg');
    const statsFile = join(dir, 'stats.json');
    const r = await run(['play', music, music, '--overlay', `${clip}@0.5`, '--normalize', '--crossfade', '300', '--record', ogg, '--stats-json', statsFile, '--json']);
    expect(r.code).toBe(0);
    const events = r.out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'overlay')).toHaveLength(1);
    const doc = JSON.parse(readFileSync(statsFile, 'utf8')) as StatsDocument;
    expect(doc.tracks.map((t) => t.reason)).toEqual(['finished', 'finished']);
    // What was sent: the clip's tone in 1 s of it, the music's through all of it (ducked under the clip).
    const demux = new OggDemuxer();
    const packets = demux.push(new Uint8Array(readFileSync(ogg))).slice(2).map((p) => p.data);
    const dec = createOpusDecoder();
    const frames = packets.map((p) => {
      const pcm = dec.decode(p);
      const x = new Float32Array(pcm.length / 2);
      for (let i = 0; i < x.length; i++) x[i] = (pcm[2 * i] as number) / 32768;
      return x;
    });
    dec.close();
    const withClip = frames.filter((f) => toneDb(f, 1500) > -30).length;
    const withMusic = frames.filter((f) => toneDb(f, 440) > -40).length;
    // 2 + 2 s less the 0.3 s crossfade: 185 frames of music.
    expect(Math.abs(withClip - 50)).toBeLessThanOrEqual(3);
    expect(Math.abs(withMusic - 185)).toBeLessThanOrEqual(5);
  });

  it('prints an SDP for --to', async () => {
    const r = await run(['sdp', '--to', 'rtp://127.0.0.1:5004?rtcpport=5005', '--ssrc', '1111', '--pt', '111']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('m=audio 5004 RTP/AVP 111\r\n');
    expect(r.out).toContain('a=rtcp:5005\r\n');
  });

  it('probes an input as JSON', async () => {
    const r = await run(['probe', F('sine-mono-22k-id3.mp3')]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as { container: string; sampleRate: number; channels: number };
    expect(info).toMatchObject({ container: 'mp3', sampleRate: 22050, channels: 1 });
  });

  it('as a process through an npm-style bin symlink (a name with no .js), it runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-bin-'));
    const link = join(dir, 'kook-rtp');
    symlinkSync(join(ROOT, 'bin/kook-rtp.js'), link);
    const r = spawnSync(process.execPath, [link, 'sdp', '--to', 'rtp://127.0.0.1:5004'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('m=audio 5004 RTP/AVP 111');
  });

  it('as a process: exit status and no stack trace without --verbose', () => {
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/kook-rtp.js'), 'play', F('empty.mp3'), '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = spawnSync(process.execPath, [join(ROOT, 'bin/kook-rtp.js'), 'play'], { encoding: 'utf8', timeout: 60_000 });
    expect(usage.status).toBe(2);
  });
});

describe('kook-rtp CLI: mistakes caught before anything plays', () => {
  const missing = (): string => join(mkdtempSync(join(tmpdir(), 'kook-rtp-out-')), 'no-such-folder');

  it.each(['--stats-json', '--pcap', '--record'])('%s into a missing folder: exit 2, a USAGE line naming the path, nothing played', async (flag) => {
    const path = join(missing(), 'out.file');
    const r = await run(['play', F('sine-s16-44k.wav'), flag, path]);
    expect(r.code).toBe(2);
    expect(r.out).toBe(''); // no emulator started, no report
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^kook-rtp: USAGE: /);
    expect(r.err).toContain(path);
    expect(r.err).toContain(flag);
  });

  it('an output path that is a folder is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-out-'));
    const r = await run(['play', F('sine-s16-44k.wav'), '--pcap', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kook-rtp: USAGE: --pcap .*folder/);
  });

  it('a missing input fails before the emulator starts, with no empty report', async () => {
    const r = await run(['play', F('sine-s16-44k.wav'), '/nonexistent/track.mp3']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^kook-rtp: USAGE: input \/nonexistent\/track\.mp3 does not exist\n$/);
  });

  it.each([
    { args: ['--loop', 'sometimes'], pattern: /^kook-rtp: USAGE: --loop must be off, track or queue, found "sometimes"/ },
    { args: ['--loop=sometimes'], pattern: /^kook-rtp: USAGE: --loop must be off, track or queue, found "sometimes"/ },
    { args: ['--ssrc', '-5'], pattern: /^kook-rtp: USAGE: --ssrc must be an integer 0-4294967295, found "-5"/ },
    { args: ['--pt', '-1'], pattern: /^kook-rtp: USAGE: --pt must be an integer 0-127, found "-1"/ },
  ])('$args: exit 2 with our range message', async ({ args, pattern }) => {
    const r = await run(['play', F('sine-s16-44k.wav'), ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(pattern);
  });

  it.each([
    { args: ['--loop'], loop: 'queue' },
    { args: ['--loop', 'track'], loop: 'track' },
    { args: ['--loop', F('sine-s16-44k.wav')], loop: 'queue' },
  ])('--loop forms: $args', ({ args, loop }) => {
    const n = normalizeArgs(args);
    expect(n[0]).toBe(`--loop=${loop}`);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`kook-rtp ${pkg.version}\n`);
  });

  it('every error line carries a code, Node errors included', () => {
    expect(describeError(Object.assign(new Error("ENOENT: no such file, open 'x'"), { code: 'ENOENT' }))).toBe("ENOENT: ENOENT: no such file, open 'x'");
    expect(describeError(new Error('boom'))).toBe('INTERNAL: boom');
    expect(describeError('text')).toBe('INTERNAL: text');
  });
});

describe('opusBackendLine', () => {
  it.each([
    { b: { backend: 'native' as const }, line: 'Opus encoder: native (@discordjs/opus)' },
    { b: { backend: 'opusscript' as const, nativeError: 'Cannot find module opus.node\n at x' }, line: 'Opus encoder: opusscript (WebAssembly; the native module did not load: Cannot find module opus.node)' },
    { b: { backend: 'opusscript' as const }, line: 'Opus encoder: opusscript (WebAssembly; the native module did not load)' },
  ])('$line', ({ b, line }) => {
    expect(opusBackendLine(b)).toBe(line);
  });
});

/**
 * probe's figures against ffprobe's: the bitrate of Ogg/Opus and Vorbis from the packets (ffprobe's packet sizes
 * summed over the duration), the sample rate of MP4/M4A from the stream; and an Ogg/Opus file with no audio packets.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mp4AudioEntry, oggLayout, probe } from '../../src/media/probe.js';
import { openTrack } from '../../src/media/track.js';
import { runCliInProcess } from '../helpers.js';
import { codeOf, fixture, fixtureBytes, hasFfmpeg } from './helpers.js';

const withFfmpeg = hasFfmpeg || process.env.CI === 'true';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kook-rtp-probe-'));

/** ffprobe's figure: the sum of the packet sizes over the format's duration. */
function ffprobePacketBitrate(path: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_packets', '-show_format', '-of', 'json', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const doc = JSON.parse(out) as { packets: { size: string }[]; format: { duration: string } };
  const bytes = doc.packets.reduce((s, p) => s + Number(p.size), 0);
  return (bytes * 8) / Number(doc.format.duration);
}

function ffprobeSampleRate(path: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=sample_rate', '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim());
}

/** The same audio with a 200 kB comment in its tags (what cover art does to a file's size). */
function withBigTags(file: string): string {
  const dir = tmp();
  const meta = join(dir, 'meta.txt');
  writeFileSync(meta, `;FFMETADATA1\ncomment=${'x'.repeat(200_000)}\n`);
  const out = join(dir, `big-tags-${file}`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', fixture(file), '-i', meta, '-map_metadata', '1', '-c', 'copy', out]);
  return out;
}

describe('probe: bitrate from the packets, as ffprobe sums them', () => {
  it.runIf(withFfmpeg).each([
    'sine-opus-48k.ogg',
    'sine-opus-128k.ogg',
    'sine-opus-60ms.ogg',
    'speech.ogg',
    'steps.ogg',
    'sine-vorbis.ogg', // the header's nominal rate is far above what its packets carry
  ])('%s within 5% of ffprobe', async (file) => {
    const info = await probe(fixture(file));
    const want = ffprobePacketBitrate(fixture(file));
    expect(Math.abs(info.bitrate! - want) / want).toBeLessThan(0.05);
  });

  it.runIf(withFfmpeg).each(['sine-opus-48k.ogg', 'sine-vorbis.ogg'])('%s with 200 kB of tags: tags are not audio', async (file) => {
    const path = withBigTags(file);
    const info = await probe(path);
    const want = ffprobePacketBitrate(path);
    expect(Math.abs(info.bitrate! - want) / want).toBeLessThan(0.05);
  });

  it('oggLayout finds the first audio page and its framing', () => {
    const bytes = fixtureBytes('sine-opus-48k.ogg');
    const layout = oggLayout(bytes);
    expect(layout.audioStart).toBeGreaterThan(0);
    expect(String.fromCharCode(...bytes.subarray(layout.audioStart!, layout.audioStart! + 4))).toBe('OggS');
    expect(layout.audioTotal).toBe(bytes.length - layout.audioStart!); // the whole small file was walked
    expect(layout.audioFraming).toBeGreaterThan(0);
  });
});

describe('probe: the sample rate of MP4/M4A from the stream', () => {
  it.runIf(withFfmpeg)('sine-aac.m4a says what ffprobe says', async () => {
    const info = await probe(fixture('sine-aac.m4a'));
    expect(info.sampleRate).toBe(ffprobeSampleRate(fixture('sine-aac.m4a')));
    expect(info.sampleRate).toBe(44100);
  });

  it.runIf(withFfmpeg).each([
    { rate: 22050, channels: 1, flags: [] as string[] },
    { rate: 96000, channels: 2, flags: [] as string[] }, // above 65535: the sample entry holds 0, mdhd says it
    { rate: 32000, channels: 2, flags: ['-movflags', '+faststart'] },
  ])('$rate Hz, $channels channel(s) $flags: the rate', async ({ rate, channels, flags }) => {
    const path = join(tmp(), `a${rate}.m4a`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=f=440:r=${rate}`, '-t', '0.5', '-ac', String(channels), '-c:a', 'aac', ...flags, path]);
    const info = await probe(path);
    expect(info.sampleRate).toBe(rate);
  });

  it('mp4AudioEntry finds nothing in bytes without a sample entry', () => {
    expect(mp4AudioEntry(fixtureBytes('sine-s16-44k.wav'))).toBeUndefined();
    expect(mp4AudioEntry(new Uint8Array(0))).toBeUndefined();
  });
});

describe('an Ogg/Opus file with its header pages and no audio', () => {
  /** sine-opus-48k.ogg cut before its first audio page. */
  function headersOnly(): Uint8Array {
    const bytes = fixtureBytes('sine-opus-48k.ogg');
    return bytes.slice(0, oggLayout(bytes).audioStart!);
  }

  it('probe and openTrack: INVALID_INPUT, "no audio"', async () => {
    const bytes = headersOnly();
    const err = await probe(bytes).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('INVALID_INPUT');
    expect((err as Error).message).toMatch(/no audio/);
    expect(codeOf(await openTrack(bytes).catch((e: unknown) => e))).toBe('INVALID_INPUT');
  });

  it('the CLI exits 1 with the code, not 0 after 0:00', async () => {
    const path = join(tmp(), 'headers-only.ogg');
    writeFileSync(path, headersOnly());
    const r = await runCliInProcess(['play', path, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kook-rtp: INVALID_INPUT: 1 of 1 track\(s\) did not play; .*no audio/);
  });
});

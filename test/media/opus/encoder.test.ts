import { describe, expect, it } from 'vitest';
import {
  createOpusEncoder,
  opusBackendInfo,
  opusBitrateForRoom,
  type OpusEncoderOptions,
} from '../../../src/media/opus/encoder.js';
import { createOpusDecoder } from '../../../src/media/opus/decoder.js';
import { FRAME_SAMPLES } from '../../../src/media/dsp/framer.js';
import { bestLag } from '../dsp/analysis.js';

const BACKENDS = ['native', 'opusscript'] as const;

/** `frames` 20 ms stereo frames of a sine (same on both sides). */
function sineFrames(freq: number, frames: number, amplitude = 0.5): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const pcm = new Int16Array(FRAME_SAMPLES * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const t = (f * FRAME_SAMPLES + i) / 48_000;
      const v = Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * freq * t));
      pcm[2 * i] = v;
      pcm[2 * i + 1] = v;
    }
    out.push(pcm);
  }
  return out;
}

/** Music-like frames: a chord that moves every 250 ms, a little stereo, plus deterministic noise. */
function musicFrames(frames: number): Int16Array[] {
  let seed = 12345;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const pcm = new Int16Array(FRAME_SAMPLES * 2);
    const root = [220, 247, 262, 294, 330][Math.floor(f / 12.5) % 5]!;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const t = (f * FRAME_SAMPLES + i) / 48_000;
      const chord =
        0.2 * Math.sin(2 * Math.PI * root * t) +
        0.12 * Math.sin(2 * Math.PI * root * 1.26 * t) +
        0.1 * Math.sin(2 * Math.PI * root * 1.5 * t) +
        0.05 * Math.sin(2 * Math.PI * root * 4 * t);
      pcm[2 * i] = Math.round(32767 * (chord + 0.05 * noise()));
      pcm[2 * i + 1] = Math.round(32767 * (0.9 * chord + 0.05 * noise()));
    }
    out.push(pcm);
  }
  return out;
}

function meanBytes(options: OpusEncoderOptions, frames: Int16Array[]): number {
  const enc = createOpusEncoder(options);
  let total = 0;
  for (const f of frames) total += enc.encode(f).length;
  enc.close();
  return total / frames.length;
}

describe('opusBackendInfo', () => {
  it('reports the native addon as loaded on this machine', () => {
    // @discordjs/opus is built from source here; if this fails the fallback would silently cost ~3x CPU.
    expect(opusBackendInfo()).toEqual({ backend: 'native' });
  });
});

describe.each(BACKENDS)('Opus %s backend', (backend) => {
  it('encodes a 440 Hz sine that decodes back with cross-correlation > 0.9', () => {
    const enc = createOpusEncoder({ bitrate: 64_000, backend });
    const dec = createOpusDecoder({ backend });
    expect(enc.backend).toBe(backend);
    expect(dec.backend).toBe(backend);
    const frames = sineFrames(440, 50);
    const decoded: number[] = [];
    const source: number[] = [];
    for (const f of frames) {
      const packet = enc.encode(f);
      expect(packet).toBeInstanceOf(Uint8Array);
      expect(packet.length).toBeGreaterThan(2);
      const pcm = dec.decode(packet);
      expect(pcm.length).toBe(FRAME_SAMPLES * 2);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        decoded.push(pcm[2 * i]!);
        source.push(f[2 * i]!);
      }
    }
    enc.close();
    dec.close();
    // Align the codec delay (Opus look-ahead is 6.5 ms = 312 samples; search up to 20 ms).
    const { lag, r } = bestLag(source, decoded, 960, 40 * FRAME_SAMPLES);
    expect(lag).toBeGreaterThan(0);
    expect(r).toBeGreaterThan(0.9);
  });

  it('setBitrate changes packet sizes: mean size at 16 kbps < at 96 kbps', () => {
    const frames = musicFrames(50);
    const enc = createOpusEncoder({ bitrate: 96_000, backend });
    let high = 0;
    for (const f of frames) high += enc.encode(f).length;
    enc.setBitrate(16_000);
    expect(enc.bitrate).toBe(16_000);
    let low = 0;
    for (const f of frames) low += enc.encode(f).length;
    enc.close();
    expect(low / frames.length).toBeLessThan(high / frames.length / 3);
  });

  it.each([32_000, 64_000, 128_000])('constrained VBR averages within 15%% of %i bps over 5 s of music', (bitrate) => {
    const mean = meanBytes({ bitrate, backend, signal: 'music' }, musicFrames(250));
    const bps = mean * 8 * 50;
    expect(Math.abs(bps - bitrate) / bitrate).toBeLessThan(0.15);
  });

  it('accepts FEC, packet loss, voice signal and low complexity, and the packets still decode', () => {
    const enc = createOpusEncoder({
      bitrate: 24_000,
      backend,
      fec: true,
      packetLossPercent: 20,
      signal: 'voice',
      complexity: 0,
    });
    const dec = createOpusDecoder({ backend });
    for (const f of sineFrames(300, 10)) expect(dec.decode(enc.encode(f)).length).toBe(1920);
    enc.close();
    dec.close();
  });

  it('rejects a frame of the wrong size and use after close', () => {
    const enc = createOpusEncoder({ bitrate: 64_000, backend });
    expect(() => enc.encode(new Int16Array(960))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    enc.close();
    enc.close(); // idempotent
    expect(() => enc.encode(new Int16Array(1920))).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
  });

  it('decoder rejects a corrupt packet with DECODE_FAILED', () => {
    const dec = createOpusDecoder({ backend });
    // TOC code 3 (arbitrary frame count) with a frame count of 0 is invalid (RFC 6716 §3.2.5).
    expect(() => dec.decode(Uint8Array.of(0xff, 0x00))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
    expect(() => dec.decode(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
    dec.close();
  });
});

describe('createOpusEncoder options', () => {
  it('auto picks the native backend here', () => {
    const enc = createOpusEncoder({ bitrate: 64_000 });
    expect(enc.backend).toBe('native');
    expect(enc.bitrate).toBe(64_000);
    enc.close();
  });

  it.each([
    { name: 'bitrate 0', opts: { bitrate: 0 } },
    { name: 'bitrate too high', opts: { bitrate: 1_000_000 } },
    { name: 'fractional bitrate', opts: { bitrate: 64_000.5 } },
    { name: 'complexity 11', opts: { bitrate: 64_000, complexity: 11 } },
    { name: 'complexity -1', opts: { bitrate: 64_000, complexity: -1 } },
    { name: 'packet loss 101', opts: { bitrate: 64_000, packetLossPercent: 101 } },
    { name: 'unknown signal', opts: { bitrate: 64_000, signal: 'speech' } },
    { name: 'unknown backend', opts: { bitrate: 64_000, backend: 'ffmpeg' } },
  ])('$name -> INVALID_ARGUMENT', ({ opts }) => {
    expect(() => createOpusEncoder(opts as OpusEncoderOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('setBitrate rejects out-of-range values with INVALID_ARGUMENT and keeps the old bitrate', () => {
    const enc = createOpusEncoder({ bitrate: 64_000 });
    expect(() => enc.setBitrate(100)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(enc.bitrate).toBe(64_000);
    enc.close();
  });
});

describe('opusBitrateForRoom', () => {
  it.each([
    // 128000 * 0.9 - 12 bytes * 8 * 50 packets/s
    { room: 128_000, options: {}, expected: 110_400 },
    { room: 128_000, options: { count: 'payload' as const }, expected: 115_200 },
    // (12 + 8 + 20) * 8 * 50 = 16000
    { room: 128_000, options: { count: 'ip' as const }, expected: 99_200 },
    // (12 + 8 + 40) * 8 * 50 = 24000
    { room: 128_000, options: { count: 'ip' as const, ipVersion: 6 as const }, expected: 91_200 },
    { room: 128_000, options: { headroom: 1 }, expected: 123_200 },
    // 40 ms frames: 25 packets/s, 12 * 8 * 25 = 2400
    { room: 64_000, options: { frameMs: 40 }, expected: 55_200 },
    { room: 2_000_000, options: { count: 'payload' as const }, expected: 512_000 },
  ])('$room bps, $options -> $expected', ({ room, options, expected }) => {
    expect(opusBitrateForRoom(room, options)).toBe(expected);
  });

  it.each([
    { name: 'zero room', room: 0, options: {} },
    { name: 'NaN room', room: Number.NaN, options: {} },
    { name: 'headers eat the room', room: 5000, options: { count: 'ip' as const } },
    { name: 'odd frame size', room: 64_000, options: { frameMs: 30 } },
    { name: 'headroom 0', room: 64_000, options: { headroom: 0 } },
    { name: 'headroom above 1', room: 64_000, options: { headroom: 1.5 } },
  ])('$name -> INVALID_ARGUMENT', ({ room, options }) => {
    expect(() => opusBitrateForRoom(room, options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

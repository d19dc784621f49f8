import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWavWriter, encodeWavHeader, WAV_HEADER_SIZE } from '../../../src/emulator/kook/wav.js';

describe('WAV writer', () => {
  it('encodes the canonical 44-byte PCM header', () => {
    const h = Buffer.from(encodeWavHeader({ sampleRate: 48_000, channels: 2 }, 3840));
    expect(h.length).toBe(WAV_HEADER_SIZE);
    expect(h.toString('ascii', 0, 4)).toBe('RIFF');
    expect(h.readUInt32LE(4)).toBe(36 + 3840);
    expect(h.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(h.readUInt32LE(16)).toBe(16);
    expect(h.readUInt16LE(20)).toBe(1); // PCM
    expect(h.readUInt16LE(22)).toBe(2);
    expect(h.readUInt32LE(24)).toBe(48_000);
    expect(h.readUInt32LE(28)).toBe(192_000); // byte rate
    expect(h.readUInt16LE(32)).toBe(4); // block align
    expect(h.readUInt16LE(34)).toBe(16);
    expect(h.toString('ascii', 36, 40)).toBe('data');
    expect(h.readUInt32LE(40)).toBe(3840);
  });

  it.each([
    { name: 'zero rate', rate: 0, channels: 2, bytes: 0 },
    { name: 'no channels', rate: 48_000, channels: 0, bytes: 0 },
    { name: 'over 4 GiB', rate: 48_000, channels: 2, bytes: 2 ** 32 },
  ])('refuses $name with INVALID_ARGUMENT', ({ rate, channels, bytes }) => {
    expect(() => encodeWavHeader({ sampleRate: rate, channels }, bytes)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('streams samples little-endian and patches the sizes on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kook-wav-'));
    try {
      const path = join(dir, 'a.wav');
      const w = await createWavWriter(path, { sampleRate: 8000, channels: 1 });
      w.write(new Int16Array([1, -2, 32767]));
      w.write(new Int16Array([-32768]));
      expect(await w.close()).toBe(8);
      expect(await w.close()).toBe(8);
      const file = await readFile(path);
      expect(file.length).toBe(WAV_HEADER_SIZE + 8);
      expect(file.readUInt32LE(40)).toBe(8);
      expect(file.readUInt32LE(4)).toBe(44);
      expect([0, 1, 2, 3].map((i) => file.readInt16LE(WAV_HEADER_SIZE + i * 2))).toEqual([1, -2, 32767, -32768]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

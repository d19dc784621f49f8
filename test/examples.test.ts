import { describe, expect, it, vi } from 'vitest';
import { main } from '../examples/emulator.js';

describe('examples/emulator.ts (the README points here)', () => {
  it('plays a file into the built-in emulator through the public API', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const report = await main();
      expect(report.packets).toBeGreaterThan(100); // 3 s of 20 ms frames
      expect(report.lost).toBe(0);
      expect(report.kicked).toBeUndefined();
      expect(report.ssrc).toBe(1111);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/emulator at http:\/\/127\.0\.0\.1:\d+\/api\/v3/);
    } finally {
      log.mockRestore();
    }
  });
});

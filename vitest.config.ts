import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive tests (real sockets, pacing) share 2 cores: keep file parallelism modest.
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Any process warning fails the test (or the file) that caused it; --expose-gc lets the setup find FileHandles
    // that only the garbage collector would close.
    setupFiles: ['test/setup/warnings.ts'],
    execArgv: ['--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive tests (real sockets, pacing) share 2 cores: keep file parallelism modest.
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/*.chaos.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start their own Azurite/emulator on free ports; two workers fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});

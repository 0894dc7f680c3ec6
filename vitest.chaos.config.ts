import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The fast, stable chaos tests live in test/reliability (they also run in `npm test`).
    include: [
      'test/**/*.chaos.test.ts',
      'test/reliability/sideband-drop.test.ts',
      'test/reliability/mcp-faults.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.chaos.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

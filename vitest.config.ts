import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          // Real models on 2 cores: one file at a time keeps timings honest.
          fileParallelism: false,
        },
      },
    ],
  },
});

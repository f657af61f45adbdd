import { defineConfig } from 'vitest/config';

// Tests import the packages' TypeScript sources through the `source` export condition; the CLIs
// they spawn run the compiled dist/ (npm test builds first).
const conditions = ['source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
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

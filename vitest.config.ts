import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    environment: 'node',
    testTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/support/fast-check-setup.ts'],
  },
});

export default config;

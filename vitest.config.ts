import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/helpers/fixtures-check.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: llama.cpp tests measure latency (disconnects, queueing); running files in parallel starves them.
    fileParallelism: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});

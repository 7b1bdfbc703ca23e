import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Three projects, each runnable alone (`npm run test:unit`, `test:integration`, `test:slow`):
 * - unit: pure tests (assembly, limits math, normalizers, validation, config): no services, no model,
 *   no network; files run in parallel.
 * - slow: the folders that generate many tokens on the fixture models (tools, browser, replicas, cli).
 * - integration: everything else. A new folder lands here by default: unit and slow are named
 *   explicitly, integration is "every test file that is neither".
 * Integration and slow need PostgreSQL, Redis and Chromium: test/helpers/preflight.ts checks them first.
 */
const UNIT = [
  'test/assembly/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/auth/api-key.test.ts',
  'test/engines/forced-call-scanner.test.ts',
  'test/engines/sequence-pool.test.ts',
  'test/gateway/normalization.test.ts',
  'test/gateway/part-queue.test.ts',
  'test/gateway/plain-delta.test.ts',
  'test/gateway/router.test.ts',
  'test/gateway/tool-call-repair.test.ts',
  'test/http/stream-parts.test.ts',
  'test/ids/**/*.test.ts',
  'test/limits/admission.test.ts',
  'test/limits/bucket-math.test.ts',
  'test/limits/budget-period.test.ts',
  'test/limits/reset-duration.test.ts',
  'test/limits/token-estimate.test.ts',
  'test/models/hf-uri.test.ts',
  'test/models/progress.test.ts',
  'test/models/models-list.test.ts',
  'test/tools/checkers.test.ts',
  'test/usage/report-format.test.ts',
];
const SLOW = [
  'test/tools/**/*.test.ts',
  'test/browser/**/*.test.ts',
  'test/replicas/**/*.test.ts',
  'test/cli/**/*.test.ts',
];
const ALL = ['test/**/*.test.ts'];

const fixtures = './test/helpers/fixtures-check.ts';
const preflight = './test/helpers/preflight.ts';

const projects: TestProjectInlineConfiguration[] = [
  { extends: true, test: { name: 'unit', include: UNIT, globalSetup: [fixtures], sequence: { groupOrder: 0 } } },
  {
    extends: true,
    test: {
      name: 'integration',
      include: ALL,
      exclude: [...UNIT, ...SLOW],
      globalSetup: [fixtures, preflight],
      // Two workers on two cores: latency tests compare against references measured in the same run.
      maxWorkers: 2,
      sequence: { groupOrder: 1 },
    },
  },
  {
    extends: true,
    test: {
      name: 'slow',
      include: SLOW,
      exclude: UNIT,
      globalSetup: [fixtures, preflight],
      maxWorkers: 2,
      sequence: { groupOrder: 2 },
    },
  },
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects,
  },
});

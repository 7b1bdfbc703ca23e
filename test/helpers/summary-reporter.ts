import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line CI reads whatever the runner:
 * `N passed, N failed, N skipped (tests); F of M files failed`, plus the errors outside any test.
 * A file that fails before its tests run (a failing beforeAll, an import error) counts as a failed
 * file even though none of its tests failed; a run stopped by a globalSetup (fixtures, preflight) says so.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: 'passed' | 'interrupted' | 'failed',
  ): void {
    process.stdout.write(`\n${summaryLine(testModules, unhandledErrors.length, reason)}\n`);
  }
}

export function summaryLine(
  testModules: ReadonlyArray<TestModule>,
  errorsOutsideTests: number,
  reason: 'passed' | 'interrupted' | 'failed' = 'passed',
): string {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let failedFiles = 0;
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') passed += 1;
      else if (state === 'failed') failed += 1;
      else skipped += 1;
    }
    if (module.state() === 'failed') failedFiles += 1;
  }
  const line = `${passed} passed, ${failed} failed, ${skipped} skipped; ${failedFiles} of ${testModules.length} files failed`;
  if (errorsOutsideTests > 0) return `${line}; ${errorsOutsideTests} errors outside tests (the run failed)`;
  // A failed globalSetup (fixtures, preflight) ends the run before any file: never a clean-looking line.
  if (reason !== 'passed' && failed === 0 && failedFiles === 0)
    return `${line}; the run ${reason === 'interrupted' ? 'was interrupted' : 'failed before its tests (see the error above)'}`;
  return line;
}

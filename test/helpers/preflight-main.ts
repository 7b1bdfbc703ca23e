import { preflightProblems } from './preflight.js';

/** `npm test` runs this first, so a machine without the services hears it in seconds, not after lint. */
const problems = await preflightProblems();
if (problems.length > 0) {
  process.stderr.write(
    `npm test: this machine lacks what the tests need (.ci/run installs and starts all of it):\n${problems.map((line) => `  - ${line}`).join('\n')}\n`,
  );
  process.exit(1);
}

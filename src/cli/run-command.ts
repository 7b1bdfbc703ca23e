import { isOperatorFacing } from '../errors/index.js';

/** Known operator errors print one clear line and exit 1; anything else keeps its stack for a bug report. */
export async function runCommand(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (isOperatorFacing(error)) {
      process.stderr.write(`oruel: ${error.message}\n`);
    } else {
      process.stderr.write(
        `oruel: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  }
}

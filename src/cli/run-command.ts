import { ConfigError } from '../config/load.js';

/** Known operator errors print one clear line and exit 1; anything else keeps its stack for a bug report. */
export async function runCommand(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && (error as { operatorFacing?: boolean }).operatorFacing)) {
      process.stderr.write(`oruel: ${error.message}\n`);
    } else {
      process.stderr.write(`oruel: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  }
}

/** An error whose message is the whole story for the operator (no stack trace). */
export class OperatorError extends Error {
  readonly operatorFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'OperatorError';
  }
}

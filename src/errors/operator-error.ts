/**
 * An error whose message is the whole story for the operator: the CLI prints it alone, without a
 * stack. Every such error (config, database, Redis, model load, key input) extends this one class.
 */
export class OperatorError extends Error {
  readonly operatorFacing = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Errors meant for the operator, whatever subclass they are. */
export function isOperatorFacing(error: unknown): error is OperatorError {
  return error instanceof OperatorError;
}

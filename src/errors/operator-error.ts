/** An error whose message is the whole story for the operator: the CLI prints it alone, without a stack. */
export class OperatorError extends Error {
  readonly operatorFacing = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OperatorError';
  }
}

/** Errors meant for the operator, whatever class they are (config, database, model load, key input). */
export function isOperatorFacing(error: unknown): error is Error {
  return error instanceof Error && (error as { operatorFacing?: boolean }).operatorFacing === true;
}

/** Why an engine could not do the work. The code maps to a wire error in `errors/catalog.ts`. */
export type EngineErrorCode =
  | 'overloaded' // queue full, concurrency cap reached: try elsewhere or later
  | 'unavailable' // engine down, connection refused, not loaded
  | 'timeout' // upstream did not answer in time
  | 'invalid_request' // the request cannot be served by this engine (the caller's fault)
  | 'context_length_exceeded' // the prompt does not fit the model's context
  | 'upstream_error' // the upstream answered with an error of its own
  | 'rate_limited' // the upstream said 429
  | 'invalid_output' // the model's output broke the request's schema (a grammar cannot express every rule)
  | 'internal'; // a bug or crash inside the engine

export interface EngineErrorOptions {
  /** May the router try another deployment (only ever before the first byte)? */
  retryable?: boolean;
  /** The request field at fault, for `invalid_request`. */
  param?: string | null;
  /** HTTP status to surface, when the engine knows better than the catalog (upstream 4xx). */
  status?: number;
  /** Milliseconds the engine asks callers to wait before retrying. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: EngineErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.retryable =
      options.retryable ??
      (code === 'overloaded' || code === 'unavailable' || code === 'timeout' || code === 'rate_limited');
    this.param = options.param ?? null;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

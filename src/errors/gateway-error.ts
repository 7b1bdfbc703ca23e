import { EngineError } from '../engines/index.js';
import { ENGINE_ERROR_KIND, ERROR_CATALOG, type ErrorKind } from './catalog.js';
import { retryAfterHeaders } from './retry-after-headers.js';

export interface WireError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error meant for the client: a catalog kind, a message, the field at fault and extra headers. */
export class GatewayError extends Error {
  readonly kind: ErrorKind;
  readonly param: string | null;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { param?: string | null; status?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.kind = kind;
    this.param = options.param ?? null;
    this.status = options.status ?? ERROR_CATALOG[kind].status;
    this.headers = options.headers ?? {};
  }

  toWire(): WireError {
    const entry = ERROR_CATALOG[this.kind];
    return { message: this.message, type: entry.type, param: this.param, code: entry.code };
  }
}

/** The one translation from anything thrown to what the client sees. Unknown errors hide their text. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof EngineError) {
    const kind = ENGINE_ERROR_KIND[error.code];
    const headers = error.retryAfterMs === undefined ? {} : retryAfterHeaders(error.retryAfterMs);
    return new GatewayError(kind, error.message, { param: error.param, status: error.status, headers, cause: error });
  }
  return new GatewayError('internal_error', 'The server had an error while processing your request.', { cause: error });
}

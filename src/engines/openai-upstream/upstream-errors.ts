import { EngineError } from '../engine-error.js';
import type { UpstreamErrorDetails } from './error-body.js';

/**
 * An upstream's HTTP error as a contract error. The upstream's message is kept as it is (clients
 * and operators read it), except for credential failures, whose text may quote part of our key.
 *
 * - 400/413/422: the client's request -> invalid_request (or context_length_exceeded), not retried;
 * - 401/403: our credentials, the client cannot fix it -> upstream_error 502, tried elsewhere;
 * - 404: the deployment lacks the model or the URL is wrong -> upstream_error 502, tried elsewhere;
 * - 408/409/5xx: transient -> retried elsewhere; 503 and 504 keep their meaning;
 * - 429: rate_limited with the upstream's retry-after, unless it is our quota running out.
 */
export function errorFromStatus(
  status: number,
  details: UpstreamErrorDetails,
  retryAfterMs: number | undefined,
): EngineError {
  const said = details.message ? `: ${details.message}` : '.';
  const timing = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (details.code === 'context_length_exceeded') {
    return new EngineError(
      'context_length_exceeded',
      details.message ?? 'The prompt is longer than the model context.',
      { param: details.param ?? 'messages' },
    );
  }
  switch (status) {
    case 400:
    case 422:
      return new EngineError(
        'invalid_request',
        details.message ?? `The upstream engine refused the request (HTTP ${status}).`,
        { param: details.param, status: 400 },
      );
    case 413:
      return new EngineError(
        'invalid_request',
        details.message ?? 'The request is too large for the upstream engine.',
        { param: details.param, status: 413 },
      );
    case 401:
    case 403:
      return new EngineError(
        'upstream_error',
        `The upstream engine refused the gateway's credentials (HTTP ${status}); the operator must fix this deployment's apiKey.`,
        {
          retryable: true,
        },
      );
    case 404:
      return new EngineError(
        'upstream_error',
        `The upstream engine does not serve this model or URL (HTTP 404)${said}`,
        { retryable: true },
      );
    case 408:
      return new EngineError('timeout', `The upstream engine timed out (HTTP 408)${said}`, timing);
    case 429:
      if (details.code === 'insufficient_quota') {
        return new EngineError('upstream_error', `The upstream account is out of quota (HTTP 429)${said}`, {
          retryable: true,
          ...timing,
        });
      }
      return new EngineError('rate_limited', `The upstream engine is rate limiting requests (HTTP 429)${said}`, timing);
    case 503:
      return new EngineError('unavailable', `The upstream engine is unavailable (HTTP 503)${said}`, timing);
    case 504:
      return new EngineError('timeout', `The upstream engine timed out (HTTP 504)${said}`, timing);
    default:
      if (status >= 500 || status === 409) {
        return new EngineError('upstream_error', `The upstream engine failed (HTTP ${status})${said}`, {
          retryable: true,
          ...timing,
        });
      }
      // Other 4xx (405, 415, ...) mean the gateway and the upstream disagree: not the client's fault, not transient.
      return new EngineError(
        'upstream_error',
        `The upstream engine rejected the gateway's request (HTTP ${status})${said}`,
        { retryable: false },
      );
  }
}

/**
 * An error event inside a 200 stream (vLLM, OpenAI and llama-server send `{"error": {...}}`). Before the
 * first token it is treated like the status it names; after it, it becomes the stream's error event.
 */
export function errorFromStreamEvent(details: UpstreamErrorDetails): EngineError {
  const status = typeof details.code === 'number' && details.code >= 400 && details.code < 600 ? details.code : 500;
  return errorFromStatus(status, details, undefined);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMED_OUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** A transport failure (no HTTP answer, or the connection died) before the stream began: retryable. */
export function errorFromTransport(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const code = errorCode(error);
  if (code !== null && TIMED_OUT.has(code))
    return new EngineError('timeout', `The upstream engine did not answer in time (${code}).`, { cause: error });
  const reason = code !== null && UNREACHABLE.has(code) ? code : 'connection failed';
  return new EngineError('unavailable', `The upstream engine is unreachable (${reason}).`, { cause: error });
}

/** A transport failure after the stream began: the stream's error event. */
export function errorMidStream(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const code = errorCode(error);
  return new EngineError('upstream_error', `The upstream engine's stream broke off${code ? ` (${code})` : ''}.`, {
    cause: error,
  });
}

function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const inner = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof inner === 'string' ? inner : null;
}

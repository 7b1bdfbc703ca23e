import type { EngineErrorCode } from '../engines/index.js';

/** Every error a client can see: one row per code, used by the HTTP handler and the SSE error event. */
export const ERROR_CATALOG = {
  invalid_api_key: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  invalid_admin_token: { status: 401, type: 'invalid_request_error', code: 'invalid_admin_token' },
  admin_api_disabled: { status: 404, type: 'invalid_request_error', code: 'admin_api_disabled' },
  key_not_found: { status: 404, type: 'invalid_request_error', code: 'key_not_found' },
  key_revoked: { status: 409, type: 'invalid_request_error', code: 'key_revoked' },
  invalid_request: { status: 400, type: 'invalid_request_error', code: null },
  invalid_json: { status: 400, type: 'invalid_request_error', code: 'invalid_json' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  permission_denied: { status: 403, type: 'invalid_request_error', code: 'model_not_allowed' },
  model_not_found: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  not_found: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  stream_not_found: { status: 404, type: 'invalid_request_error', code: 'stream_not_found' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', code: 'method_not_allowed' },
  request_timeout: { status: 408, type: 'invalid_request_error', code: 'request_timeout' },
  body_too_large: { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  insufficient_quota: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota' },
  internal_error: { status: 500, type: 'server_error', code: 'internal_error' },
  invalid_model_output: { status: 500, type: 'server_error', code: 'invalid_model_output' },
  upstream_error: { status: 502, type: 'server_error', code: 'upstream_error' },
  overloaded: { status: 503, type: 'server_error', code: 'overloaded' },
  unavailable: { status: 503, type: 'server_error', code: 'engine_unavailable' },
  shutting_down: { status: 503, type: 'server_error', code: 'server_shutting_down' },
  timeout: { status: 504, type: 'server_error', code: 'timeout' },
} as const satisfies Record<string, { status: number; type: string; code: string | null }>;

export type ErrorKind = keyof typeof ERROR_CATALOG;

/** How each engine failure is shown to clients. */
export const ENGINE_ERROR_KIND: Record<EngineErrorCode, ErrorKind> = {
  overloaded: 'overloaded',
  unavailable: 'unavailable',
  timeout: 'timeout',
  invalid_request: 'invalid_request',
  context_length_exceeded: 'context_length_exceeded',
  upstream_error: 'upstream_error',
  rate_limited: 'rate_limit_exceeded',
  internal: 'internal_error',
  invalid_output: 'invalid_model_output',
};

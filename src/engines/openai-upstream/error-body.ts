import { asRecord, asString, parseJson, type JsonRecord } from './json-value.js';

/** What an upstream error body says, whichever engine wrote it. */
export interface UpstreamErrorDetails {
  message: string | null;
  param: string | null;
  /** `code` as sent: OpenAI uses strings (`context_length_exceeded`), llama-server and vLLM the HTTP status. */
  code: string | number | null;
  type: string | null;
}

/**
 * Reads the shapes engines use for errors:
 * - OpenAI, llama-server, Ollama (`/v1`), newer vLLM: `{"error": {"message", "type", "param", "code"}}`;
 * - older vLLM: `{"object": "error", "message", "type", "param", "code"}`;
 * - Ollama's native API: `{"error": "model not found"}`;
 * - FastAPI validation (SGLang, vLLM 422): `{"detail": [{"loc": [...], "msg": "..."}]}` or `{"detail": "..."}`.
 */
export function readErrorDetails(value: unknown): UpstreamErrorDetails {
  const body = asRecord(value);
  if (!body) return { message: null, param: null, code: null, type: null };
  const nested = asRecord(body.error);
  if (nested) return fromErrorObject(nested);
  const text = asString(body.error);
  if (text !== null) return { message: text, param: null, code: null, type: null };
  if (body.detail !== undefined) return fromFastApiDetail(body.detail);
  return fromErrorObject(body);
}

/** The details of an error body given as text (it may not be JSON at all: a proxy's HTML page). */
export function readErrorText(text: string): UpstreamErrorDetails {
  const details = readErrorDetails(parseJson(text));
  if (details.message === null && text.trim() !== '' && !text.trimStart().startsWith('<'))
    details.message = text.trim().slice(0, 500);
  return details;
}

function fromErrorObject(error: JsonRecord): UpstreamErrorDetails {
  const code = typeof error.code === 'number' || typeof error.code === 'string' ? error.code : null;
  return { message: asString(error.message), param: asString(error.param), code, type: asString(error.type) };
}

function fromFastApiDetail(detail: unknown): UpstreamErrorDetails {
  const text = asString(detail);
  if (text !== null) return { message: text, param: null, code: null, type: null };
  const first = Array.isArray(detail) ? asRecord(detail[0]) : null;
  if (!first) return { message: null, param: null, code: null, type: null };
  const location = Array.isArray(first.loc) ? first.loc.filter((part) => part !== 'body') : [];
  const param = location.length > 0 ? location.map(String).join('.') : null;
  return { message: asString(first.msg), param, code: null, type: null };
}

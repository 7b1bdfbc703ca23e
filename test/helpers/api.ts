import { expect } from 'vitest';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import type { TestServer } from './test-server.js';

/** A response read whole: status, headers, parsed JSON (null when the body is not JSON) and raw text. */
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  json: T | null;
  text: string;
}

/** The fields of a chat.completion (or error body) the tests read. */
export interface CompletionJson {
  id: string;
  object: string;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string | null };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: WireErrorJson;
}

export interface WireErrorJson {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface RequestOptions {
  /** Defaults to the harness key; null sends no Authorization header. */
  apiKey?: string | null;
  /** Raw Authorization header value (wins over apiKey). */
  authorization?: string;
  headers?: Record<string, string>;
}

/** POST /chat/completions with a JSON body (a string body is sent as is). */
export async function postChat<T = CompletionJson>(
  harness: TestServer,
  body: unknown,
  options: RequestOptions = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const apiKey = options.apiKey === undefined ? harness.apiKey : options.apiKey;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  const response = await fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readJson<T>(response);
}

export async function readJson<T>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: parseOrNull<T>(text), text };
}

function parseOrNull<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Asserts the contract's error shape: status, `{"error":{message,type,param,code}}`, an x-request-id. */
export function expectError(
  response: JsonResponse<unknown>,
  status: number,
  expected: Partial<WireErrorJson>,
): WireErrorJson {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toMatch(/^req_\w+/);
  const body = response.json as { error?: WireErrorJson } | null;
  expect(body, response.text).not.toBeNull();
  expect(Object.keys(body ?? {})).toEqual(['error']);
  const error = body!.error!;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error).toMatchObject(expected);
  return error;
}

/** The ledger rows of one request id, after every queued record is stored (exactly one is expected). */
export async function ledgerRowsFor(harness: TestServer, requestId: string): Promise<LedgerRecord[]> {
  await harness.server.ledger.flush();
  const rows = await harness.server.ledger.rows({});
  return rows.filter((row) => row.requestId === requestId);
}

/**
 * The single ledger row of a request; fails the test when there is none or more than one.
 * The row is queued in the route's `finally`, a moment after the client got its last byte: poll for it.
 */
export async function ledgerRow(harness: TestServer, requestId: string): Promise<LedgerRecord> {
  const rows = await eventually(
    () => ledgerRowsFor(harness, requestId),
    (found) => found.length > 0,
  );
  expect(rows, `ledger rows for ${requestId}`).toHaveLength(1);
  return rows[0]!;
}

/** Polls until `predicate` holds (ledger rows are written in `finally`, just after the response). */
export async function eventually<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

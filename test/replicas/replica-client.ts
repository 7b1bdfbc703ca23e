import type { ReplicaProcess } from './replica-process.js';

export const ADMIN_TOKEN = 'replica-test-admin-token-0123456789';

export interface ChatAnswer {
  status: number;
  headers: Headers;
  requestId: string | null;
  json: Record<string, unknown> | null;
}

export interface StreamAnswer {
  status: number;
  requestId: string | null;
  /** Content chunks received before the end or the abort. */
  contentChunks: number;
  /** The stream ended with `[DONE]` (a complete answer, whatever the client meant to do). */
  sawDone: boolean;
  /** The client aborted after its first content chunk. */
  aborted: boolean;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
}

export async function admin<T = Record<string, unknown>>(
  replica: ReplicaProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${replica.origin}/v1/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

export async function createKey(
  replica: ReplicaProcess,
  body: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const created = await admin<{ id: string; key: string }>(replica, 'POST', '/keys', body);
  if (created.status !== 201) throw new Error(`key creation failed: ${created.status} ${JSON.stringify(created.json)}`);
  return created.json;
}

export async function chat(replica: ReplicaProcess, key: string, body: Record<string, unknown>): Promise<ChatAnswer> {
  const response = await fetch(`${replica.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    requestId: response.headers.get('x-request-id'),
    json: parseJson(await response.text()),
  };
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A streamed chat read event by event; with `abortAfterFirstContent`, the client goes away after its first token. */
export async function chatStream(
  replica: ReplicaProcess,
  key: string,
  body: Record<string, unknown>,
  abortAfterFirstContent: boolean,
): Promise<StreamAnswer> {
  const controller = new AbortController();
  const response = await fetch(`${replica.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
    signal: controller.signal,
  });
  const answer: StreamAnswer = {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    contentChunks: 0,
    sawDone: false,
    aborted: false,
    usage: null,
  };
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const events = buffer.split('\n\n');
      buffer = events.pop() ?? '';
      for (const event of events) readEvent(event, answer);
      if (abortAfterFirstContent && answer.contentChunks > 0 && !answer.sawDone) {
        answer.aborted = true;
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!answer.aborted) throw error;
  }
  return answer;
}

function readEvent(event: string, answer: StreamAnswer): void {
  const data = event
    .split('\n')
    .find((line) => line.startsWith('data: '))
    ?.slice('data: '.length);
  if (data === undefined) return;
  if (data === '[DONE]') {
    answer.sawDone = true;
    return;
  }
  const chunk = JSON.parse(data) as {
    choices?: Array<{ delta?: { content?: string } }>;
    usage?: StreamAnswer['usage'];
  };
  if (chunk.choices?.[0]?.delta?.content) answer.contentChunks += 1;
  if (chunk.usage) answer.usage = chunk.usage;
}

/** Runs the tasks with at most `width` in flight; results in task order. */
export async function inPool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next;
      next += 1;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return results;
}

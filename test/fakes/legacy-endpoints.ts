import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The fake upstream's /v1/completions and /v1/embeddings, computed from the request (no recordings):
 * choice i*n+j of prompt i is the words " p{i}c{j}w1 ... w{max_tokens}", finish "length"; an embedding
 * is a deterministic vector of the input's characters (8 values, or `dimensions`).
 */
export const FAKE_EMBEDDING_SIZE = 8;

export function legacyCompletionText(promptIndex: number, completion: number, maxTokens: number): string[] {
  return Array.from({ length: maxTokens }, (_, word) => ` p${promptIndex}c${completion}w${word + 1}`);
}

/** One word per prompt token, like a crude tokenizer: enough for usage checks. */
function fakeTokenCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export async function serveLegacyCompletion(
  response: ServerResponse,
  body: Record<string, unknown>,
  tokenDelayMs: number,
): Promise<void> {
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : (body.prompt as string[]);
  const n = typeof body.n === 'number' ? body.n : 1;
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 16;
  const head = { id: 'cmpl-fake', object: 'text_completion', created: 1757601341, model: String(body.model) };
  const texts = prompts.flatMap((_, i) => Array.from({ length: n }, (__, j) => legacyCompletionText(i, j, maxTokens)));
  const usage = {
    prompt_tokens: prompts.reduce((sum, prompt) => sum + fakeTokenCount(prompt), 0),
    completion_tokens: maxTokens * texts.length,
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  if (body.stream !== true) {
    const choices = texts.map((words, index) => ({
      index,
      text: words.join(''),
      logprobs: null,
      finish_reason: 'length',
    }));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ...head, choices, usage }));
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (value: unknown) => response.write(`data: ${JSON.stringify(value)}\n\n`);
  for (let word = 0; word < maxTokens; word += 1) {
    if (response.destroyed) return;
    send({
      ...head,
      choices: texts.map((words, index) => ({ index, text: words[word], logprobs: null, finish_reason: null })),
    });
    if (tokenDelayMs > 0) await sleep(tokenDelayMs);
  }
  send({ ...head, choices: texts.map((_, index) => ({ index, text: '', logprobs: null, finish_reason: 'length' })) });
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) send({ ...head, choices: [], usage });
  response.end('data: [DONE]\n\n');
}

export function fakeEmbedding(input: string | number[], dimensions: number): number[] {
  const text = typeof input === 'string' ? input : input.join(',');
  return Array.from({ length: dimensions }, (_, index) => {
    let sum = index + 1;
    for (let at = 0; at < text.length; at += 1) sum = (sum * 31 + text.charCodeAt(at) * (index + 1)) % 10_007;
    return sum / 10_007 - 0.5;
  });
}

export function serveEmbeddings(response: ServerResponse, body: Record<string, unknown>): void {
  const raw = body.input;
  const inputs: (string | number[])[] =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw) && typeof raw[0] === 'number'
        ? [raw as number[]]
        : (raw as (string | number[])[]);
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : FAKE_EMBEDDING_SIZE;
  const data = inputs.map((input, index) => ({
    object: 'embedding',
    index,
    embedding: fakeEmbedding(input, dimensions),
  }));
  const promptTokens = inputs.reduce(
    (sum, input) => sum + (typeof input === 'string' ? fakeTokenCount(input) : input.length),
    0,
  );
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      object: 'list',
      data,
      model: String(body.model),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    }),
  );
}

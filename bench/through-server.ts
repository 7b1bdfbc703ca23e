import { performance } from 'node:perf_hooks';
import { BENCH_SEED } from './direct.js';
import type { GenerationSample } from './sample.js';
import { sseData } from './sse-events.js';

export interface ServerTarget {
  /** `http://127.0.0.1:PORT/v1/inference` */
  baseURL: string;
  apiKey: string;
  model: string;
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { completion_tokens?: number } | null;
  error?: { message?: string };
}

/**
 * One streamed chat completion through the server with Node's own fetch (undici), read as SSE.
 * Times are client-side, from just before fetch() to the first non-empty `delta.content` and to the end
 * of the body; tokens come from the final usage (`stream_options.include_usage`).
 */
export async function streamChat(target: ServerTarget, prompt: string, maxTokens: number): Promise<GenerationSample> {
  const start = performance.now();
  const response = await fetch(`${target.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: target.model,
      messages: [{ role: 'user', content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: maxTokens,
      temperature: 0,
      seed: BENCH_SEED,
    }),
  });
  if (!response.ok || !response.body) throw new Error(`server answered ${response.status}: ${await response.text()}`);
  let first = Number.NaN;
  let last = Number.NaN;
  let completionTokens = Number.NaN;
  let finishReason = 'none';
  let sawDone = false;
  for await (const data of sseData(response.body)) {
    if (data === '[DONE]') {
      sawDone = true;
      continue;
    }
    const chunk = JSON.parse(data) as StreamChunk;
    if (chunk.error) throw new Error(`error event: ${chunk.error.message ?? data}`);
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) {
      last = performance.now();
      if (Number.isNaN(first)) first = last;
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (typeof chunk.usage?.completion_tokens === 'number') completionTokens = chunk.usage.completion_tokens;
  }
  const end = performance.now();
  if (!sawDone) throw new Error('the stream ended without [DONE]');
  return { completionTokens, finishReason, ttftMs: first - start, totalMs: end - start, decodeMs: last - first };
}

export interface ConcurrentRun {
  samples: GenerationSample[];
  /** From the first request sent to the last stream ended. */
  wallMs: number;
}

/** `count` streams at once; their aggregate rate is the sum of their tokens over the wall time. */
export async function streamConcurrently(
  target: ServerTarget,
  prompt: string,
  maxTokens: number,
  count: number,
): Promise<ConcurrentRun> {
  const start = performance.now();
  const samples = await Promise.all(Array.from({ length: count }, () => streamChat(target, prompt, maxTokens)));
  return { samples, wallMs: performance.now() - start };
}

export const aggregateTokensPerSecond = (run: ConcurrentRun): number =>
  (run.samples.reduce((sum, sample) => sum + sample.completionTokens, 0) * 1000) / run.wallMs;

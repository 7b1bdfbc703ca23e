import { Agent, request } from 'undici';

/** Who answers: the fake upstream directly, a minimal byte-pipe proxy in front of it, or Oru-el. */
export const LABELS = ['direct', 'pipe', 'gateway'] as const;
export type Label = (typeof LABELS)[number];

export interface Target {
  label: Label;
  /** Full chat completions URL. */
  url: string;
  headers: Record<string, string>;
  /** The model name this target knows. */
  model: string;
}

export interface StreamSample {
  /** Request sent -> first content token received (ms). */
  ttftMs: number;
  totalMs: number;
  /** Events that carried content (`"content":"`): shows whether chunks were merged on the way. */
  contentEvents: number;
}

/** The first synthetic token: its arrival is the time to first token, on both paths. */
const FIRST_TOKEN = '"content":"Lorem';
const CONTENT = '"content":"';
const DONE = 'data: [DONE]';

/** One keep-alive agent for the whole benchmark, sized for the largest phase. */
export const agent = new Agent({ connections: 1024, pipelining: 1, keepAliveTimeout: 60_000 });

function body(target: Target, stream: boolean): string {
  const messages = [{ role: 'user', content: 'Write a long story.' }];
  // Direct clients ask for usage themselves; through Oru-el usage comes unasked (and Oru-el asks upstream).
  return JSON.stringify(
    stream
      ? { model: target.model, messages, stream: true, stream_options: { include_usage: true } }
      : { model: target.model, messages },
  );
}

/** One streamed request, read to the end; fails unless it ends with [DONE]. */
export async function streamOnce(target: Target): Promise<StreamSample> {
  const started = performance.now();
  const response = await request(target.url, {
    method: 'POST',
    headers: target.headers,
    body: body(target, true),
    dispatcher: agent,
  });
  let ttftMs = -1;
  let tail = '';
  let contentEvents = 0;
  for await (const chunk of response.body) {
    const text = tail + (chunk as Buffer).toString('latin1');
    if (ttftMs < 0 && text.includes(FIRST_TOKEN)) ttftMs = performance.now() - started;
    // Matches that began in the tail were counted with the previous chunk.
    for (
      let at = text.indexOf(CONTENT, Math.max(0, tail.length - CONTENT.length + 1));
      at >= 0;
      at = text.indexOf(CONTENT, at + 1)
    )
      contentEvents += 1;
    tail = text.slice(-64);
  }
  if (response.statusCode !== 200 || ttftMs < 0 || !tail.includes(DONE))
    throw new Error(`${target.label}: bad stream (status ${response.statusCode}): ...${tail}`);
  return { ttftMs, totalMs: performance.now() - started, contentEvents };
}

/** One non-streamed request. */
export async function completeOnce(target: Target): Promise<number> {
  const started = performance.now();
  const response = await request(target.url, {
    method: 'POST',
    headers: target.headers,
    body: body(target, false),
    dispatcher: agent,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200 || !text.includes('"finish_reason":"stop"'))
    throw new Error(`${target.label}: bad completion (status ${response.statusCode}): ${text.slice(0, 200)}`);
  return performance.now() - started;
}

/**
 * A stream opened and left open after its first token: resolves once the token arrived, with a
 * function that drops the connection.
 */
export async function openIdleStream(target: Target): Promise<() => void> {
  const controller = new AbortController();
  const response = await request(target.url, {
    method: 'POST',
    headers: target.headers,
    body: body(target, true),
    dispatcher: agent,
    signal: controller.signal,
  });
  let text = '';
  for await (const chunk of response.body) {
    text += (chunk as Buffer).toString('latin1');
    if (text.includes(FIRST_TOKEN)) break;
  }
  return () => controller.abort();
}

/** `concurrency` workers each running `work` back to back for `durationMs`; returns completions per second. */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  work: () => Promise<unknown>,
): Promise<number> {
  const deadline = performance.now() + durationMs;
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await work();
        completed += 1;
      }
    }),
  );
  return completed / ((performance.now() - started) / 1000);
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TestServer } from '../helpers/test-server.js';

/** What one heavy request did to everyone else while it ran. */
export interface LoopImpact {
  status: number;
  /** Longest event-loop stall while the request ran (ms). */
  maxDelayMs: number;
  /** Another client's streamed requests, started every 10 ms while the heavy one runs: the slowest time to a first token (ms). */
  bystanderTtftMs: number;
  /** The heavy response's body (an error's JSON, or a completion). */
  text: string;
}

const BYSTANDER = { messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 2, stream: true };

/**
 * Sends `body` (serialized before the clock starts) and, from 5 ms later until it is answered, a small
 * streamed request from another client every 10 ms; measures the event loop of this process (the
 * server runs in it).
 */
export async function measureImpact(harness: TestServer, model: string, body: Buffer): Promise<LoopImpact> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${harness.apiKey}` };
  const url = `${harness.baseURL}/chat/completions`;
  histogram.enable();
  try {
    let done = false;
    const heavy = fetch(url, { method: 'POST', headers, body })
      .then(async (response) => ({ status: response.status, text: await response.text() }))
      .finally(() => (done = true));
    // A new bystander every 10 ms while the heavy request runs: one in flight when the loop stalls waits the whole stall.
    const bystanders: Promise<number>[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, bystanders.length === 0 ? 5 : 10));
      bystanders.push(timeToFirstToken(url, headers, JSON.stringify({ model, ...BYSTANDER })));
    } while (!done && bystanders.length < 50);
    const result = await heavy;
    const bystanderTtftMs = Math.max(...(await Promise.all(bystanders)));
    return { ...result, maxDelayMs: histogram.max / 1e6, bystanderTtftMs };
  } finally {
    histogram.disable();
  }
}

async function timeToFirstToken(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers, body });
  if (!response.body) throw new Error(`bystander got no body (${response.status})`);
  const decoder = new TextDecoder();
  let seen = '';
  let ttft: number | null = null;
  for await (const chunk of response.body) {
    seen += decoder.decode(chunk as Uint8Array, { stream: true });
    if (ttft === null && /"content":"[^"]/.test(seen)) ttft = performance.now() - started;
  }
  if (response.status !== 200) throw new Error(`bystander failed: ${response.status} ${seen}`);
  return ttft ?? performance.now() - started;
}

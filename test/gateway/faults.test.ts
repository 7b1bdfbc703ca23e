import { APIError, type OpenAI } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refusingUrl } from '../fakes/closed-port.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { readRawStream } from '../helpers/sse.js';
import type { TestServer } from '../helpers/test-server.js';
import {
  latestLedgerRow,
  ledgerRow,
  postInit,
  sdk,
  startGateway,
  USER_PROMPT,
  type GatewayModelConfig,
} from './gateway-harness.js';

/**
 * Each failure mode of an upstream, with what the client sees, what the ledger records, and what the
 * fakes observed (retries, failover, aborts). Upstream `a` is weighted far above `b`, so it is always
 * the first choice and every failover is deterministic.
 */

let a: FakeUpstream;
let b: FakeUpstream;
let refused: string;
let harness: TestServer;
let client: OpenAI;

const FIRST_TOKEN_TIMEOUT_MS = 400;

/** Two deployments, `a` first: each test has a model of its own, so one test's cooldowns never leak into the next. */
function pair(name: string, routing: Record<string, number> = {}): GatewayModelConfig {
  return {
    name,
    deployments: [
      { url: a.url, weight: 1000, firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS },
      { url: b.url, weight: 1, firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS },
    ],
    routing: { maxRetryWaitMs: 0, ...routing },
  };
}

function solo(name: string): GatewayModelConfig {
  return { name, deployments: [{ url: a.url }], routing: { maxRetryWaitMs: 0 } };
}

beforeAll(async () => {
  // vLLM's continuous usage stats give exact "tokens so far" when a stream breaks.
  a = await FakeUpstream.start({ dialect: 'vllm' });
  b = await FakeUpstream.start({ dialect: 'vllm' });
  refused = await refusingUrl();
  harness = await startGateway(
    [
      ...[
        'crash',
        'error-event',
        'truncate',
        'limited',
        'server-error',
        'hang',
        'all-failing',
        'invalid',
        'crash-early',
        'error-first',
        'ignores-stream',
        'held-open',
      ].map((name) => pair(name)),
      pair('cooling', { failuresBeforeCooldown: 2, cooldownMs: 60_000 }),
      ...['unauthorized', 'solo-limited', 'slow', 'disconnect', 'disconnect-waiting'].map(solo),
      { name: 'refused-then-b', deployments: [{ url: refused, weight: 1000 }, { url: b.url }] },
      { name: 'all-refused', deployments: [{ url: refused }, { url: await refusingUrl() }] },
      { name: 'capped', deployments: [{ url: a.url, weight: 1000, maxConcurrent: 1 }, { url: b.url }] },
    ],
    { keepAliveMs: 100 },
  );
  client = sdk(harness);
});
afterEach(() => {
  a.reset();
  b.reset();
  a.configure({ tokenDelayMs: 0, dialect: 'vllm' });
});
afterAll(async () => {
  await harness?.close();
  await a?.close();
  await b?.close();
});

async function streamAll(model: string): Promise<{ text: string; requestId: string }> {
  const { data, response } = await client.chat.completions
    .create({ model, messages: USER_PROMPT, stream: true })
    .withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
  return { text, requestId: response.headers.get('x-request-id')! };
}

describe('after the first byte', () => {
  it('a crash mid-stream is an error event (the SDK throws), and the ledger keeps the tokens produced so far', async () => {
    // role chunk + 3 tokens, then the socket is destroyed. (Without a pause between tokens the reset would
    // overtake the data in the kernel: nothing would have been generated, and it would be a failover.)
    a.configure({ tokenDelayMs: 20 });
    a.failNext({ kind: 'crash', afterEvents: 4 });
    const { data, response } = await client.chat.completions
      .create({ model: 'crash', messages: USER_PROMPT, stream: true })
      .withResponse();
    let text = '';
    const error = await (async () => {
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/broke off/);
    expect(text).toBe('Hello! How');
    // Never a switch of deployment once the stream began.
    expect(b.requests).toHaveLength(0);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'error',
      status: 200,
      errorCode: 'upstream_error',
      promptTokens: 18,
      completionTokens: 3,
      usageSource: 'engine',
      finishReason: null,
    });
  });

  it('an upstream error event mid-stream (llama-server writes `error:` lines) keeps its message', async () => {
    a.configure({ dialect: 'llama-server' });
    {
      a.failNext({ kind: 'error-event', afterEvents: 3, message: 'slot unavailable: KV cache full' });
      const raw = await readRawStream(
        `${harness.baseURL}/chat/completions`,
        postInit(harness, { model: 'error-event', messages: USER_PROMPT, stream: true }),
      );
      const last = JSON.parse(raw.events.at(-1)!) as {
        error: { message: string; code: string };
        choices: { finish_reason: string }[];
      };
      expect(raw.events).not.toContain('[DONE]');
      expect(last.choices[0]!.finish_reason).toBe('error');
      expect(last.error).toMatchObject({
        code: 'upstream_error',
        message: expect.stringContaining('slot unavailable: KV cache full'),
      });
      const row = await latestLedgerRow(harness);
      expect(row).toMatchObject({ outcome: 'error', errorCode: 'upstream_error', usageSource: 'counted' });
      expect(row.completionTokens).toBeGreaterThan(0);
    }
  });

  it('a stream that ends without a finish reason or [DONE] is an error, not a clean end', async () => {
    a.failNext({ kind: 'truncate', afterEvents: 5 });
    const raw = await readRawStream(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'truncate', messages: USER_PROMPT, stream: true }),
    );
    expect(raw.events).not.toContain('[DONE]');
    expect(JSON.parse(raw.events.at(-1)!)).toMatchObject({
      error: { code: 'upstream_error', message: expect.stringContaining('before the answer was complete') },
    });
  });
});

describe('before the first byte: failover', () => {
  it('429 with retry-after: the next deployment serves, and the limited one is left alone meanwhile', async () => {
    a.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '30' } });
    const first = await streamAll('limited');
    expect(first.text).toBe('Hello! How can I help you today?');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    expect(await ledgerRow(harness, first.requestId)).toMatchObject({
      outcome: 'completed',
      engine: expect.stringContaining(new URL(b.url).host),
    });
    // `a` asked for 30 s: the next request goes straight to `b`, without sleeping.
    const started = performance.now();
    await streamAll('limited');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect([a.requests.length, b.requests.length]).toEqual([1, 2]);
  });

  it('500: the next deployment serves', async () => {
    a.failNext({ kind: 'status', status: 500, message: 'worker died' });
    expect((await streamAll('server-error')).text).toBe('Hello! How can I help you today?');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
  });

  it('a crash before the first token: the next deployment serves (nothing was generated for the client yet)', async () => {
    // Only vLLM's role chunk goes out before the socket dies: no token, so the stream has not begun.
    a.failNext({ kind: 'crash', afterEvents: 1 });
    const { text, requestId } = await streamAll('crash-early');
    expect(text).toBe('Hello! How can I help you today?');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    expect(await ledgerRow(harness, requestId)).toMatchObject({ outcome: 'completed', completionTokens: 10 });
  });

  it('an error event before the first token (vLLM out of memory): the next deployment serves', async () => {
    a.failNext({ kind: 'error-event', afterEvents: 1, message: 'CUDA out of memory' });
    expect((await streamAll('error-first')).text).toBe('Hello! How can I help you today?');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
  });

  it('a refused connection: the next deployment serves', async () => {
    const { text, requestId } = await streamAll('refused-then-b');
    expect(text).toBe('Hello! How can I help you today?');
    expect(b.requests).toHaveLength(1);
    expect(await ledgerRow(harness, requestId)).toMatchObject({
      outcome: 'completed',
      engine: expect.stringContaining(new URL(b.url).host),
    });
  });

  it('no first token within firstTokenTimeoutMs: the next deployment serves, and the first request is aborted', async () => {
    a.failNext({ kind: 'hang' });
    const started = performance.now();
    expect((await streamAll('hang')).text).toBe('Hello! How can I help you today?');
    expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_TOKEN_TIMEOUT_MS - 20);
    expect(b.requests).toHaveLength(1);
    expect(a.requests[0]!.aborted).toBe(true);
  });

  it('a deployment at its concurrency cap: the request goes to the next one', async () => {
    a.configure({ tokenDelayMs: 30 });
    const holding = client.chat.completions.create({ model: 'capped', messages: USER_PROMPT, stream: true });
    const firstStream = await holding;
    const iterator = firstStream[Symbol.asyncIterator]();
    await iterator.next();
    await streamAll('capped');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    for (let next = await iterator.next(); !next.done; next = await iterator.next());
  });

  it("every deployment failing: the last one's status (503, 502) with a message that says so, and one ledger row", async () => {
    a.failNext({ kind: 'status', status: 500, message: 'worker died' });
    b.failNext({ kind: 'status', status: 503, message: 'model is loading' });
    const error = await client.chat.completions
      .create({ model: 'all-failing', messages: USER_PROMPT, stream: true })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(503);
    expect(apiError.message).toMatch(
      /No deployment of model "all-failing" could take the request \(2 tried\).*model is loading/,
    );
    expect(await ledgerRow(harness, apiError.requestID!)).toMatchObject({
      outcome: 'error',
      status: 503,
      engine: null,
    });

    a.failNext({ kind: 'status', status: 500, message: 'worker died' });
    b.failNext({ kind: 'status', status: 502, message: 'bad gateway' });
    const second = (await client.chat.completions
      .create({ model: 'all-failing', messages: USER_PROMPT })
      .catch((caught: unknown) => caught)) as APIError;
    expect(second.status).toBe(502);
    expect(second.message).toMatch(/2 tried.*HTTP 502.*bad gateway/);
  });

  it('every deployment refusing connections: 503 engine_unavailable', async () => {
    const error = (await client.chat.completions
      .create({ model: 'all-refused', messages: USER_PROMPT })
      .catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(503);
    expect(error.code).toBe('engine_unavailable');
    expect(error.message).toMatch(/unreachable \(ECONNREFUSED\)/);
  });

  it('400 from the upstream: 400 to the client with its message and param, not retried', async () => {
    a.failAlways({ kind: 'status', status: 400, message: 'max_tokens must be at most 4096' });
    b.failAlways({ kind: 'status', status: 400, message: 'max_tokens must be at most 4096' });
    a.configure({ dialect: 'openai' });
    const error = (await client.chat.completions
      .create({ model: 'invalid', messages: USER_PROMPT, max_tokens: 100_000 })
      .catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'max_tokens',
      message: 'max_tokens must be at most 4096',
    });
    expect(a.requests.length + b.requests.length).toBe(1);
  });

  it("401 from the upstream is the gateway's configuration problem: 502 to the client, not 401", async () => {
    a.failAlways({ kind: 'status', status: 401, message: 'Incorrect API key provided: sk-abc***xyz' });
    const error = (await client.chat.completions
      .create({ model: 'unauthorized', messages: USER_PROMPT })
      .catch((caught: unknown) => caught)) as APIError;
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/credentials/);
    expect(error.message).not.toMatch(/sk-/);
  });

  it('429 from the only deployment: 429 to the client with retry-after', async () => {
    a.failNext({ kind: 'status', status: 429, headers: { 'retry-after-ms': '1500' } });
    const response = await fetch(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'solo-limited', messages: USER_PROMPT }),
    );
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after-ms')).toBe('1500');
    expect(response.headers.get('retry-after')).toBe('2');
  });
});

describe('upstreams that bend the protocol', () => {
  it('a JSON completion in answer to a streaming request is still streamed to the client', async () => {
    a.failNext({ kind: 'ignore-stream' });
    const raw = await readRawStream(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'ignores-stream', messages: USER_PROMPT, stream: true }),
    );
    expect(raw.events.at(-1)).toBe('[DONE]');
    const chunks = raw.events
      .slice(0, -1)
      .map((event) => JSON.parse(event) as { choices: { delta: { content?: string } }[]; usage?: unknown });
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe(
      'Hello! How can I help you today?',
    );
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 18, completion_tokens: 10, total_tokens: 28 });
  });

  it("an upstream that keeps the response open after [DONE]: the client's stream ends at once", async () => {
    a.failNext({ kind: 'hold-after-done' });
    const started = performance.now();
    const raw = await readRawStream(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'held-open', messages: USER_PROMPT, stream: true }),
    );
    expect(raw.events.at(-1)).toBe('[DONE]');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a server whose upstream still holds a response open after [DONE] shuts down without waiting for it', async () => {
    const holder = await FakeUpstream.start({ dialect: 'vllm' });
    // The default idle deadline (60 s) would keep that connection, and the shutdown, waiting; the test times out first.
    const gateway = await startGateway([{ name: 'held', deployments: [{ url: holder.url }] }]);
    try {
      holder.failNext({ kind: 'hold-after-done' });
      const raw = await readRawStream(
        `${gateway.baseURL}/chat/completions`,
        postInit(gateway, { model: 'held', messages: USER_PROMPT, stream: true }),
      );
      expect(raw.events.at(-1)).toBe('[DONE]');
      expect(holder.requests[0]!.aborted).toBe(false);
      await gateway.close();
      await waitUntil(() => holder.requests[0]!.aborted);
    } finally {
      await holder.close();
    }
  }, 20_000);
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('cooldown', () => {
  it('a deployment that keeps failing is skipped for the next requests', async () => {
    a.failAlways({ kind: 'status', status: 500 });
    for (let request = 0; request < 5; request += 1)
      expect((await streamAll('cooling')).text).toBe('Hello! How can I help you today?');
    // Two failures (failuresBeforeCooldown: 2), then `a` cools down for 60 s and is not asked again.
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(5);
  });
});

describe('waiting for a slow first token', () => {
  it('sends keep-alive comments, then the content', async () => {
    a.failNext({ kind: 'slow-first-token', delayMs: 350 });
    const raw = await readRawStream(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'slow', messages: USER_PROMPT, stream: true }),
    );
    expect(raw.status).toBe(200);
    const firstData = raw.text.indexOf('data: ');
    expect(raw.text.slice(0, firstData).match(/: keep-alive\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(raw.events.at(-1)).toBe('[DONE]');
  });
});

describe('client disconnect', () => {
  it('aborts the upstream request at once, and the ledger row is cancelled with the tokens so far', async () => {
    a.configure({ tokenDelayMs: 60 });
    const controller = new AbortController();
    const response = await fetch(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'disconnect', messages: USER_PROMPT, stream: true }, controller.signal),
    );
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id')!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('"content":" How"')) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before the third token: ${received}`);
      received += decoder.decode(value, { stream: true });
    }
    const abortedAt = performance.now();
    controller.abort();
    const deadline = abortedAt + 1_000;
    while (!a.requests[0]?.aborted && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    const upstream = a.requests[0]!;
    expect(upstream.aborted).toBe(true);
    // Left running, the upstream would stream its last 7 tokens (60 ms apart) and close on its own:
    // the abort must reach it well before that, whatever the machine's load adds to both.
    expect(upstream.abortedAt! - abortedAt).toBeLessThan(7 * 60);
    const row = await ledgerRow(harness, requestId);
    expect(row).toMatchObject({ outcome: 'cancelled', finishReason: null, usageSource: 'engine', promptTokens: 18 });
    expect(row.completionTokens).toBeGreaterThanOrEqual(3);
    expect(row.completionTokens).toBeLessThan(10);
  });

  it('aborts the upstream request at once when the client leaves before the first token', async () => {
    a.failNext({ kind: 'slow-first-token', delayMs: 5_000 });
    const controller = new AbortController();
    const response = await fetch(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model: 'disconnect-waiting', messages: USER_PROMPT, stream: true }, controller.signal),
    );
    // Headers came with the first keep-alive (keepAliveMs: 100); the upstream has produced nothing yet.
    const requestId = response.headers.get('x-request-id')!;
    while (a.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const abortedAt = performance.now();
    controller.abort();
    const deadline = abortedAt + 1_000;
    while (!a.requests[0]!.aborted && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    // The first token is 5 s away: an abort seen within the 1 s wait above is the client's, not the end.
    expect(a.requests[0]!.aborted).toBe(true);
    expect(a.requests[0]!.abortedAt! - abortedAt).toBeLessThan(1_000);
    expect(await ledgerRow(harness, requestId)).toMatchObject({
      outcome: 'cancelled',
      completionTokens: 0,
      usageSource: 'none',
    });
  });
});

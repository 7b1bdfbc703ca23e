import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, MODEL, startAdminTestServer, type AdminTestServer } from '../admin/admin-test-server.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';

const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
];

function expectRateLimitHeaders(headers: Headers): void {
  for (const name of RATE_LIMIT_HEADERS)
    expect(headers.get(name), name).toMatch(/^\d+(\.\d+)?(ms|s|m\d+(\.\d+)?s|h\d+m\d+(\.\d+)?s)?$/);
  expect(headers.get('x-ratelimit-reset-requests')).toMatch(/\d(ms|s)$/);
}

function expectRetryHeaders(headers: Headers): void {
  expect(headers.get('retry-after')).toMatch(/^\d+$/);
  expect(headers.get('retry-after-ms')).toMatch(/^\d+$/);
  expect(Number(headers.get('retry-after'))).toBe(Math.ceil(Number(headers.get('retry-after-ms')) / 1000));
}

/** What the SDK's fetch saw: when each attempt went out and came back, and its status and headers. */
interface Attempt {
  sentAt: number;
  answeredAt: number;
  status: number;
  headers: Headers;
}

function recordingFetch(attempts: Attempt[]): typeof fetch {
  return async (input, init) => {
    const sentAt = performance.now();
    const response = await fetch(input, init);
    attempts.push({ sentAt, answeredAt: performance.now(), status: response.status, headers: response.headers });
    return response;
  };
}

describe.each([['memory'], ['redis']])('rate limits over HTTP (%s store)', (store) => {
  let harness: AdminTestServer;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    // A model whose upstream sends headers and then nothing: a request that holds its slot until the client leaves.
    upstream = await FakeUpstream.start();
    upstream.failAlways({ kind: 'hang' });
    // Keep-alives every 100 ms: a waiting stream gets its 200 and headers at once.
    harness = await startAdminTestServer({
      redis: store === 'redis',
      server: { keepAliveMs: 100 },
      extraModels: [{ name: 'hanging', engine: 'openai', deployments: [{ url: upstream.url, model: 'x' }] }],
    });
  });
  afterAll(async () => {
    await harness.close();
    await upstream.close();
  });

  it('sends x-ratelimit-* on successful responses, streamed ones included', async () => {
    const { key } = await harness.createKey({ name: 'headers', rpm: 100, tpm: 100_000 });
    const plain = await chat(harness.baseURL, key);
    expect(plain.status).toBe(200);
    expectRateLimitHeaders(plain.headers);
    expect(plain.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(plain.headers.get('x-ratelimit-remaining-requests')).toBe('99');

    const streamed = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true }),
    });
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expectRateLimitHeaders(streamed.headers);
    expect(streamed.headers.get('x-ratelimit-remaining-requests')).toBe('98');
    expect(await streamed.text()).toContain('[DONE]');
  });

  it('answers 429 rate_limit_exceeded with Retry-After, retry-after-ms and x-ratelimit-*, and records it', async () => {
    const { id, key } = await harness.createKey({ name: 'rpm-2', rpm: 2, tpm: 100_000 });
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    const refused = await chat(harness.baseURL, key);
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({
      error: {
        message: expect.stringMatching(/RPM.*try again in/),
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    expectRetryHeaders(refused.headers);
    expectRateLimitHeaders(refused.headers);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThan(25_000);
    // Browsers may read them too.
    expect(refused.headers.get('access-control-expose-headers')).toMatch(
      /x-ratelimit-remaining-requests.*retry-after-ms/,
    );

    await harness.server.ledger.flush();
    const requestId = refused.headers.get('x-request-id')!;
    const [row] = (await harness.server.ledger.rows({ keyId: id })).filter(
      (candidate) => candidate.requestId === requestId,
    );
    expect(row).toMatchObject({
      outcome: 'error',
      status: 429,
      errorCode: 'rate_limit_exceeded',
      usageSource: 'none',
      engine: null,
    });
  });

  it('the openai SDK waits retry-after-ms and then succeeds', async () => {
    const { key } = await harness.createKey({ name: 'sdk-retry', rpm: 20, tpm: 100_000 });
    for (let index = 0; index < 20; index += 1) expect((await chat(harness.baseURL, key)).status).toBe(200);
    const attempts: Attempt[] = [];
    const client = new OpenAI({
      baseURL: harness.baseURL,
      apiKey: key,
      maxRetries: 2,
      fetch: recordingFetch(attempts),
    });
    const started = performance.now();
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    const total = performance.now() - started;
    expect(completion.object).toBe('chat.completion');
    expect(attempts.map((attempt) => attempt.status)).toEqual([429, 200]);
    const asked = Number(attempts[0]!.headers.get('retry-after-ms'));
    const waited = attempts[1]!.sentAt - attempts[0]!.answeredAt;
    // rpm 20 returns one request every 3 s; the burst took a little of that already.
    expect(asked).toBeGreaterThan(1_000);
    expect(asked).toBeLessThanOrEqual(3_000);
    expect(waited).toBeGreaterThanOrEqual(asked - 5);
    expect(waited).toBeLessThan(asked + 500);
    console.info(
      `[${store}] SDK retry: server asked retry-after-ms=${asked}, SDK waited ${Math.round(waited)} ms, call took ${Math.round(total)} ms`,
    );
  });

  it('an exhausted budget is 429 insufficient_quota with x-should-retry: false, which the SDK does not retry', async () => {
    const { key } = await harness.createKey({
      name: 'budget',
      rpm: 100,
      tpm: 100_000,
      budget: { tokens: 30, period: 'day' },
    });
    let response = await chat(harness.baseURL, key, { max_tokens: 8 });
    for (let index = 0; index < 10 && response.status === 200; index += 1)
      response = await chat(harness.baseURL, key, { max_tokens: 8 });
    expect(response.status).toBe(429);
    expect(response.json).toMatchObject({ error: { type: 'insufficient_quota', code: 'insufficient_quota' } });
    expect(response.headers.get('x-should-retry')).toBe('false');
    expectRetryHeaders(response.headers);
    expectRateLimitHeaders(response.headers);

    const attempts: Attempt[] = [];
    const client = new OpenAI({
      baseURL: harness.baseURL,
      apiKey: key,
      maxRetries: 2,
      fetch: recordingFetch(attempts),
    });
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
    expect(attempts).toHaveLength(1);
  });

  it('a model outside the allow-list is a 404 identical to an unknown model', async () => {
    const { key } = await harness.createKey({ name: 'allow-list', models: ['some-other-model'] });
    const { key: open } = await harness.createKey({ name: 'open' });
    const refused = await chat(harness.baseURL, key);
    const unknown = await chat(harness.baseURL, open, { model: 'no-such-model' });
    expect(refused.status).toBe(404);
    expect(refused.json).toEqual({
      error: {
        message: `The model \`${MODEL}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    expect(JSON.stringify(unknown.json).replace('no-such-model', MODEL)).toBe(JSON.stringify(refused.json));
  });

  it('limits concurrent requests and frees the slot when the request ends', async () => {
    const { key } = await harness.createKey({ name: 'one-at-a-time', maxConcurrent: 1 });
    const controller = new AbortController();
    const holding = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'hanging', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: controller.signal,
    });
    expect(holding.status).toBe(200);
    const refused = await chat(harness.baseURL, key);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({
      error: { code: 'rate_limit_exceeded', message: expect.stringMatching(/concurrent/) },
    });
    expectRetryHeaders(refused.headers);
    controller.abort();
    await holding.body?.cancel().catch(() => undefined);
    let after = await chat(harness.baseURL, key);
    for (let attempt = 0; attempt < 50 && after.status === 429; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await chat(harness.baseURL, key);
    }
    expect(after.status).toBe(200);
  });
});

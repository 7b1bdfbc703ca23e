import { getLlama, LlamaCompletion } from 'node-llama-cpp';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/schema.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { legacyCompletionText } from '../fakes/legacy-endpoints.js';
import { expectError, ledgerRow, readJson } from '../helpers/api.js';
import { openApiValidator } from '../helpers/openapi.js';
import { STORIES_MODEL } from '../helpers/paths.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';

/**
 * POST /completions with the official SDK's `completions.create`: the embedded engine (raw prompt, no
 * chat template) and a forwarded upstream (the fake's /v1/completions), streamed and not.
 */
const MODEL = 'stories260K';
const GATEWAY = 'gw';
type Completion = OpenAI.Completions.Completion;

let harness: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  // Deployment defaults (timeouts, weight) are filled in by the config schema.
  const gateway = {
    name: GATEWAY,
    engine: 'openai',
    deployments: [{ url: upstream.url, model: 'fake-model' }],
  } as unknown as ModelConfig;
  harness = await startTestServer({ models: [storiesModel, gateway] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.close();
  await upstream?.close();
});

async function collect(stream: AsyncIterable<Completion>): Promise<Completion[]> {
  const chunks: Completion[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function textOf(chunks: Completion[], index = 0): string {
  return chunks
    .flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index).map((choice) => choice.text))
    .join('');
}

describe('embedded engine', () => {
  it('completes the raw prompt exactly as node-llama-cpp does without a chat template (non-stream, valid CreateCompletionResponse)', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
    });
    openApiValidator().assertValid('CreateCompletionResponse', completion);
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(20);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    // The reference: the same model, same prompt, greedy, through node-llama-cpp's own raw completion.
    const llama = await getLlama({ build: 'never', gpu: false });
    const model = await llama.loadModel({ modelPath: STORIES_MODEL });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    const reference = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion(
      'Once upon a time',
      { maxTokens: 20, temperature: 0 },
    );
    await context.dispose();
    await model.dispose();
    expect(completion.choices[0]!.text).toBe(reference);
  });

  it('streams text_completion chunks whose text equals the non-streamed one, usage on the final chunk', async () => {
    const whole = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
    });
    const response = await client.completions
      .create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 20, temperature: 0, stream: true })
      .withResponse();
    expect(response.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = await collect(response.data);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.object).toBe('text_completion');
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(textOf(chunks)).toBe(whole.choices[0]!.text);
    const last = chunks.at(-1)!;
    openApiValidator().assertValid('CreateCompletionResponse', last);
    expect(last.choices[0]!.finish_reason).toBe('length');
    expect(last.usage).toEqual(whole.usage);
    expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
  });

  it('speaks OpenAI dialect on explicit include_usage: a separate choices: [] usage chunk', async () => {
    const chunks = await collect(
      await client.completions.create({
        model: MODEL,
        prompt: 'Once',
        max_tokens: 5,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBe(5);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');
    expect(chunks.at(-2)!.usage).toBeUndefined();
  });

  it('takes an array of prompts with n: choice i*n+j is completion j of prompt i; prompts are counted once each', async () => {
    const single = await client.completions.create({ model: MODEL, prompt: 'The cat', max_tokens: 8, temperature: 0 });
    const many = await client.completions.create({
      model: MODEL,
      prompt: ['Once upon a time', 'The cat'],
      n: 2,
      max_tokens: 8,
      temperature: 0,
    });
    expect(many.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
    expect(many.choices[2]!.text).toBe(single.choices[0]!.text);
    expect(many.choices[3]!.text).toBe(single.choices[0]!.text);
    expect(many.usage?.completion_tokens).toBe(32);
    const streamed = await collect(
      await client.completions.create({
        model: MODEL,
        prompt: ['Once upon a time', 'The cat'],
        n: 2,
        max_tokens: 8,
        temperature: 0,
        stream: true,
      }),
    );
    for (const index of [0, 1, 2, 3]) expect(textOf(streamed, index)).toBe(many.choices[index]!.text);
    expect(streamed.at(-1)!.usage).toEqual(many.usage);
  });

  it('echoes the prompt before the completion (stream and not), and max_tokens 0 with echo is the prompt alone', async () => {
    const plain = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 6,
      temperature: 0,
    });
    const echoed = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 6,
      temperature: 0,
      echo: true,
    });
    expect(echoed.choices[0]!.text).toBe(`Once upon a time${plain.choices[0]!.text}`);
    const chunks = await collect(
      await client.completions.create({
        model: MODEL,
        prompt: 'Once upon a time',
        max_tokens: 6,
        temperature: 0,
        echo: true,
        stream: true,
      }),
    );
    expect(chunks[0]!.choices[0]!.text).toBe('Once upon a time');
    expect(textOf(chunks)).toBe(echoed.choices[0]!.text);
    const promptOnly = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 0,
      echo: true,
    });
    expect(promptOnly.choices[0]!.text).toBe('Once upon a time');
    expect(promptOnly.usage?.completion_tokens).toBe(0);
  });

  it('honours stop, and seed makes sampling at temperature 1 repeatable', async () => {
    const plain = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
    });
    expect(plain.choices[0]!.text).toContain(' girl');
    const stopped = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
      stop: ['girl'],
    });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.text).not.toContain('girl');
    expect(stopped.choices[0]!.text.length).toBeGreaterThan(5);
    expect(plain.choices[0]!.text.startsWith(stopped.choices[0]!.text)).toBe(true);
    const a = await client.completions.create({
      model: MODEL,
      prompt: 'Once',
      max_tokens: 15,
      temperature: 1,
      top_p: 0.9,
      seed: 42,
    });
    const b = await client.completions.create({
      model: MODEL,
      prompt: 'Once',
      max_tokens: 15,
      temperature: 1,
      top_p: 0.9,
      seed: 42,
    });
    expect(a.choices[0]!.text).toBe(b.choices[0]!.text);
  });

  it('refuses what the model cannot do, and malformed requests, with the contract error shape', async () => {
    const post = (body: unknown) =>
      fetch(`${harness.baseURL}/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(readJson);
    const suffix = expectError(await post({ model: MODEL, prompt: 'def f(', suffix: 'return x' }), 400, {
      type: 'invalid_request_error',
      param: 'suffix',
    });
    expect(suffix.message).toMatch(/fill in the middle/);
    expectError(await post({ model: MODEL }), 400, { param: 'prompt' });
    expectError(await post({ model: MODEL, prompt: [[1, 2, 3]] }), 400, { param: 'prompt[0]' });
    expectError(await post({ model: MODEL, prompt: 'x', logprobs: 2 }), 400, { param: 'logprobs' });
    expectError(await post({ model: MODEL, prompt: ['a', 'b', 'c'], n: 50 }), 400, { param: 'n' });
    expectError(await post({ model: 'nope', prompt: 'x' }), 404, { code: 'model_not_found' });
    expectError(await post({ model: MODEL, prompt: 'Once', max_tokens: 600 }), 400, {
      code: 'context_length_exceeded',
    });
    const unauthorized = await fetch(`${harness.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'x' }),
    }).then(readJson);
    expectError(unauthorized, 401, { code: 'invalid_api_key' });
    await expect(client.completions.create({ model: MODEL, prompt: 'x', suffix: 'y' })).rejects.toBeInstanceOf(
      APIError,
    );
  });

  it('writes one ledger row with the usage the client saw; a dropped stream is cancelled with the tokens produced', async () => {
    const { data, response } = await client.completions
      .create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 })
      .withResponse();
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'completed',
      promptTokens: data.usage!.prompt_tokens,
      completionTokens: 10,
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
    });

    const controller = new AbortController();
    const streamed = await client.completions
      .create(
        { model: MODEL, prompt: 'Once upon a time', max_tokens: 400, temperature: 0, stream: true },
        { signal: controller.signal },
      )
      .withResponse();
    let seen = 0;
    try {
      for await (const chunk of streamed.data) {
        seen += chunk.choices.length;
        if (seen >= 3) controller.abort();
      }
    } catch {
      // The SDK may raise its abort error or just end the iteration: either way the client left.
    }
    expect(seen).toBeGreaterThanOrEqual(3);
    const cancelled = await ledgerRow(harness, streamed.response.headers.get('x-request-id')!);
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.completionTokens).toBeGreaterThanOrEqual(3);
    expect(cancelled.completionTokens).toBeLessThan(400);
  });

  it('applies the key limits as chat does: a second request in the minute of an rpm-1 key is a 429 with its headers', async () => {
    const { key } = await harness.server.keyStore.create({ name: 'one-a-minute', rpm: 1 });
    const limited = new OpenAI({ baseURL: harness.baseURL, apiKey: key, maxRetries: 0 });
    const first = await limited.completions.create({ model: MODEL, prompt: 'Once', max_tokens: 2 }).withResponse();
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const refused = await limited.completions
      .create({ model: MODEL, prompt: 'Once', max_tokens: 2, stream: true })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(429);
    expect((refused as APIError).headers?.get('retry-after')).not.toBeNull();
  });

  it('leaves chat on the same sequences unchanged (a completion in between does not disturb the chat evaluator)', async () => {
    const ask = () =>
      client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Tell me a story' }],
        max_tokens: 12,
        temperature: 0,
      });
    const before = await ask();
    await client.completions.create({
      model: MODEL,
      prompt: 'A completely different prompt',
      max_tokens: 12,
      temperature: 0,
    });
    const after = await ask();
    expect(after.choices[0]!.message.content).toBe(before.choices[0]!.message.content);
  });
});

describe('forwarded to an upstream /v1/completions', () => {
  it('non-stream: forwards the prompt (not echo) and returns the upstream completion and usage', async () => {
    upstream.reset();
    const completion = await client.completions.create({
      model: GATEWAY,
      prompt: 'Hello there',
      max_tokens: 3,
      echo: true,
      suffix: 'END',
      seed: 7,
    });
    openApiValidator().assertValid('CreateCompletionResponse', completion);
    expect(completion.choices[0]!.text).toBe(`Hello there${legacyCompletionText(0, 0, 3).join('')}`);
    expect(completion.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/completions');
    expect(sent.body).toMatchObject({
      model: 'fake-model',
      prompt: 'Hello there',
      max_tokens: 3,
      suffix: 'END',
      seed: 7,
      stream: false,
    });
    expect(sent.body.echo).toBeUndefined();
    expect(sent.body.stream_options).toBeUndefined();
  });

  it('stream: text_completion chunks per choice, usage asked of the upstream and put on the final chunk', async () => {
    upstream.reset();
    const response = await client.completions
      .create({ model: GATEWAY, prompt: ['a b', 'c'], n: 2, max_tokens: 4, stream: true })
      .withResponse();
    const chunks = await collect(response.data);
    for (const index of [0, 1, 2, 3])
      expect(textOf(chunks, index)).toBe(legacyCompletionText(Math.floor(index / 2), index % 2, 4).join(''));
    const last = chunks.at(-1)!;
    openApiValidator().assertValid('CreateCompletionResponse', last);
    expect(last.usage).toEqual({ prompt_tokens: 3, completion_tokens: 16, total_tokens: 19 });
    expect(upstream.requests[0]!.body).toMatchObject({
      prompt: ['a b', 'c'],
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const row = await ledgerRow(harness, response.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ outcome: 'completed', promptTokens: 3, completionTokens: 16, usageSource: 'engine' });
  });

  it('an upstream failure before the first token is the contract error', async () => {
    upstream.reset();
    upstream.failNext({ kind: 'status', status: 400, message: 'bad prompt (test)' });
    const error = await client.completions.create({ model: GATEWAY, prompt: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).message).toContain('bad prompt (test)');
  });
});

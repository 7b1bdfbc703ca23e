import { spawn } from 'node:child_process';
import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedJavaScriptStreamingSource } from '../helpers/seed-examples.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * The seed page's examples (test/fixtures/seed/streaming.txt), run with the official `openai`
 * npm SDK against a real server: the JavaScript one verbatim, the Python ones also translated line for
 * line into the JS SDK (openai-python runs them verbatim in test/clients/python-seed-examples.test.ts),
 * plus the SDK surfaces users reach for next (non-streaming create, the `.stream()` helper, models).
 */

const MODEL = 'stories260K';
type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer();
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

describe('the seed JavaScript streaming example', () => {
  it('streams content chunks and ends with usage on the final chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Write a haiku about programming.' },
      ],
      stream: true,
      max_tokens: 100,
    });
    let text = '';
    let last: Chunk | undefined;
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content;
      if (content) text += content;
      if (chunk.usage) usages.push(chunk.usage);
      last = chunk;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(last?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(usages).toHaveLength(1);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last?.usage?.completion_tokens).toBeLessThanOrEqual(100);
    if (last?.choices[0]?.finish_reason === 'length') expect(last.usage?.completion_tokens).toBe(100);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
  });

  it('runs verbatim (only base URL, key and model changed) as an ES module in its own node process', async () => {
    const source = seedJavaScriptStreamingSource({ baseURL: harness.baseURL, apiKey: harness.apiKey, model: MODEL });
    const child = spawn(process.execPath, ['--input-type=module'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdin.end(source);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // process.stdout.write(content) for every token, then console.log(): the text and one newline.
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trim().length).toBeGreaterThan(0);
  });
});

describe('the seed "Collecting the full response" example (Python, translated)', () => {
  it('collects the content and finds usage on the final chunk without asking for it', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Explain recursion.' }],
      stream: true,
    });
    const collectedContent: string[] = [];
    const seen: Chunk[] = [];
    let tokensUsed: number | null = null;
    for await (const chunk of stream) {
      // Python: `delta = chunk.choices[0].delta` (no guard: an empty `choices` raises IndexError there).
      const delta = chunk.choices[0]!.delta;
      if (delta.content) collectedContent.push(delta.content);
      if (chunk.usage) tokensUsed = chunk.usage.total_tokens;
      seen.push(chunk);
    }
    const fullResponse = collectedContent.join('');
    expect(fullResponse.length).toBeGreaterThan(0);
    expect(tokensUsed).not.toBeNull();
    const final = seen.at(-1)!;
    // Usage is on the final chunk (the one with finish_reason), and only there.
    expect(final.usage?.total_tokens).toBe(tokensUsed);
    expect(final.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(seen.filter((chunk) => chunk.usage)).toHaveLength(1);
    expect(final.usage!.completion_tokens).toBeGreaterThanOrEqual(collectedContent.length);
    expect(final.usage!.total_tokens).toBe(final.usage!.prompt_tokens + final.usage!.completion_tokens);
  });
});

describe('the seed "Async streaming" example (Python AsyncOpenAI, translated)', () => {
  it('iterates the stream asynchronously and prints the content as it comes', async () => {
    const asyncClient = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const stream = await asyncClient.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Tell me a short story.' }],
      stream: true,
    });
    const printed: string[] = [];
    let chunks = 0;
    const iterator = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      chunks += 1;
      // Python: `content = chunk.choices[0].delta.content`
      const content = next.value.choices[0]!.delta.content;
      if (content) printed.push(content);
    }
    expect(printed.length).toBeGreaterThan(0);
    expect(chunks).toBeGreaterThan(printed.length);
  });
});

describe('non-streaming create', () => {
  it('returns message.content, finish_reason and usage equal to what the stream gives (temperature 0)', async () => {
    const params = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      max_tokens: 48,
      temperature: 0,
    };
    const completion = await client.chat.completions.create(params);
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    const choice = completion.choices[0]!;
    expect(choice.index).toBe(0);
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content?.length).toBeGreaterThan(0);
    expect(choice.finish_reason).toBe('length');
    expect(choice.logprobs).toBeNull();
    expect(completion.usage?.completion_tokens).toBe(48);

    const stream = await client.chat.completions.create({ ...params, stream: true });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(choice.message.content);
    expect(finish).toBe(choice.finish_reason);
    expect(withoutCached(usage)).toStrictEqual(withoutCached(completion.usage));
  });

  it("exposes the x-request-id as the SDK's request id", async () => {
    const { data, request_id } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 })
      .withResponse();
    expect(request_id).toBeTruthy();
    // The SDK also stamps it on the parsed body as a non-enumerable `_request_id`.
    expect((data as { _request_id?: string | null })._request_id).toBe(request_id);
  });
});

describe('the client.chat.completions.stream() helper', () => {
  it('emits content events and resolves finalChatCompletion() with the whole message and usage', async () => {
    const params = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      max_tokens: 40,
      temperature: 0,
    };
    const runner = client.chat.completions.stream(params);
    const deltas: string[] = [];
    let lastSnapshot = '';
    runner.on('content', (delta, snapshot) => {
      deltas.push(delta);
      lastSnapshot = snapshot;
    });
    const final = await runner.finalChatCompletion();
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.choices[0]?.message.content).toBe(deltas.join(''));
    expect(lastSnapshot).toBe(deltas.join(''));
    expect(final.choices[0]?.message.role).toBe('assistant');
    expect(final.choices[0]?.finish_reason).toBe('length');
    expect(final.usage).toStrictEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: 40,
      total_tokens: expect.any(Number),
      // How much of the prompt the engine still held from the requests before (the same prompt).
      prompt_tokens_details: { cached_tokens: expect.any(Number) },
    });
    expect(await runner.finalContent()).toBe(deltas.join(''));

    const plain = await client.chat.completions.create(params);
    expect(final.choices[0]?.message.content).toBe(plain.choices[0]?.message.content);
    expect(withoutCached(final.usage)).toStrictEqual(withoutCached(plain.usage));
    expect(final.id).toMatch(/^chatcmpl-/);
  });

  it('assembles both choices of n=2 (the SDK throws if either lacks its role or finish_reason)', async () => {
    const runner = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 10,
      n: 2,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices.map((choice) => choice.index)).toEqual([0, 1]);
    for (const choice of final.choices) {
      expect(choice.message.role).toBe('assistant');
      expect(choice.message.content?.length).toBeGreaterThan(0);
      expect(choice.finish_reason).toBe('length');
    }
    expect(final.usage?.completion_tokens).toBe(20);
  });

  it("works with OpenAI's dialect too (explicit include_usage: the choices: [] usage chunk)", async () => {
    const runner = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 10,
      temperature: 0,
      stream_options: { include_usage: true },
    });
    const chunks: Chunk[] = [];
    runner.on('chunk', (chunk) => chunks.push(chunk));
    const final = await runner.finalChatCompletion();
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(final.usage?.completion_tokens).toBe(10);
    expect(final.choices[0]?.finish_reason).toBe('length');
  });
});

describe('models', () => {
  it('lists the served model and retrieves it by id', async () => {
    const page = await client.models.list();
    const models = [];
    for await (const model of page) models.push(model);
    expect(models.map((model) => model.id)).toEqual([MODEL]);
    const listed = models[0]!;
    expect(listed.object).toBe('model');
    expect(Number.isInteger(listed.created)).toBe(true);
    expect(typeof listed.owned_by).toBe('string');
    const retrieved = await client.models.retrieve(MODEL);
    expect({ ...retrieved }).toStrictEqual({ ...listed });
  });

  it('raises NotFoundError (404, model_not_found) for an unknown model id', async () => {
    const error = await client.models.retrieve('no-such-model').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as APIError).status).toBe(404);
    expect((error as APIError).code).toBe('model_not_found');
    expect((error as APIError).type).toBe('invalid_request_error');
    expect((error as APIError).requestID).toBeTruthy();
  });

  it('answers the same on the /v1 alias', async () => {
    const alias = new OpenAI({ baseURL: `${harness.server.url}/v1`, apiKey: harness.apiKey, maxRetries: 0 });
    expect((await alias.models.retrieve(MODEL)).id).toBe(MODEL);
    const completion = await alias.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 3,
    });
    expect(completion.model).toBe(MODEL);
    expect(completion.usage?.completion_tokens).toBe(3);
  });
});

describe('request fields', () => {
  it('accepts every field the contract honours (and ignores unknown ones), streaming and not', async () => {
    const params = {
      model: MODEL,
      messages: [
        { role: 'system' as const, content: 'You are a helpful assistant.' },
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'What is the weather ' },
            { type: 'text' as const, text: 'in Tokyo?' },
          ],
        },
        {
          role: 'assistant' as const,
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function' as const,
              function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' },
            },
          ],
        },
        { role: 'tool' as const, tool_call_id: 'call_1', content: 'Sunny, 21 C' },
        { role: 'assistant' as const, content: 'It is sunny.' },
        { role: 'user' as const, content: 'Tell me a story.' },
      ],
      max_completion_tokens: 7,
      temperature: 0.7,
      top_p: 0.9,
      stop: ['zzzq', 'qqqz'],
      seed: 42,
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      n: 1,
      tools: [
        {
          type: 'function' as const,
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { location: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'none' as const,
      parallel_tool_calls: false,
      response_format: { type: 'text' as const },
      user: 'user-1234',
      // Not in the contract (nor in this SDK's types): must be ignored, not refused.
      some_future_field: { enabled: true },
    };
    const completion = await client.chat.completions.create(params);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(7);

    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    // Same seed, same sampling: the stream repeats the non-streamed answer.
    expect(text).toBe(completion.choices[0]?.message.content);
    expect(withoutCached(usage)).toStrictEqual(withoutCached(completion.usage));
  });
});

describe('errors as the SDK sees them', () => {
  it('raises AuthenticationError for a wrong key and BadRequestError naming the param', async () => {
    const wrong = new OpenAI({
      baseURL: harness.baseURL,
      apiKey: 'oruel_wrongwrongwrongwrongwrongwrong',
      maxRetries: 0,
    });
    const auth = await wrong.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(auth).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((auth as APIError).code).toBe('invalid_api_key');

    const bad = await client.chat.completions
      .create({ model: MODEL, messages: [], stream: true })
      .catch((caught: unknown) => caught);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as APIError).param).toBe('messages');
  });
});

/** The counts of a usage; how much of the prompt the engine still held from before (cached_tokens) varies by request order. */
function withoutCached(usage: unknown): unknown {
  return { ...(usage as object), prompt_tokens_details: undefined };
}

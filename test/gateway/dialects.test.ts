import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type Dialect } from '../fakes/dialects.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { openApiValidator, type OpenApiValidator } from '../helpers/openapi.js';
import { jsonEvents, readRawStream } from '../helpers/sse.js';
import type { TestServer } from '../helpers/test-server.js';
import { ledgerRow, postInit, sdk, startGateway, USER_PROMPT, WEATHER_TOOLS } from './gateway-harness.js';

/**
 * The official SDK through Oru-el to each upstream dialect: whatever the upstream's quirks, the client
 * gets the contract (schema-valid chunks, role first, usage on the final chunk with non-empty
 * choices, `[DONE]`, repaired tool-call fragments) and the ledger gets the right usage.
 */

const TEXT = 'Hello! How can I help you today?';
/** What the fixtures report; ollama-legacy reports nothing, so Oru-el counts (o200k). */
const REPORTED: Record<Dialect, { text: [number, number]; tools: [number, number] } | null> = {
  openai: { text: [18, 10], tools: [58, 46] },
  vllm: { text: [18, 10], tools: [58, 27] },
  'llama-server': { text: [18, 10], tools: [58, 31] },
  ollama: { text: [18, 10], tools: [58, 29] },
  'ollama-legacy': null,
};

const fakes = new Map<Dialect, FakeUpstream>();
let harness: TestServer;
let client: OpenAI;
let validator: OpenApiValidator;

beforeAll(async () => {
  validator = openApiValidator();
  for (const dialect of DIALECTS) fakes.set(dialect, await FakeUpstream.start({ dialect }));
  harness = await startGateway(
    DIALECTS.map((dialect) => ({
      name: `via-${dialect}`,
      deployments: [
        {
          url: fakes.get(dialect)!.url,
          model: `${dialect}-native-name`,
          apiKey: 'sk-upstream-secret',
          headers: { 'X-Team': 'search' },
        },
      ],
    })),
  );
  client = sdk(harness);
});
afterAll(async () => {
  await harness?.close();
  for (const fake of fakes.values()) await fake.close();
});

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The contract's rules for every stream, whatever the dialect. */
function expectContractChunks(chunks: Chunk[], model: string): void {
  expect(chunks.length).toBeGreaterThan(2);
  for (const chunk of chunks) {
    validator.assertValid('CreateChatCompletionStreamResponse', chunk);
    expect(chunk.choices.length, 'choices is never empty').toBeGreaterThan(0);
    expect(chunk.model).toBe(model);
    expect(chunk.id).toBe(chunks[0]!.id);
    expect(chunk.created).toBe(chunks[0]!.created);
  }
  expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
  expect(
    chunks.slice(1).every((chunk) => chunk.choices[0]!.delta.role === undefined),
    'role only in the first chunk',
  ).toBe(true);
  const last = chunks.at(-1)!;
  expect(last.choices[0]!.finish_reason).not.toBeNull();
  expect(last.usage).toBeDefined();
  expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
  expect(
    chunks.slice(0, -1).every((chunk) => chunk.usage == null && chunk.choices[0]!.finish_reason === null),
    'usage and finish only on the final chunk',
  ).toBe(true);
}

describe.each(DIALECTS)('through Oru-el to a %s upstream', (dialect) => {
  const model = `via-${dialect}`;
  const reported = REPORTED[dialect];

  it("streams text as the contract says, with the upstream's usage (or counted), and [DONE]", async () => {
    const fake = fakes.get(dialect)!;
    fake.reset();
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages: USER_PROMPT, stream: true })
      .withResponse();
    const chunks = await collect(stream);
    expectContractChunks(chunks, model);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe(TEXT);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    const usage = chunks.at(-1)!.usage!;
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    if (reported) {
      expect([usage.prompt_tokens, usage.completion_tokens]).toEqual(reported.text);
      expect(row.usageSource).toBe('engine');
    } else {
      // o200k: "Hello! How can I help you today?" is 9 tokens; the prompt 2 + 1 (role) + 3 + 3.
      expect([usage.prompt_tokens, usage.completion_tokens]).toEqual([9, 9]);
      expect(row.usageSource).toBe('counted');
    }
    expect(row).toMatchObject({
      outcome: 'completed',
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      finishReason: 'stop',
      engine: expect.stringMatching(/^openai\//),
    });

    // What the upstream was sent: its own model name, our key as Bearer, the extra header, a request for usage.
    const sent = fake.requests.at(-1)!;
    expect(sent.body).toMatchObject({
      model: `${dialect}-native-name`,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(sent.headers['x-team']).toBe('search');
  });

  it('ends the raw stream with [DONE] and nothing after it', async () => {
    const raw = await readRawStream(
      `${harness.baseURL}/chat/completions`,
      postInit(harness, { model, messages: USER_PROMPT, stream: true }),
    );
    expect(raw.status).toBe(200);
    expect(raw.events.at(-1)).toBe('[DONE]');
    expect(raw.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(jsonEvents(raw).every((chunk) => Array.isArray(chunk.choices) && chunk.choices.length > 0)).toBe(true);
  });

  it('repairs tool-call fragments: a function object on each, distinct indexes, arguments that parse', async () => {
    const chunks = await collect(
      await client.chat.completions.create({ model, messages: USER_PROMPT, tools: WEATHER_TOOLS, stream: true }),
    );
    expectContractChunks(chunks, model);
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    for (const chunk of chunks) {
      for (const fragment of chunk.choices[0]!.delta.tool_calls ?? []) {
        expect(fragment.function, 'every fragment has a function object').toBeDefined();
        const call = calls.get(fragment.index);
        if (!call) {
          expect(fragment.id).toBeTruthy();
          expect(fragment.type).toBe('function');
          expect(fragment.function!.name).toBeTruthy();
          calls.set(fragment.index, {
            id: fragment.id!,
            name: fragment.function!.name!,
            arguments: fragment.function!.arguments ?? '',
          });
        } else {
          expect(fragment.id, 'id only on the first fragment').toBeUndefined();
          expect(fragment.function!.name, 'name only on the first fragment').toBeUndefined();
          call.arguments += fragment.function!.arguments ?? '';
        }
      }
    }
    expect([...calls.keys()]).toEqual([0, 1]);
    expect([...calls.values()].map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['get_weather', { location: 'Paris' }],
      ['get_time', { zone: 'CET' }],
    ]);
    expect(new Set([...calls.values()].map((call) => call.id)).size).toBe(2);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    if (reported)
      expect([chunks.at(-1)!.usage!.prompt_tokens, chunks.at(-1)!.usage!.completion_tokens]).toEqual(reported.tools);
  });

  it('answers non-streaming requests with one schema-valid completion, asking the upstream without stream_options', async () => {
    const fake = fakes.get(dialect)!;
    fake.reset();
    const completion = await client.chat.completions.create({ model, messages: USER_PROMPT });
    validator.assertValid('CreateChatCompletionResponse', completion);
    expect(completion.model).toBe(model);
    expect(completion.choices[0]!.message.content).toBe(TEXT);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    // Non-streamed responses always carry usage, whatever the engine.
    expect([completion.usage!.prompt_tokens, completion.usage!.completion_tokens]).toEqual([18, 10]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body.stream).toBe(false);
    expect(fake.requests[0]!.body).not.toHaveProperty('stream_options');

    const withTools = await client.chat.completions.create({ model, messages: USER_PROMPT, tools: WEATHER_TOOLS });
    validator.assertValid('CreateChatCompletionResponse', withTools);
    expect(withTools.choices[0]!.finish_reason).toBe('tool_calls');
    expect(
      withTools.choices[0]!.message.tool_calls!.map(
        (call) => call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)],
      ),
    ).toEqual([
      ['get_weather', { location: 'Paris' }],
      ['get_time', { zone: 'CET' }],
    ]);
  });
});

describe('vendor parameters', () => {
  it('reach the upstream untouched, beside the mapped contract fields', async () => {
    const fake = fakes.get('vllm')!;
    fake.reset();
    const vendor = {
      top_k: 20,
      repetition_penalty: 1.05,
      min_p: 0.05,
      chat_template_kwargs: { enable_thinking: false },
      guided_choice: ['yes', 'no'],
    };
    await collect(
      await client.chat.completions.create({
        model: 'via-vllm',
        messages: USER_PROMPT,
        stream: true,
        max_tokens: 64,
        temperature: 0.3,
        stop: ['\n\n'],
        seed: 7,
        ...vendor,
      } as OpenAI.Chat.ChatCompletionCreateParamsStreaming),
    );
    expect(fake.requests[0]!.body).toEqual({
      ...vendor,
      model: 'vllm-native-name',
      messages: USER_PROMPT,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      temperature: 0.3,
      stop: ['\n\n'],
      seed: 7,
    });
  });
});

describe('framing an upstream may use', () => {
  it.each([
    ['data: without a space', { compactData: true }],
    ['comment lines between events', { comments: true }],
    ['CRLF line ends', { crlf: true }],
    ['no [DONE] after the finish reason', { omitDone: true }],
  ])('%s', async (_label, framing) => {
    const fake = fakes.get('openai')!;
    fake.configure({ framing });
    try {
      const chunks = await collect(
        await client.chat.completions.create({ model: 'via-openai', messages: USER_PROMPT, stream: true }),
      );
      expectContractChunks(chunks, 'via-openai');
      expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join('')).toBe(TEXT);
      expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 10 });
    } finally {
      fake.configure({ framing: {} });
    }
  });
});

describe('GET /models', () => {
  it('lists the public names only, never the upstream names or URLs', async () => {
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id).sort();
    expect(ids).toEqual(DIALECTS.map((dialect) => `via-${dialect}`).sort());
    expect(JSON.stringify(models.data)).not.toMatch(/native-name|127\.0\.0\.1/);
  });
});

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  WEATHER_QUESTION,
  assertChunksMatchOpenAi,
  assertCompletionMatchesOpenAi,
  collect,
  plainModel,
  randomModel,
  readToolStream,
  toolsModel,
  weatherTool,
} from './tool-helpers.js';

/**
 * A model whose chat format has no tool-call convention says so in its capabilities, and a request
 * with `tools` to it is a 400 naming `tools` (not a silent ignore), streamed or not, whatever the
 * tool_choice, except `none`: then the tools are not used, as asked, and the answer is text.
 */

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer({ models: [plainModel, randomModel, toolsModel] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

function capabilities(name: string) {
  const [engine] = harness.server.registry.resolve(name).engines;
  if (!engine) throw new Error(`no engine behind ${name}`);
  return engine.capabilities;
}

describe('capabilities', () => {
  it('the tool-template model can do tools; the models without one say they cannot', () => {
    expect(capabilities(toolsModel.name).tools).toBe(true);
    expect(capabilities(plainModel.name).tools).toBe(false);
    expect(capabilities(randomModel.name).tools).toBe(false);
  });
});

describe('tools to a model without a tool template', () => {
  const CHOICES: [string, OpenAI.Chat.Completions.ChatCompletionToolChoiceOption | undefined][] = [
    ['no tool_choice', undefined],
    ['auto', 'auto'],
    ['required', 'required'],
    ['named', { type: 'function', function: { name: 'get_weather' } }],
  ];
  for (const model of [plainModel.name, randomModel.name]) {
    for (const [label, toolChoice] of CHOICES) {
      it(`${model}, ${label}: 400 invalid_request_error naming tools, streamed or not`, async () => {
        for (const stream of [false, true]) {
          const error = await client.chat.completions
            .create({
              model,
              messages: WEATHER_QUESTION,
              tools: [weatherTool],
              ...(toolChoice ? { tool_choice: toolChoice } : {}),
              stream,
              max_tokens: 5,
            })
            .catch((caught: unknown) => caught);
          expect(error, `stream ${stream}`).toBeInstanceOf(OpenAI.BadRequestError);
          const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
          expect(apiError.status).toBe(400);
          expect(apiError.type).toBe('invalid_request_error');
          expect(apiError.param).toBe('tools');
          expect(apiError.message).toMatch(/tool/);
        }
      });
    }
  }

  it('tool_choice none: 200, text, the tools ignored as asked (non-streaming)', async () => {
    const completion = await client.chat.completions.create({
      model: plainModel.name,
      messages: WEATHER_QUESTION,
      tools: [weatherTool],
      tool_choice: 'none',
      seed: 1,
      max_tokens: 20,
    });
    assertCompletionMatchesOpenAi(completion);
    const choice = completion.choices[0];
    expect(choice?.message.tool_calls ?? []).toEqual([]);
    expect(typeof choice?.message.content).toBe('string');
    expect(choice?.message.content?.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(choice?.finish_reason);
  });

  it('tool_choice none: the same prompt as without tools (nothing about tools rendered)', async () => {
    const withTools = await client.chat.completions.create({
      model: plainModel.name,
      messages: WEATHER_QUESTION,
      tools: [weatherTool],
      tool_choice: 'none',
      seed: 1,
      max_tokens: 20,
    });
    const without = await client.chat.completions.create({
      model: plainModel.name,
      messages: WEATHER_QUESTION,
      seed: 1,
      max_tokens: 20,
    });
    expect(withTools.usage?.prompt_tokens).toBe(without.usage?.prompt_tokens);
    expect(withTools.choices[0]?.message.content).toBe(without.choices[0]?.message.content);
  });

  it('tool_choice none, streamed: a valid text stream', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: plainModel.name,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'none',
        stream: true,
        seed: 1,
        max_tokens: 20,
      }),
    );
    assertChunksMatchOpenAi(chunks);
    const reading = readToolStream(chunks);
    expect(reading.problems).toEqual([]);
    expect(reading.calls).toEqual([]);
    expect(reading.hasText).toBe(true);
    expect(['stop', 'length']).toContain(reading.finishReason);
  });
});

describe('tool_choice none on the tool-template model', () => {
  it('no call is possible: text, never tool_calls (5 seeds)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const completion = await client.chat.completions.create({
        model: toolsModel.name,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'none',
        seed,
        max_tokens: 40,
      });
      expect(completion.choices[0]?.message.tool_calls ?? []).toEqual([]);
      expect(completion.choices[0]?.finish_reason).not.toBe('tool_calls');
    }
  });
});

describe('tool_choice that cannot be honoured', () => {
  it('naming a function that is not in tools: 400 naming tool_choice', async () => {
    const error = await client.chat.completions
      .create({
        model: toolsModel.name,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
        max_tokens: 5,
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tool_choice');
  });

  it('required without tools: 400 naming tool_choice', async () => {
    const error = await client.chat.completions
      .create({ model: toolsModel.name, messages: WEATHER_QUESTION, tool_choice: 'required', max_tokens: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tool_choice');
  });
});

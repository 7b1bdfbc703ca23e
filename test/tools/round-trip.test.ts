import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  WEATHER_QUESTION,
  assertChunksMatchOpenAi,
  assertCompletionMatchesOpenAi,
  checkJsonText,
  collect,
  functionCalls,
  readToolStream,
  schemaCheck,
  timeTool,
  toolsModel,
  weatherTool,
  type Message,
} from './tool-helpers.js';

/**
 * The agent loop: an assistant message with tool_calls, `tool` messages answering them by
 * tool_call_id, and the next turn generated from that history through the model's template. That the
 * results are rendered is shown by prompt_tokens: the prompt grows with each result, and by as much as
 * the result's text. A tool message answering no call is the caller's 400.
 */

const MODEL = toolsModel.name;
const TOOLS = [weatherTool, timeTool];
const weatherArguments = schemaCheck(weatherTool.function.parameters as Record<string, unknown>);

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer({ models: [toolsModel] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

const CALL_ID = 'call_abc123';
const assistantCall: Message = {
  role: 'assistant',
  content: null,
  tool_calls: [{ id: CALL_ID, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' } }],
};
const withoutResult: Message[] = [...WEATHER_QUESTION, assistantCall];
const withResult = (content: string): Message[] => [...withoutResult, { role: 'tool', tool_call_id: CALL_ID, content }];
const SHORT = 'sunny';
const LONG = 'sunny and twenty five degrees with a light wind from the north and no clouds at all';

async function promptTokens(messages: Message[]): Promise<number> {
  const completion = await client.chat.completions.create({
    model: MODEL,
    messages,
    tools: TOOLS,
    max_tokens: 1,
    seed: 1,
  });
  return completion.usage?.prompt_tokens ?? -1;
}

describe('a turn after tool results', () => {
  for (const toolChoice of ['auto', 'none'] as const) {
    it(`tool_choice ${toolChoice}: 200 with a normal finish (text, or a valid call)`, async () => {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: withResult(SHORT),
        tools: TOOLS,
        tool_choice: toolChoice,
        seed: 2,
        max_tokens: 40,
      });
      assertCompletionMatchesOpenAi(completion);
      const choice = completion.choices[0];
      const calls = functionCalls(completion);
      if (calls.length === 0) {
        expect(['stop', 'length']).toContain(choice?.finish_reason);
        expect(typeof choice?.message.content).toBe('string');
      } else {
        expect(toolChoice).toBe('auto');
        expect(choice?.finish_reason).toBe('tool_calls');
      }
    });
  }

  it('required: the next turn is a new valid call, streamed by the contract', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: withResult(SHORT),
        tools: TOOLS,
        tool_choice: 'required',
        parallel_tool_calls: false,
        stream: true,
        seed: 3,
        max_tokens: 400,
      }),
    );
    const reading = readToolStream(chunks);
    expect(reading.problems).toEqual([]);
    assertChunksMatchOpenAi(chunks);
    expect(reading.finishReason).toBe('tool_calls');
    expect(reading.calls).toHaveLength(1);
    // A new call gets a new id, never the one from the history.
    expect(reading.calls[0]?.id).not.toBe(CALL_ID);
  });

  it('streamed with auto: a valid stream', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: withResult(LONG),
        tools: TOOLS,
        stream: true,
        seed: 4,
        max_tokens: 40,
      }),
    );
    const reading = readToolStream(chunks);
    expect(reading.problems).toEqual([]);
    assertChunksMatchOpenAi(chunks);
    expect(['stop', 'length', 'tool_calls']).toContain(reading.finishReason);
  });
});

describe('the tool result is rendered into the prompt', () => {
  it('prompt_tokens: no result < short result < long result, the difference in line with the text', async () => {
    const none = await promptTokens(withoutResult);
    const short = await promptTokens(withResult(SHORT));
    const long = await promptTokens(withResult(LONG));
    expect(none).toBeGreaterThan(0);
    expect(short).toBeGreaterThan(none);
    expect(long).toBeGreaterThan(short);
    // The long result has 80 more characters; this 512-token vocabulary needs well over 10 tokens for them.
    expect(long - short).toBeGreaterThan(10);
  });

  it('a structured (JSON) result and a result given as text parts are rendered too', async () => {
    const short = await promptTokens(withResult(SHORT));
    const json = await promptTokens(withResult('{"temperature":25,"sky":"clear","wind":{"speed":3,"from":"north"}}'));
    expect(json).toBeGreaterThan(short);
    const parts: Message[] = [
      ...withoutResult,
      {
        role: 'tool',
        tool_call_id: CALL_ID,
        content: [
          { type: 'text', text: 'sunny' },
          { type: 'text', text: ' and warm' },
        ],
      },
    ];
    const partsTokens = await promptTokens(parts);
    expect(partsTokens).toBeGreaterThan(short);
  });

  it('two calls in one assistant turn, each answered: each result adds to the prompt', async () => {
    const twoCalls: Message = {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_one', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' } },
        { id: 'call_two', type: 'function', function: { name: 'get_time', arguments: '{"city":"Tokyo","utc":false}' } },
      ],
    };
    const first: Message[] = [
      ...WEATHER_QUESTION,
      twoCalls,
      { role: 'tool', tool_call_id: 'call_one', content: 'sunny and warm' },
    ];
    const both: Message[] = [
      ...first,
      { role: 'tool', tool_call_id: 'call_two', content: 'ten past three in the afternoon' },
    ];
    const oneTokens = await promptTokens(first);
    const bothTokens = await promptTokens(both);
    expect(bothTokens).toBeGreaterThan(oneTokens);
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: both,
      tools: TOOLS,
      seed: 5,
      max_tokens: 30,
    });
    expect(['stop', 'length', 'tool_calls']).toContain(completion.choices[0]?.finish_reason);
  });
});

describe('the SDK agent loop', () => {
  it("a forced call, the SDK's own message appended as is, the result by its id, the next turn", async () => {
    const first = await client.chat.completions.create({
      model: MODEL,
      messages: WEATHER_QUESTION,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      seed: 6,
      max_tokens: 400,
    });
    const [call] = functionCalls(first);
    expect(call).toBeDefined();
    expect(checkJsonText(call?.arguments ?? '', weatherArguments)).toBeNull();
    const message = first.choices[0]?.message as OpenAI.Chat.Completions.ChatCompletionMessage;
    const messages: Message[] = [
      ...WEATHER_QUESTION,
      message,
      { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny, 25 degrees' },
    ];
    const next = await client.chat.completions.create({
      model: MODEL,
      messages,
      tools: TOOLS,
      seed: 6,
      max_tokens: 30,
    });
    assertCompletionMatchesOpenAi(next);
    expect(['stop', 'length', 'tool_calls']).toContain(next.choices[0]?.finish_reason);
    expect(next.usage?.prompt_tokens).toBeGreaterThan(first.usage?.prompt_tokens ?? 0);
  });
});

describe('a tool message that answers no call', () => {
  const unknownId: Message[] = [...withoutResult, { role: 'tool', tool_call_id: 'call_nope', content: 'sunny' }];

  it('400 naming messages[2].tool_call_id (non-streaming)', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: unknownId, tools: TOOLS, max_tokens: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.type).toBe('invalid_request_error');
    expect(apiError.param).toBe('messages[2].tool_call_id');
    expect(apiError.message).toContain('call_nope');
  });

  it('400 before any event when streaming, with tool_choice none too', async () => {
    for (const toolChoice of ['auto', 'none'] as const) {
      const error = await client.chat.completions
        .create({
          model: MODEL,
          messages: unknownId,
          tools: TOOLS,
          tool_choice: toolChoice,
          stream: true,
          max_tokens: 5,
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[2].tool_call_id');
    }
  });

  it('a tool message with no assistant call before it at all: 400 naming it', async () => {
    const messages: Message[] = [...WEATHER_QUESTION, { role: 'tool', tool_call_id: CALL_ID, content: 'sunny' }];
    const error = await client.chat.completions
      .create({ model: MODEL, messages, tools: TOOLS, max_tokens: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[1].tool_call_id');
  });

  it('assistant tool_call arguments that are not JSON: 400 naming them', async () => {
    const messages: Message[] = [
      ...WEATHER_QUESTION,
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: CALL_ID, type: 'function', function: { name: 'get_weather', arguments: '{location: Tokyo' } },
        ],
      },
      { role: 'tool', tool_call_id: CALL_ID, content: 'sunny' },
    ];
    const error = await client.chat.completions
      .create({ model: MODEL, messages, tools: TOOLS, max_tokens: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      'messages[1].tool_calls[0].function.arguments',
    );
  });
});

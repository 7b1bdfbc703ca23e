import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  WEATHER_QUESTION,
  assertChunksMatchOpenAi,
  assertCompletionMatchesOpenAi,
  bookingTool,
  checkJsonText,
  collect,
  functionCalls,
  readToolStream,
  schemaCheck,
  seeds,
  timeTool,
  toolsModel,
  weatherTool,
  type Check,
  type Tool,
} from './tool-helpers.js';

/**
 * Grammar-forced tool calls on the fixture model (stories260K with a tool template): `required` and a
 * named function, streamed and not; a named function among several tools (parallel calls and other
 * request fields: forced-calls-parallel.test.ts). Arguments are judged by the tests' own strict
 * ajv (see tool-helpers.ts), never by the server's word.
 */

const MODEL = toolsModel.name;
const TOOLS = [weatherTool, timeTool, bookingTool];
const checks = new Map<string, Check>(
  TOOLS.map((tool) => [tool.function.name, schemaCheck(tool.function.parameters as Record<string, unknown>)]),
);
const named = (tool: Tool) => ({ type: 'function' as const, function: { name: tool.function.name } });

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer({ models: [toolsModel] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

function argumentsProblem(name: string, text: string): string | null {
  const check = checks.get(name);
  if (!check) return `no such tool ${name}`;
  return checkJsonText(text, check);
}

describe('non-streaming forced calls', () => {
  for (const seed of seeds(4)) {
    it(`required (one call), seed ${seed}: message.tool_calls, content null, finish_reason tool_calls`, async () => {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: TOOLS,
        tool_choice: 'required',
        parallel_tool_calls: false,
        seed,
        temperature: 1,
        max_tokens: 400,
      });
      assertCompletionMatchesOpenAi(completion);
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.role).toBe('assistant');
      expect(choice?.message.content).toBeNull();
      const calls = functionCalls(completion);
      expect(calls).toHaveLength(1);
      const call = calls[0];
      expect(call?.id).toMatch(/^call_[A-Za-z0-9]{8,}$/);
      expect(call?.type).toBe('function');
      expect(TOOLS.map((tool) => tool.function.name)).toContain(call?.name);
      expect(argumentsProblem(call?.name ?? '', call?.arguments ?? '')).toBeNull();
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    });
  }

  for (const tool of TOOLS) {
    it(`named ${tool.function.name} among ${TOOLS.length} tools: only that function is called, arguments valid (5 seeds)`, async () => {
      for (const seed of seeds(5)) {
        const completion = await client.chat.completions.create({
          model: MODEL,
          messages: WEATHER_QUESTION,
          tools: TOOLS,
          tool_choice: named(tool),
          seed,
          temperature: 1,
          max_tokens: 400,
        });
        assertCompletionMatchesOpenAi(completion);
        const choice = completion.choices[0];
        expect(choice?.finish_reason, `seed ${seed}`).toBe('tool_calls');
        expect(choice?.message.content).toBeNull();
        const calls = functionCalls(completion);
        expect(calls.length).toBeGreaterThanOrEqual(1);
        for (const call of calls) {
          expect(call.name).toBe(tool.function.name);
          expect(argumentsProblem(call.name, call.arguments), `seed ${seed}`).toBeNull();
        }
      }
    });
  }
});

describe('streamed forced calls', () => {
  const cases: [string, OpenAI.Chat.Completions.ChatCompletionToolChoiceOption, string | null][] = [
    ['required', 'required', null],
    ['named book_table', named(bookingTool), 'book_table'],
    ['named get_time', named(timeTool), 'get_time'],
  ];
  for (const [label, toolChoice, expectedName] of cases) {
    it(`${label}, 3 seeds: contract fragments, valid arguments, the same call as non-streaming`, async () => {
      for (const seed of seeds(3)) {
        const request = {
          model: MODEL,
          messages: WEATHER_QUESTION,
          tools: TOOLS,
          tool_choice: toolChoice,
          parallel_tool_calls: false,
          seed,
          temperature: 1,
          max_tokens: 400,
        };
        const chunks = await collect(await client.chat.completions.create({ ...request, stream: true }));
        const reading = readToolStream(chunks);
        expect(reading.problems).toEqual([]);
        assertChunksMatchOpenAi(chunks);
        expect(reading.finishReason).toBe('tool_calls');
        expect(reading.hasText).toBe(false);
        expect(reading.calls).toHaveLength(1);
        const call = reading.calls[0];
        if (expectedName) expect(call?.name).toBe(expectedName);
        expect(argumentsProblem(call?.name ?? '', call?.arguments ?? '')).toBeNull();
        expect(call?.argumentFragments.length).toBeGreaterThan(1);

        // Same seed, same sampling: the non-streaming answer is the same call (ids are random, so not them).
        const completion = await client.chat.completions.create(request);
        const [same] = functionCalls(completion);
        expect(same?.name).toBe(call?.name);
        expect(same?.arguments).toBe(call?.arguments);
        expect(completion.usage).toEqual(reading.usage);
      }
    });
  }
});

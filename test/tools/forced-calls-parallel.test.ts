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
 * Grammar-forced tool calls, continued (split from forced-calls.test.ts so the two files run on two
 * workers): parallel calls with `parallel_tool_calls` true and false over many seeds, and forced calls
 * with other request fields (n, stop, a tool without parameters). Arguments are judged by the tests'
 * own strict ajv (see tool-helpers.ts), never by the server's word.
 */

const MODEL = toolsModel.name;
const TOOLS = [weatherTool, timeTool, bookingTool];
const checks = new Map<string, Check>(
  TOOLS.map((tool) => [tool.function.name, schemaCheck(tool.function.parameters as Record<string, unknown>)]),
);

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

describe('parallel calls', () => {
  const PARALLEL_TOOLS = [weatherTool, timeTool];
  // 8 seeds: over 20, seeds 1-8 already give multi-call turns that finish with tool_calls (the other
  // 12 only repeated it, at ~1.5 s each); the parallel_tool_calls false case below keeps 20.
  const SEEDS = seeds(8);
  const FALSE_SEEDS = seeds(20);
  const question = [{ role: 'user' as const, content: "What's the weather and the time in Tokyo and in Paris?" }];

  it(`parallel_tool_calls true, required, 2 tools, ${SEEDS.length} seeds: some turn has several calls, each with its own index and id`, async () => {
    const callCounts: number[] = [];
    const finishes: string[] = [];
    for (const seed of SEEDS) {
      const chunks = await collect(
        await client.chat.completions.create({
          model: MODEL,
          messages: question,
          tools: PARALLEL_TOOLS,
          tool_choice: 'required',
          parallel_tool_calls: true,
          stream: true,
          seed,
          temperature: 1,
          max_tokens: 600,
        }),
      );
      const reading = readToolStream(chunks);
      // readToolStream checks that indexes are 0..n-1 (distinct) and that ids are distinct.
      expect(reading.problems, `seed ${seed}`).toEqual([]);
      assertChunksMatchOpenAi(chunks);
      expect(['tool_calls', 'length']).toContain(reading.finishReason);
      const complete = reading.finishReason === 'tool_calls' ? reading.calls : reading.calls.slice(0, -1);
      for (const call of complete) expect(argumentsProblem(call.name ?? '', call.arguments), `seed ${seed}`).toBeNull();
      const ids = reading.calls.map((call) => call.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(reading.calls.map((call) => call.index)).toEqual(reading.calls.map((_, position) => position));
      callCounts.push(reading.calls.length);
      finishes.push(reading.finishReason ?? 'none');
    }
    const multi = callCounts.filter((count) => count > 1).length;
    console.info(
      `[tools] parallel_tool_calls true: calls per turn over ${SEEDS.length} seeds = ${callCounts.join(',')}; turns with >1 call: ${multi}; finish reasons: ${finishes.join(',')}`,
    );
    expect(multi).toBeGreaterThan(0);
    // A turn that finished cleanly is one the client can run: at least one multi-call turn ends with tool_calls.
    expect(callCounts.some((count, position) => count > 1 && finishes[position] === 'tool_calls')).toBe(true);
  });

  it('parallel_tool_calls true, non-streaming: several calls with distinct ids in message.tool_calls', async () => {
    let multi = 0;
    for (const seed of seeds(6)) {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: question,
        tools: PARALLEL_TOOLS,
        tool_choice: 'required',
        parallel_tool_calls: true,
        seed,
        temperature: 1,
        max_tokens: 600,
      });
      assertCompletionMatchesOpenAi(completion);
      const calls = functionCalls(completion);
      expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length);
      if (completion.choices[0]?.finish_reason === 'tool_calls') {
        for (const call of calls) expect(argumentsProblem(call.name, call.arguments)).toBeNull();
        if (calls.length > 1) multi += 1;
      }
    }
    expect(multi).toBeGreaterThan(0);
  });

  it(`parallel_tool_calls false, ${FALSE_SEEDS.length} seeds: always exactly one call`, async () => {
    let finished = 0;
    for (const seed of FALSE_SEEDS) {
      const chunks = await collect(
        await client.chat.completions.create({
          model: MODEL,
          messages: question,
          tools: PARALLEL_TOOLS,
          tool_choice: 'required',
          parallel_tool_calls: false,
          stream: true,
          seed,
          temperature: 1,
          max_tokens: 400,
        }),
      );
      const reading = readToolStream(chunks);
      expect(reading.problems, `seed ${seed}`).toEqual([]);
      expect(reading.calls, `seed ${seed}`).toHaveLength(1);
      // A long string argument can run into max_tokens: "length", still one call, never a second one.
      expect(['tool_calls', 'length']).toContain(reading.finishReason);
      if (reading.finishReason === 'tool_calls') {
        finished += 1;
        expect(
          argumentsProblem(reading.calls[0]?.name ?? '', reading.calls[0]?.arguments ?? ''),
          `seed ${seed}`,
        ).toBeNull();
      }
    }
    expect(finished).toBeGreaterThanOrEqual(FALSE_SEEDS.length - 3);
  });
});

describe('forced calls with other request fields', () => {
  it('n 2, streamed: each choice numbers its own calls from 0; ids are distinct across the response', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'required',
        n: 2,
        stream: true,
        seed: 1,
        temperature: 1,
        max_tokens: 400,
      }),
    );
    assertChunksMatchOpenAi(chunks);
    const perChoice = new Map<number, Map<number, { id: string; arguments: string }>>();
    const finishes = new Map<number, string>();
    for (const chunk of chunks) {
      for (const choice of chunk.choices) {
        if (choice.finish_reason) finishes.set(choice.index, choice.finish_reason);
        for (const fragment of choice.delta.tool_calls ?? []) {
          const calls = perChoice.get(choice.index) ?? new Map<number, { id: string; arguments: string }>();
          perChoice.set(choice.index, calls);
          const call = calls.get(fragment.index);
          if (call) call.arguments += fragment.function?.arguments ?? '';
          else calls.set(fragment.index, { id: fragment.id ?? '', arguments: fragment.function?.arguments ?? '' });
        }
      }
    }
    expect([...perChoice.keys()].sort()).toEqual([0, 1]);
    const ids: string[] = [];
    for (const [choice, calls] of perChoice) {
      expect([...calls.keys()], `choice ${choice}`).toEqual([...calls.keys()].map((_, position) => position));
      for (const call of calls.values()) ids.push(call.id);
      if (finishes.get(choice) === 'tool_calls')
        for (const call of calls.values()) expect(argumentsProblem('get_weather', call.arguments)).toBeNull();
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(finishes.size).toBe(2);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('a stop sequence that cuts the forced JSON is not an unexplained internal_error', async () => {
    // `"` occurs in every forced call. Either the grammar-forced output ignores stop sequences (then the
    // call is whole and valid), or the answer says why it failed; "The model failed while generating."
    // (internal_error) blames the server for what the request asked.
    for (const stream of [false, true]) {
      const request = {
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'required' as const,
        parallel_tool_calls: false,
        stop: ['"'],
        seed: 1,
        max_tokens: 300,
      };
      if (!stream) {
        const outcome = await client.chat.completions.create(request).then(
          (completion) => ({ completion, error: null }),
          (error: unknown) => ({ completion: null, error: error as InstanceType<typeof OpenAI.APIError> }),
        );
        if (outcome.error) expect(outcome.error.code, outcome.error.message).not.toBe('internal_error');
        else {
          const [call] = functionCalls(outcome.completion as OpenAI.Chat.Completions.ChatCompletion);
          expect(argumentsProblem(call?.name ?? '', call?.arguments ?? '')).toBeNull();
        }
        continue;
      }
      const outcome = await collect(await client.chat.completions.create({ ...request, stream: true })).then(
        (chunks) => ({ chunks, error: null }),
        (error: unknown) => ({ chunks: null, error: error as InstanceType<typeof OpenAI.APIError> }),
      );
      if (outcome.error) expect(outcome.error.code, outcome.error.message).not.toBe('internal_error');
      else expect(readToolStream(outcome.chunks ?? []).problems).toEqual([]);
    }
  });

  it('a tool without parameters: forced arguments are an empty JSON object', async () => {
    const ping: Tool = { type: 'function', function: { name: 'ping', description: 'Check the line' } };
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: WEATHER_QUESTION,
      tools: [ping],
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 1,
      max_tokens: 100,
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const [call] = functionCalls(completion);
    expect(call?.name).toBe('ping');
    expect(JSON.parse(call?.arguments ?? '')).toEqual({});
  });
});

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTimed } from '../helpers/sse-strict.js';
import { jsonEvents, readRawStream } from '../helpers/sse.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  WEATHER_QUESTION,
  assertChunksMatchOpenAi,
  checkJsonText,
  collect,
  readToolStream,
  schemaCheck,
  toolsModel,
  weatherTool,
  type Chunk,
} from './tool-helpers.js';

/**
 * The seed page's "Streaming with tool calls" example (test/fixtures/seed/streaming.txt): the
 * weather tool, streamed, read with the official `openai` npm SDK the way the seed's Python loop reads
 * it (`tool_call.function.name` on every fragment). The fixture model never calls a tool on its own, so
 * the call is forced (`required`, or the function by name); `auto` is run too and must still give a
 * valid stream (text, no call). Every chunk is also checked against OpenAI's chunk schema.
 */

const MODEL = toolsModel.name;
const weatherArguments = schemaCheck(weatherTool.function.parameters as Record<string, unknown>);

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer({ models: [toolsModel] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

/** The seed's Python loop, line for line: it reads `function.name` and `function.arguments` on every fragment. */
function seedLoop(chunks: Chunk[]): string {
  let printed = '';
  for (const chunk of chunks) {
    const delta = (chunk.choices[0] as Chunk['choices'][number]).delta;
    if (delta.tool_calls) {
      for (const toolCall of delta.tool_calls) {
        // No optional chaining: a fragment without `function` throws here, as it raises in Python.
        const fn = toolCall.function as { name?: string; arguments?: string };
        printed += `Tool: ${fn.name || ''}`;
        printed += `Args: ${fn.arguments || ''}`;
      }
    }
  }
  return printed;
}

const FORCED: [string, Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming>][] = [
  ['tool_choice "required", parallel_tool_calls false', { tool_choice: 'required', parallel_tool_calls: false }],
  ['tool_choice naming get_weather', { tool_choice: { type: 'function', function: { name: 'get_weather' } } }],
];

describe('the seed weather-tool stream with a forced call', () => {
  for (const [label, options] of FORCED) {
    for (const seed of [1, 2, 3]) {
      it(`${label}, seed ${seed}: fragments follow the contract and reassemble into valid arguments`, async () => {
        const stream = await client.chat.completions.create({
          model: MODEL,
          messages: WEATHER_QUESTION,
          tools: [weatherTool],
          stream: true,
          seed,
          max_tokens: 400,
          ...options,
        });
        const chunks = await collect(stream);
        const reading = readToolStream(chunks);
        expect(reading.problems).toEqual([]);
        assertChunksMatchOpenAi(chunks);

        // The opening chunk is the role; a call-only turn has no text after it.
        expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
        for (const chunk of chunks.slice(1)) expect(chunk.choices[0]?.delta.content ?? null).toBeNull();
        expect(reading.hasText).toBe(false);

        expect(reading.finishReason).toBe('tool_calls');
        expect(reading.calls).toHaveLength(1);
        const call = reading.calls[0];
        expect(call?.name).toBe('get_weather');
        expect(checkJsonText(call?.arguments ?? '', weatherArguments)).toBeNull();
        // Streamed as generated: several fragments, none of them the whole arguments text.
        expect(call?.argumentFragments.length).toBeGreaterThanOrEqual(3);
        for (const fragment of call?.argumentFragments ?? [])
          expect(fragment.length).toBeLessThan(call?.arguments.length ?? 0);

        const usage = reading.usage;
        expect(usage?.completion_tokens).toBeGreaterThan(0);
        expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));

        // The seed's loop runs without throwing and prints the name once, then the arguments.
        const printed = seedLoop(chunks);
        expect(printed.startsWith('Tool: get_weatherArgs: ')).toBe(true);
        expect(printed.replaceAll('Tool: ', '').replaceAll('Args: ', '')).toBe(`get_weather${call?.arguments}`);
      });
    }
  }

  it('parallel calls allowed (required, default parallel_tool_calls): every call keeps the rules', async () => {
    let finished = 0;
    for (const seed of [1, 2, 3, 4]) {
      const chunks = await collect(
        await client.chat.completions.create({
          model: MODEL,
          messages: WEATHER_QUESTION,
          tools: [weatherTool],
          tool_choice: 'required',
          stream: true,
          seed,
          max_tokens: 500,
        }),
      );
      const reading = readToolStream(chunks);
      expect(reading.problems).toEqual([]);
      assertChunksMatchOpenAi(chunks);
      expect(reading.hasText).toBe(false);
      expect(reading.calls.length).toBeGreaterThanOrEqual(1);
      expect(['tool_calls', 'length']).toContain(reading.finishReason);
      // Cut short by max_tokens, only the last call may be incomplete.
      const complete = reading.finishReason === 'tool_calls' ? reading.calls : reading.calls.slice(0, -1);
      if (reading.finishReason === 'tool_calls') finished += 1;
      for (const call of complete) {
        expect(call.name).toBe('get_weather');
        expect(checkJsonText(call.arguments, weatherArguments)).toBeNull();
      }
      expect(seedLoop(chunks)).toContain('Tool: get_weather');
    }
    expect(finished).toBeGreaterThan(0);
  });

  it("the SDK's own accumulator (chat.completions.stream) rebuilds the same call", async () => {
    const runner = client.chat.completions.stream({
      model: MODEL,
      messages: WEATHER_QUESTION,
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      seed: 7,
      max_tokens: 400,
    });
    const chunks: Chunk[] = [];
    runner.on('chunk', (chunk) => chunks.push(chunk));
    const completion = await runner.finalChatCompletion();
    const reading = readToolStream(chunks);
    expect(reading.problems).toEqual([]);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const calls = choice?.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toBe(reading.calls[0]?.id);
    expect(call.function.name).toBe('get_weather');
    expect(call.function.arguments).toBe(reading.calls[0]?.arguments);
    expect(checkJsonText(call.function.arguments, weatherArguments)).toBeNull();
    expect(choice?.message.content ?? null).toBeNull();
  });

  it('the bytes on the wire: later fragments carry only index and function.arguments', async () => {
    const raw = await readRawStream(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stream: true,
        seed: 5,
        max_tokens: 400,
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.events.at(-1)).toBe('[DONE]');
    const fragments = jsonEvents(raw).flatMap(
      (chunk) => (chunk.choices as { delta: { tool_calls?: Record<string, unknown>[] } }[])[0]?.delta.tool_calls ?? [],
    );
    expect(fragments.length).toBeGreaterThan(2);
    const [first, ...later] = fragments;
    expect(Object.keys(first ?? {}).sort()).toEqual(['function', 'id', 'index', 'type']);
    expect(first?.function).toEqual({ name: 'get_weather', arguments: '' });
    for (const fragment of later) {
      expect(Object.keys(fragment).sort()).toEqual(['function', 'index']);
      expect(Object.keys(fragment.function as object)).toEqual(['arguments']);
    }
  });
});

describe('arguments stream as they are generated', () => {
  it('argument fragments arrive over many separate reads and span time, not in one burst at the end', async () => {
    const timed = await readTimed(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      // A long string argument (no maxLength) so that generation takes a while.
      body: JSON.stringify({
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stream: true,
        seed: 6,
        temperature: 1,
        max_tokens: 400,
      }),
    });
    expect(timed.status).toBe(200);
    const argumentEvents = timed.events.filter(
      (event) => event.data.includes('"arguments":"') && !event.data.includes('"arguments":""'),
    );
    expect(argumentEvents.length).toBeGreaterThanOrEqual(5);
    const reads = new Set(argumentEvents.map((event) => event.read));
    // Not one burst: the fragments came in several reads (a loaded machine may merge some).
    expect(reads.size).toBeGreaterThanOrEqual(3);
    const first = argumentEvents[0]?.atMs ?? 0;
    const last = argumentEvents.at(-1)?.atMs ?? 0;
    expect(last - first).toBeGreaterThan(0);
    // The first fragment went out well before the stream ended.
    expect(first).toBeLessThan(timed.endAtMs);
  });
});

describe('the seed weather-tool stream with tool_choice "auto"', () => {
  // stories260K never starts a `<tool_call>` on its own: auto gives text. That must be a valid stream.
  for (const seed of [1, 2]) {
    it(`seed ${seed}: text, no tool call, a normal finish, a valid stream`, async () => {
      const chunks = await collect(
        await client.chat.completions.create({
          model: MODEL,
          messages: WEATHER_QUESTION,
          tools: [weatherTool],
          tool_choice: 'auto',
          stream: true,
          seed,
          max_tokens: 80,
        }),
      );
      const reading = readToolStream(chunks);
      expect(reading.problems).toEqual([]);
      assertChunksMatchOpenAi(chunks);
      expect(reading.calls).toEqual([]);
      expect(reading.hasText).toBe(true);
      expect(['stop', 'length']).toContain(reading.finishReason);
      expect(seedLoop(chunks)).toBe('');
      expect(reading.usage?.completion_tokens).toBeGreaterThan(0);
    });
  }

  it('without tool_choice (the seed sends none): the same, tools offered, text back', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: WEATHER_QUESTION,
        tools: [weatherTool],
        stream: true,
        seed: 3,
        max_tokens: 80,
      }),
    );
    const reading = readToolStream(chunks);
    expect(reading.problems).toEqual([]);
    assertChunksMatchOpenAi(chunks);
    expect(reading.calls).toEqual([]);
    expect(reading.content.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(reading.finishReason);
  });
});

import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';
import { toolsModel } from '../tools/tool-helpers.js';
import {
  recordingFetch,
  wireArgumentFragments,
  wireChunks,
  wireContent,
  wireUsage,
  type RecordedExchange,
} from './recording-fetch.js';

/**
 * The Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`, the provider it documents for
 * OpenAI-compatible APIs) against a real server: streamText, generateText and a tool call, each
 * compared with the bytes the server sent.
 */

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({ models: [storiesModel, { ...toolsModel, sequences: 1 }] });
});
afterAll(async () => harness?.close());

function provider(options: { includeUsage?: boolean } = {}): {
  oruel: ReturnType<typeof createOpenAICompatible>;
  exchanges: RecordedExchange[];
} {
  const recorder = recordingFetch();
  const oruel = createOpenAICompatible({
    name: 'oruel',
    baseURL: harness.baseURL,
    apiKey: harness.apiKey,
    fetch: recorder.fetch,
    ...options,
  });
  return { oruel, exchanges: recorder.exchanges };
}

const weather = tool({
  description: 'Get current weather for a location',
  inputSchema: z.object({ location: z.string() }),
  execute: async ({ location }) => ({ location, temperatureC: 21 }),
});

describe('streamText', () => {
  for (const includeUsage of [false, true]) {
    it(`streams the text and reads usage and the finish reason (includeUsage ${includeUsage})`, async () => {
      const { oruel, exchanges } = provider({ includeUsage });
      const result = streamText({
        model: oruel(storiesModel.name),
        prompt: 'Once upon a time',
        maxOutputTokens: 40,
        temperature: 0,
        maxRetries: 0,
      });
      let text = '';
      let deltas = 0;
      for await (const delta of result.textStream) {
        text += delta;
        deltas += 1;
      }
      expect(exchanges).toHaveLength(1);
      const sent = exchanges[0]!.requestBody;
      expect(sent.stream).toBe(true);
      // includeUsage asks with stream_options (OpenAI's shape back); without it Oru-el sends usage anyway.
      if (includeUsage) expect(sent.stream_options).toEqual({ include_usage: true });
      else expect(sent).not.toHaveProperty('stream_options');
      const chunks = await wireChunks(exchanges[0]);
      expect(text).toBe(wireContent(chunks));
      expect(deltas).toBeGreaterThan(1);
      const usage = await result.usage;
      const wire = wireUsage(chunks);
      expect(usage.inputTokens).toBe(wire.prompt_tokens);
      expect(usage.outputTokens).toBe(wire.completion_tokens);
      expect(usage.outputTokens).toBe(40);
      expect(await result.finishReason).toBe('length');
    });
  }
});

describe('generateText', () => {
  it('returns the text, usage and finish reason of a non-streamed completion, equal to the streamed one at temperature 0', async () => {
    const { oruel, exchanges } = provider();
    const result = await generateText({
      model: oruel(storiesModel.name),
      prompt: 'Once upon a time',
      maxOutputTokens: 40,
      temperature: 0,
      maxRetries: 0,
    });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.requestBody).not.toHaveProperty('stream');
    const body = JSON.parse(await exchanges[0]!.responseText) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(result.text).toBe(body.choices[0]!.message.content);
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.finishReason).toBe('length');
    expect(result.usage.inputTokens).toBe(body.usage.prompt_tokens);
    expect(result.usage.outputTokens).toBe(40);

    const streamed = streamText({
      model: oruel(storiesModel.name),
      prompt: 'Once upon a time',
      maxOutputTokens: 40,
      temperature: 0,
      maxRetries: 0,
    });
    expect(await streamed.text).toBe(result.text);
  });

  it('a system message and a conversation reach the model as OpenAI messages', async () => {
    const { oruel, exchanges } = provider();
    await generateText({
      model: oruel(storiesModel.name),
      system: 'You are a storyteller.',
      messages: [
        { role: 'user', content: 'Tell me a story.' },
        { role: 'assistant', content: 'Once upon a time' },
        { role: 'user', content: 'Go on.' },
      ],
      maxOutputTokens: 8,
      maxRetries: 0,
    });
    expect(exchanges[0]!.requestBody.messages).toEqual([
      { role: 'system', content: 'You are a storyteller.' },
      { role: 'user', content: 'Tell me a story.' },
      { role: 'assistant', content: 'Once upon a time' },
      { role: 'user', content: 'Go on.' },
    ]);
    expect(exchanges[0]!.status).toBe(200);
  });
});

describe('a tool call (tools fixture, the call forced with toolChoice)', () => {
  it('streamText: tool-input deltas arrive as streamed fragments and end in one parsed, executed call', async () => {
    const { oruel, exchanges } = provider();
    const result = streamText({
      model: oruel(toolsModel.name),
      prompt: "What's the weather in Tokyo?",
      tools: { get_weather: weather },
      toolChoice: { type: 'tool', toolName: 'get_weather' },
      maxOutputTokens: 400,
      seed: 3,
      maxRetries: 0,
    });
    const inputDeltas: string[] = [];
    const calls: { toolName: string; input: unknown; toolCallId: string }[] = [];
    const results: unknown[] = [];
    for await (const part of result.fullStream) {
      if (part.type === 'tool-input-delta') inputDeltas.push(part.delta);
      if (part.type === 'tool-call')
        calls.push({ toolName: part.toolName, input: part.input, toolCallId: part.toolCallId });
      if (part.type === 'tool-result') results.push(part.output);
      if (part.type === 'error') throw part.error;
    }
    const chunks = await wireChunks(exchanges[0]);
    const fragments = wireArgumentFragments(chunks);
    expect(fragments.length).toBeGreaterThanOrEqual(3);
    expect(inputDeltas.join('')).toBe(fragments.join(''));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.toolName).toBe('get_weather');
    expect(calls[0]!.input).toEqual(JSON.parse(fragments.join('')));
    expect(calls[0]!.toolCallId).toBe(chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])[0]?.id);
    expect(results).toEqual([{ location: (calls[0]!.input as { location: string }).location, temperatureC: 21 }]);
    expect(await result.finishReason).toBe('tool-calls');
    expect((await result.usage).outputTokens).toBe(wireUsage(chunks).completion_tokens);
  });

  it('generateText with two steps: the forced call, its result sent back as a tool message, then text', async () => {
    const { oruel, exchanges } = provider();
    const result = await generateText({
      model: oruel(toolsModel.name),
      prompt: "What's the weather in Tokyo?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      prepareStep: ({ stepNumber }) => ({
        toolChoice: stepNumber === 0 ? { type: 'tool', toolName: 'get_weather' } : 'none',
      }),
      // Room for the whole call: a call cut by max_tokens ends the step with finish reason "length".
      maxOutputTokens: 400,
      seed: 4,
      maxRetries: 0,
    });
    expect(result.steps).toHaveLength(2);
    const [first, second] = result.steps;
    expect(first!.finishReason).toBe('tool-calls');
    expect(first!.toolCalls).toHaveLength(1);
    const call = first!.toolCalls[0]!;
    expect(call.toolName).toBe('get_weather');
    expect(typeof (call.input as { location: unknown }).location).toBe('string');
    expect(second!.text.length).toBeGreaterThan(0);
    expect(second!.toolCalls).toEqual([]);

    // The second request carries the assistant's call and the tool's result, as OpenAI messages.
    expect(exchanges).toHaveLength(2);
    const messages = exchanges[1]!.requestBody.messages as {
      role: string;
      tool_calls?: { id: string; function: { name: string; arguments: string } }[];
      tool_call_id?: string;
      content?: unknown;
    }[];
    const assistant = messages.find((message) => message.role === 'assistant');
    expect(assistant?.tool_calls?.[0]?.id).toBe(call.toolCallId);
    expect(JSON.parse(assistant?.tool_calls?.[0]?.function.arguments ?? '')).toEqual(call.input);
    const toolMessage = messages.find((message) => message.role === 'tool');
    expect(toolMessage?.tool_call_id).toBe(call.toolCallId);
    expect(exchanges[1]!.requestBody.tool_choice).toBe('none');
    expect(exchanges[1]!.status).toBe(200);
  });
});

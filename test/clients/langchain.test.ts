import { AIMessage, HumanMessage, ToolMessage, type AIMessageChunk } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
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
 * LangChain JS (`@langchain/openai` ChatOpenAI, pointed at Oru-el with `configuration.baseURL`) against
 * a real server: invoke, stream with usage, and bindTools (streamed and not, and the tool result sent
 * back), each compared with the bytes the server sent.
 */

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({ models: [storiesModel, { ...toolsModel, sequences: 1 }] });
});
afterAll(async () => harness?.close());

function chat(
  model: string,
  options: { maxTokens: number; temperature?: number; seed?: number },
): { llm: ChatOpenAI; exchanges: RecordedExchange[] } {
  const recorder = recordingFetch();
  const llm = new ChatOpenAI({
    model,
    apiKey: harness.apiKey,
    configuration: { baseURL: harness.baseURL, fetch: recorder.fetch },
    maxRetries: 0,
    ...options,
  });
  return { llm, exchanges: recorder.exchanges };
}

const getWeather = tool(async ({ location }) => JSON.stringify({ location, temperatureC: 21 }), {
  name: 'get_weather',
  description: 'Get current weather for a location',
  schema: z.object({ location: z.string() }),
});

describe('ChatOpenAI', () => {
  it('invoke: the message text, finish reason and token usage of the completion', async () => {
    const { llm, exchanges } = chat(storiesModel.name, { maxTokens: 40, temperature: 0 });
    const message = await llm.invoke('Once upon a time');
    expect(exchanges).toHaveLength(1);
    const body = JSON.parse(await exchanges[0]!.responseText) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(message.content).toBe(body.choices[0]!.message.content);
    expect(String(message.content).length).toBeGreaterThan(0);
    expect(message.response_metadata.finish_reason).toBe('length');
    expect(message.usage_metadata).toMatchObject({
      input_tokens: body.usage.prompt_tokens,
      output_tokens: 40,
      total_tokens: body.usage.total_tokens,
    });
  });

  it('stream: chunks as they come, the same text as invoke at temperature 0, usage on the last chunk', async () => {
    const { llm, exchanges } = chat(storiesModel.name, { maxTokens: 40, temperature: 0 });
    let text = '';
    let chunkCount = 0;
    let usage: AIMessageChunk['usage_metadata'];
    for await (const chunk of await llm.stream('Once upon a time')) {
      text += typeof chunk.content === 'string' ? chunk.content : '';
      chunkCount += 1;
      usage = chunk.usage_metadata ?? usage;
    }
    const sent = exchanges[0]!.requestBody;
    expect(sent.stream).toBe(true);
    // LangChain asks for usage (streamUsage): OpenAI's shape, a last chunk with no choices.
    expect(sent.stream_options).toEqual({ include_usage: true });
    const chunks = await wireChunks(exchanges[0]);
    expect(text).toBe(wireContent(chunks));
    expect(chunkCount).toBeGreaterThan(2);
    const wire = wireUsage(chunks);
    expect(usage).toMatchObject({
      input_tokens: wire.prompt_tokens,
      output_tokens: 40,
      total_tokens: wire.total_tokens,
    });

    const invoked = await chat(storiesModel.name, { maxTokens: 40, temperature: 0 }).llm.invoke('Once upon a time');
    expect(invoked.content).toBe(text);
  });
});

describe('ChatOpenAI.bindTools (tools fixture, the call forced with tool_choice)', () => {
  it('invoke: one parsed get_weather call with the id and arguments the server sent', async () => {
    const { llm, exchanges } = chat(toolsModel.name, { maxTokens: 400, seed: 2 });
    const message = await llm
      .bindTools([getWeather], { tool_choice: 'get_weather' })
      .invoke([new HumanMessage("What's the weather in Tokyo?")]);
    expect(exchanges[0]!.requestBody.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    const body = JSON.parse(await exchanges[0]!.responseText) as {
      choices: { message: { tool_calls: { id: string; function: { arguments: string } }[] }; finish_reason: string }[];
    };
    const wireCall = body.choices[0]!.message.tool_calls[0]!;
    expect(message.tool_calls).toHaveLength(1);
    const call = message.tool_calls![0]!;
    expect(call.name).toBe('get_weather');
    expect(call.id).toBe(wireCall.id);
    expect(call.args).toEqual(JSON.parse(wireCall.function.arguments));
    expect(typeof call.args.location).toBe('string');
    expect(message.response_metadata.finish_reason).toBe('tool_calls');
  });

  it('stream: tool_call_chunks carry the streamed argument fragments; merged, they give the parsed call', async () => {
    const { llm, exchanges } = chat(toolsModel.name, { maxTokens: 400, seed: 5 });
    let merged: AIMessageChunk | undefined;
    const argumentChunks: string[] = [];
    for await (const chunk of await llm
      .bindTools([getWeather], { tool_choice: 'required', parallel_tool_calls: false })
      .stream("What's the weather in Tokyo?")) {
      for (const toolChunk of chunk.tool_call_chunks ?? []) if (toolChunk.args) argumentChunks.push(toolChunk.args);
      merged = merged ? merged.concat(chunk) : chunk;
    }
    expect(exchanges[0]!.requestBody).toMatchObject({
      stream: true,
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    const chunks = await wireChunks(exchanges[0]);
    const fragments = wireArgumentFragments(chunks);
    expect(fragments.length).toBeGreaterThanOrEqual(3);
    expect(argumentChunks).toEqual(fragments);
    expect(merged?.tool_calls).toHaveLength(1);
    expect(merged?.tool_calls?.[0]?.name).toBe('get_weather');
    expect(merged?.tool_calls?.[0]?.args).toEqual(JSON.parse(fragments.join('')));
    expect(merged?.usage_metadata?.output_tokens).toBe(wireUsage(chunks).completion_tokens);
  });

  it('the round trip: the call, the tool run, a ToolMessage back, and a text answer', async () => {
    const { llm, exchanges } = chat(toolsModel.name, { maxTokens: 400, seed: 6 });
    const question = new HumanMessage("What's the weather in Tokyo?");
    const called = await llm.bindTools([getWeather], { tool_choice: 'get_weather' }).invoke([question]);
    const call = called.tool_calls![0]!;
    const toolResult = await getWeather.invoke(call);
    expect(toolResult).toBeInstanceOf(ToolMessage);
    const answer = await llm.bindTools([getWeather], { tool_choice: 'none' }).invoke([question, called, toolResult]);
    expect(answer).toBeInstanceOf(AIMessage);
    expect(String(answer.content).length).toBeGreaterThan(0);
    expect(answer.tool_calls ?? []).toEqual([]);
    // The second request carries the assistant's call and the tool's result, as OpenAI messages.
    expect(exchanges).toHaveLength(2);
    expect(exchanges[1]!.status).toBe(200);
    const messages = exchanges[1]!.requestBody.messages as {
      role: string;
      tool_calls?: { id: string }[];
      tool_call_id?: string;
      content?: unknown;
    }[];
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[1]?.tool_calls?.[0]?.id).toBe(call.id);
    expect(messages[2]).toMatchObject({ tool_call_id: call.id, content: toolResult.content });
    expect(toolResult.tool_call_id).toBe(call.id);
  });
});

import { describe, expect, it } from 'vitest';
import { ChunkAssembler } from '../../src/assembly/chunk-assembler.js';
import { CompletionAssembler } from '../../src/assembly/completion-assembler.js';
import type { ResponseIdentity } from '../../src/assembly/wire-types.js';
import type { StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';

/** CompletionAssembler collects the same parts a stream shows into one chat.completion (pure). */

const identity: ResponseIdentity = { id: 'chatcmpl-test456', created: 1_700_000_001, model: 'public-name' };

function complete(parts: StreamPart[], n = 1): CompletionAssembler {
  const assembler = new CompletionAssembler(identity, n);
  for (const part of parts) assembler.accept(part);
  return assembler;
}

const usage = (promptTokens: number, completionTokens: number): StreamPart => ({
  type: 'usage',
  usage: { promptTokens, completionTokens, source: 'engine' },
});

describe('CompletionAssembler', () => {
  it('builds the chat.completion object: identity, message, finish_reason, logprobs null, usage', () => {
    const result = complete([
      { type: 'text-delta', choice: 0, text: 'Hello' },
      { type: 'text-delta', choice: 0, text: ' world' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      usage(9, 2),
    ]).result();
    expect(result).toStrictEqual({
      ...identity,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello world', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    });
  });

  it('a tool-only turn has content null and the calls with their concatenated arguments', () => {
    const result = complete([
      { type: 'tool-call-start', choice: 0, callIndex: 0, callId: 'call_1', toolName: 'get_weather' },
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: '{"location":' },
      { type: 'tool-call-start', choice: 0, callIndex: 1, callId: 'call_2', toolName: 'get_time' },
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: ' "Tokyo"}' },
      { type: 'tool-call-delta', choice: 0, callIndex: 1, argumentsText: '{}' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
      usage(20, 12),
    ]).result();
    const message = result.choices[0]!.message;
    expect(message.content).toBeNull();
    expect(message.tool_calls).toStrictEqual([
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location": "Tokyo"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(JSON.parse(message.tool_calls![0]!.function.arguments)).toEqual({ location: 'Tokyo' });
    expect(result.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('text before a tool call stays as content; a plain answer has no tool_calls key and content "" when empty', () => {
    const mixed = complete([
      { type: 'text-delta', choice: 0, text: 'Let me check.' },
      { type: 'tool-call-start', choice: 0, callIndex: 0, callId: 'c', toolName: 'f' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
      usage(1, 1),
    ]).result();
    expect(mixed.choices[0]!.message.content).toBe('Let me check.');
    expect(mixed.choices[0]!.message.tool_calls).toHaveLength(1);

    const empty = complete([{ type: 'finish', choice: 0, finishReason: 'stop' }, usage(1, 0)]).result();
    expect(empty.choices[0]!.message).toStrictEqual({ role: 'assistant', content: '', refusal: null });
  });

  it('n=2: choices in index order, each with its own text and finish, one usage for both', () => {
    const result = complete(
      [
        { type: 'text-delta', choice: 1, text: 'B1' },
        { type: 'text-delta', choice: 0, text: 'A1' },
        { type: 'text-delta', choice: 1, text: 'B2' },
        { type: 'finish', choice: 1, finishReason: 'length' },
        { type: 'text-delta', choice: 0, text: 'A2' },
        { type: 'finish', choice: 0, finishReason: 'stop' },
        usage(5, 4),
      ],
      2,
    ).result();
    expect(result.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'A1A2', 'stop'],
      [1, 'B1B2', 'length'],
    ]);
    expect(result.usage).toStrictEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  });

  it('reports the first engine error (the route then answers with an error, not a completion)', () => {
    const first = new EngineError('internal', 'first');
    const assembler = complete([
      { type: 'text-delta', choice: 0, text: 'a' },
      { type: 'error', error: first },
      { type: 'error', error: new EngineError('timeout', 'second') },
      usage(1, 1),
    ]);
    expect(assembler.error).toBe(first);
    expect(complete([{ type: 'finish', choice: 0, finishReason: 'stop' }, usage(1, 1)]).error).toBeNull();
  });

  it('parts that end without a finish are an error, not a completion', () => {
    const truncated = complete([{ type: 'text-delta', choice: 0, text: 'a' }, usage(1, 1)]);
    expect(truncated.error?.code).toBe('internal');
  });

  it('refuses a part for a choice that does not exist (an engine bug must not pass silently)', () => {
    expect(() => complete([{ type: 'text-delta', choice: 1, text: 'x' }], 1)).toThrow(/choice 1/);
  });

  it('gives the same text, tool calls, finish and usage as the chunks of the same parts', () => {
    const parts: StreamPart[] = [
      { type: 'text-delta', choice: 0, text: 'Sure' },
      { type: 'text-delta', choice: 1, text: 'Ok' },
      { type: 'tool-call-start', choice: 1, callIndex: 0, callId: 'call_9', toolName: 'lookup' },
      { type: 'tool-call-delta', choice: 1, callIndex: 0, argumentsText: '{"q":' },
      { type: 'tool-call-delta', choice: 1, callIndex: 0, argumentsText: '"x"}' },
      { type: 'text-delta', choice: 0, text: ', done.' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'finish', choice: 1, finishReason: 'tool_calls' },
      usage(30, 11),
    ];
    const completion = complete(parts, 2).result();

    const chunker = new ChunkAssembler(identity, 2, 'final-chunk');
    const chunks = [...chunker.start(), ...parts.flatMap((part) => chunker.accept(part)), ...chunker.end()];
    const rebuilt = [0, 1].map(() => ({
      content: '',
      finish: null as string | null,
      calls: [] as { id?: string; name?: string; arguments: string }[],
    }));
    for (const chunk of chunks) {
      for (const choice of chunk.choices) {
        const state = rebuilt[choice.index]!;
        state.content += choice.delta.content ?? '';
        state.finish = choice.finish_reason ?? state.finish;
        for (const fragment of choice.delta.tool_calls ?? []) {
          const call = (state.calls[fragment.index] ??= { arguments: '' });
          if (fragment.id) call.id = fragment.id;
          if (fragment.function.name) call.name = fragment.function.name;
          call.arguments += fragment.function.arguments;
        }
      }
    }
    expect(completion.choices[0]!.message.content).toBe(rebuilt[0]!.content);
    expect(completion.choices[1]!.message.content).toBe(rebuilt[1]!.content);
    expect(completion.choices.map((choice) => choice.finish_reason)).toEqual(rebuilt.map((state) => state.finish));
    expect(completion.choices[1]!.message.tool_calls).toStrictEqual(
      rebuilt[1]!.calls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    );
    expect(completion.usage).toStrictEqual(chunks.at(-1)!.usage);
    expect(completion.id).toBe(chunks[0]!.id);
    expect(completion.created).toBe(chunks[0]!.created);
    expect(completion.model).toBe(chunks[0]!.model);
  });
});

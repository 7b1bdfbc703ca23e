import { describe, expect, it } from 'vitest';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from '../../src/assembly/chunk-assembler.js';
import type { ResponseIdentity, WireChunk } from '../../src/assembly/wire-types.js';
import type { StreamPart, Usage } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';

/**
 * ChunkAssembler turns engine parts into chat.completion.chunk objects (pure: no I/O, no clock).
 * Each contract rule of the stream shape (CONTRACT.md "Streaming") is one test here.
 */

const identity: ResponseIdentity = { id: 'chatcmpl-test123', created: 1_700_000_000, model: 'public-name' };
const usage: Usage = { promptTokens: 10, completionTokens: 3, source: 'engine' };
const wireUsage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 };

const text = (value: string, choice = 0): StreamPart => ({ type: 'text-delta', choice, text: value });
const finish = (reason: 'stop' | 'length' | 'tool_calls' | 'content_filter', choice = 0): StreamPart => ({
  type: 'finish',
  choice,
  finishReason: reason,
});
const usagePart = (value: Usage = usage): StreamPart => ({ type: 'usage', usage: value });
const callStart = (callIndex: number, callId: string, toolName: string, choice = 0): StreamPart => ({
  type: 'tool-call-start',
  choice,
  callIndex,
  callId,
  toolName,
});
const callDelta = (callIndex: number, argumentsText: string, choice = 0): StreamPart => ({
  type: 'tool-call-delta',
  choice,
  callIndex,
  argumentsText,
});

/** Everything one stream writes: start(), each accept(), end(). */
function run(parts: StreamPart[], n = 1, mode: StreamUsageMode = 'final-chunk'): WireChunk[] {
  const assembler = new ChunkAssembler(identity, n, mode);
  const chunks = [...assembler.start()];
  for (const part of parts) chunks.push(...assembler.accept(part));
  chunks.push(...assembler.end());
  return chunks;
}

function expectIdentity(chunks: WireChunk[]): void {
  for (const chunk of chunks) {
    expect(chunk.id).toBe(identity.id);
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.created).toBe(identity.created);
    expect(chunk.model).toBe(identity.model);
  }
}

describe('role first', () => {
  it('opens with one chunk whose delta is exactly {role: "assistant", content: ""}', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    expect(assembler.start()).toStrictEqual([
      {
        ...identity,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      },
    ]);
  });

  it('announces the role of every choice when n=2, in index order', () => {
    const [first] = new ChunkAssembler(identity, 2, 'final-chunk').start();
    expect(first!.choices).toStrictEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 1, delta: { role: 'assistant', content: '' }, finish_reason: null },
    ]);
  });

  it('never repeats the role: content, tool calls and finish chunks carry none', () => {
    const chunks = run([text('Hi'), callStart(0, 'call_1', 'f'), callDelta(0, '{}'), finish('stop'), usagePart()]);
    expectIdentity(chunks);
    for (const chunk of chunks.slice(1))
      for (const choice of chunk.choices) expect(choice.delta).not.toHaveProperty('role');
  });
});

describe('content chunks', () => {
  it('carry only the new text, finish_reason null and no usage', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    assembler.start();
    expect(assembler.accept(text('Hel'))).toStrictEqual([
      {
        ...identity,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }],
      },
    ]);
    const [chunk] = assembler.accept(text('lo'));
    expect(chunk!.choices[0]!.delta).toStrictEqual({ content: 'lo' });
    expect(chunk).not.toHaveProperty('usage');
  });

  it("keep each choice's index when n=2 parts interleave", () => {
    const chunks = run(
      [text('a', 1), text('b', 0), text('c', 1), finish('stop', 1), finish('length', 0), usagePart()],
      2,
    );
    const content = chunks
      .slice(1, -2)
      .map((chunk) => chunk.choices.map((choice) => [choice.index, choice.delta.content]));
    expect(content).toEqual([[[1, 'a']], [[0, 'b']], [[1, 'c']]]);
  });
});

describe('tool-call fragments', () => {
  it('first fragment: index, id, type and function {name, arguments: ""}; later ones: index and function.arguments only', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    assembler.start();
    const [first] = assembler.accept(callStart(0, 'call_abc', 'get_weather'));
    expect(first!.choices).toStrictEqual([
      {
        index: 0,
        delta: {
          tool_calls: [
            { index: 0, id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        finish_reason: null,
      },
    ]);
    const [later] = assembler.accept(callDelta(0, '{"location":'));
    expect(later!.choices).toStrictEqual([
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }, finish_reason: null },
    ]);
  });

  it("every fragment has a function object, so the seed's loop can read tool_call.function.name on each", () => {
    const chunks = run([
      callStart(0, 'call_1', 'get_weather'),
      callDelta(0, '{"loca'),
      callDelta(0, 'tion": "Tok'),
      callDelta(0, 'yo"}'),
      callStart(1, 'call_2', 'get_time'),
      callDelta(1, '{"zone": "JST"}'),
      finish('tool_calls'),
      usagePart(),
    ]);
    // The seed's Python loop: print(f"Tool: {tool_call.function.name or ''}") / (... .function.arguments or '')
    const printed: string[] = [];
    const args = new Map<number, string>();
    const names = new Map<number, string>();
    for (const chunk of chunks) {
      const delta = chunk.choices[0]!.delta;
      for (const toolCall of delta.tool_calls ?? []) {
        expect(toolCall.function).toBeTypeOf('object');
        printed.push(`Tool: ${toolCall.function.name ?? ''}Args: ${toolCall.function.arguments ?? ''}`);
        if (toolCall.function.name) names.set(toolCall.index, toolCall.function.name);
        args.set(toolCall.index, (args.get(toolCall.index) ?? '') + toolCall.function.arguments);
      }
    }
    expect(printed).toHaveLength(6);
    expect(names).toEqual(
      new Map([
        [0, 'get_weather'],
        [1, 'get_time'],
      ]),
    );
    // The fragments of one call concatenate to valid JSON.
    expect(JSON.parse(args.get(0)!)).toEqual({ location: 'Tokyo' });
    expect(JSON.parse(args.get(1)!)).toEqual({ zone: 'JST' });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });
});

describe('final-chunk usage mode (the default)', () => {
  it('holds the finish until usage is known, then writes delta {} + finish_reason + usage in one chunk', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    assembler.start();
    assembler.accept(text('Hi'));
    expect(assembler.accept(finish('stop'))).toEqual([]);
    expect(assembler.accept(usagePart())).toStrictEqual([
      {
        ...identity,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: wireUsage,
      },
    ]);
    // Nothing is left to say when the parts end.
    expect(assembler.end()).toEqual([]);
    expect(assembler.failed).toBe(false);
  });

  it("reused prompt tokens go out as OpenAI's prompt_tokens_details.cached_tokens; prompt_tokens still counts them", () => {
    const chunks = run([text('Hi'), finish('stop'), usagePart({ ...usage, cachedTokens: 7 })]);
    expect(chunks.at(-1)!.usage).toStrictEqual({ ...wireUsage, prompt_tokens_details: { cached_tokens: 7 } });
    expect(run([text('Hi'), finish('stop'), usagePart()]).at(-1)!.usage).not.toHaveProperty('prompt_tokens_details');
  });

  it('usage arriving before the last finish still ends up on the final chunk', () => {
    const chunks = run([text('a', 0), finish('stop', 0), usagePart(), text('b', 1), finish('length', 1)], 2);
    const last = chunks.at(-1)!;
    expect(last.usage).toStrictEqual(wireUsage);
    expect(chunks.filter((chunk) => 'usage' in chunk)).toHaveLength(1);
    expect(chunks.slice(-2).map((chunk) => chunk.choices)).toStrictEqual([
      [{ index: 0, delta: {}, finish_reason: 'stop' }],
      [{ index: 1, delta: {}, finish_reason: 'length' }],
    ]);
  });

  it('n=2: one finish chunk per choice in index order (whatever order they finished in), usage only on the last', () => {
    const chunks = run([text('x', 0), text('y', 1), finish('length', 1), finish('stop', 0), usagePart()], 2);
    const tail = chunks.slice(-2);
    expect(tail[0]).toStrictEqual({
      ...identity,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    });
    expect(tail[1]).toStrictEqual({
      ...identity,
      object: 'chat.completion.chunk',
      choices: [{ index: 1, delta: {}, finish_reason: 'length' }],
      usage: wireUsage,
    });
  });

  it('choices is never empty, on any chunk', () => {
    for (const [parts, n] of [
      [[text('a'), finish('stop'), usagePart()], 1],
      [[finish('length'), usagePart()], 1],
      [[text('a', 0), text('b', 1), finish('stop', 0), finish('stop', 1), usagePart()], 2],
      [[callStart(0, 'c', 'f'), callDelta(0, '{}'), finish('tool_calls'), usagePart()], 1],
    ] as [StreamPart[], number][]) {
      for (const chunk of run(parts, n)) expect(chunk.choices.length).toBeGreaterThan(0);
    }
  });

  it('total_tokens is prompt + completion', () => {
    const chunks = run([
      text('a'),
      finish('stop'),
      usagePart({ promptTokens: 7, completionTokens: 5, source: 'counted' }),
    ]);
    expect(chunks.at(-1)!.usage).toStrictEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
  });

  it('if the parts end without usage, the finish is still written (held finishes are never lost)', () => {
    const chunks = run([text('a'), finish('length')]);
    expect(chunks.at(-1)!.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'length' }]);
    expect(chunks.at(-1)).not.toHaveProperty('usage');
  });

  it('ignores parts after the final chunk', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    assembler.start();
    assembler.accept(finish('stop'));
    expect(assembler.accept(usagePart())).toHaveLength(1);
    expect(assembler.accept(text('late'))).toEqual([]);
    expect(assembler.accept(usagePart())).toEqual([]);
    expect(assembler.end()).toEqual([]);
  });
});

describe('separate-chunk usage mode (explicit include_usage: true)', () => {
  it('writes the finish chunk without usage, then one chunk with choices [] and usage', () => {
    const chunks = run([text('a'), finish('stop'), usagePart()], 1, 'separate-chunk');
    expectIdentity(chunks);
    expect(chunks.slice(-2)).toStrictEqual([
      { ...identity, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...identity, object: 'chat.completion.chunk', choices: [], usage: wireUsage },
    ]);
  });

  it('n=2: both finish chunks first, then the usage chunk', () => {
    const chunks = run(
      [text('a', 0), text('b', 1), finish('stop', 1), finish('stop', 0), usagePart()],
      2,
      'separate-chunk',
    );
    expect(chunks.slice(-3).map((chunk) => [chunk.choices.map((choice) => choice.index), chunk.usage ?? null])).toEqual(
      [
        [[0], null],
        [[1], null],
        [[], wireUsage],
      ],
    );
  });
});

describe('none usage mode (explicit include_usage: false)', () => {
  it('writes no usage anywhere, but still the finish', () => {
    const chunks = run([text('a', 0), text('b', 1), finish('stop', 0), finish('length', 1), usagePart()], 2, 'none');
    for (const chunk of chunks) {
      expect(chunk).not.toHaveProperty('usage');
      expect(chunk.choices.length).toBeGreaterThan(0);
    }
    expect(chunks.slice(-2).map((chunk) => chunk.choices[0]!.finish_reason)).toEqual(['stop', 'length']);
  });
});

describe('error event', () => {
  it('is a normal chunk with finish_reason "error" on choices[0] plus a top-level error {message, type, param, code}', () => {
    const assembler = new ChunkAssembler(identity, 1, 'final-chunk');
    assembler.start();
    assembler.accept(text('partial'));
    const chunks = assembler.accept({
      type: 'error',
      error: new EngineError('internal', 'The model failed while generating.'),
    });
    expect(chunks).toStrictEqual([
      {
        ...identity,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: {}, finish_reason: 'error' }],
        error: {
          message: 'The model failed while generating.',
          type: 'server_error',
          param: null,
          code: 'internal_error',
        },
      },
    ]);
    expect(assembler.failed).toBe(true);
    expect(assembler.failureCode).toBe('internal_error');
  });

  it('writes nothing after the error: no finish, no usage, no end chunk', () => {
    const assembler = new ChunkAssembler(identity, 2, 'final-chunk');
    assembler.start();
    assembler.accept(text('a', 0));
    expect(assembler.accept(finish('stop', 0))).toEqual([]);
    expect(
      assembler.accept({ type: 'error', error: new EngineError('unavailable', 'Engine went away.') }),
    ).toHaveLength(1);
    expect(assembler.accept(text('b', 1))).toEqual([]);
    expect(assembler.accept(finish('stop', 1))).toEqual([]);
    expect(assembler.accept(usagePart())).toEqual([]);
    expect(assembler.accept({ type: 'error', error: new EngineError('internal', 'again') })).toEqual([]);
    expect(assembler.end()).toEqual([]);
    expect(assembler.failureCode).toBe('engine_unavailable');
  });

  it("keeps the engine's param and maps codes through the error catalog", () => {
    const [chunk] = run([
      { type: 'error', error: new EngineError('context_length_exceeded', 'Too long.', { param: 'messages' }) },
    ]).slice(-1);
    expect(chunk!.error).toStrictEqual({
      message: 'Too long.',
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    expect(chunk!.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'error' }]);
  });

  it('errorChunk() (used for failures outside the assembler) has the same shape', () => {
    const wire = { message: 'm', type: 'server_error', param: null, code: 'upstream_error' };
    expect(errorChunk(identity, wire)).toStrictEqual({
      ...identity,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: 'error' }],
      error: wire,
    });
  });
});

describe('purity', () => {
  it('the same parts give the same chunks (no clock, no randomness), and parts are not mutated', () => {
    const parts = [text('a'), callStart(0, 'c', 'f'), callDelta(0, '{}'), finish('tool_calls'), usagePart()];
    const copy = structuredClone(parts);
    expect(run(parts)).toStrictEqual(run(parts));
    expect(parts).toStrictEqual(copy);
  });
});

describe('a truncated answer is never a clean end', () => {
  it('parts that end with a choice unfinished and no error give the error event, and the stream counts as failed', () => {
    const assembler = new ChunkAssembler(identity, 2, 'final-chunk');
    assembler.start();
    assembler.accept(text('Hel'));
    assembler.accept(finish('stop', 0));
    assembler.accept(usagePart());
    const tail = assembler.end();
    expect(tail).toHaveLength(1);
    expect(tail[0]?.choices[0]?.finish_reason).toBe('error');
    expect(tail[0]?.error?.type).toBe('server_error');
    expect(assembler.failed).toBe(true);
  });
});

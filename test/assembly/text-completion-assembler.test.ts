import { describe, expect, it } from 'vitest';
import { TextChunkAssembler, TextCompletionAssembler } from '../../src/assembly/text-completion-assembler.js';
import type { StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';

const identity = { id: 'cmpl-1', created: 1, model: 'm' };
const usage: StreamPart = { type: 'usage', usage: { promptTokens: 3, completionTokens: 2, source: 'engine' } };
const parts: StreamPart[] = [
  { type: 'text-delta', choice: 0, text: 'a' },
  { type: 'text-delta', choice: 1, text: 'b' },
  { type: 'finish', choice: 0, finishReason: 'length' },
  { type: 'finish', choice: 1, finishReason: 'stop' },
  usage,
];

describe('text_completion assembly', () => {
  it('streams text chunks, no role chunk, finishes with usage on the last chunk (the contract default)', () => {
    const assembler = new TextChunkAssembler(identity, 2, 'final-chunk', null);
    expect(assembler.start()).toEqual([]);
    const chunks = [...parts.flatMap((part) => assembler.accept(part)), ...assembler.end()];
    expect(chunks.map((chunk) => chunk.object)).toEqual([
      'text_completion',
      'text_completion',
      'text_completion',
      'text_completion',
    ]);
    expect(chunks[0]!.choices).toEqual([{ index: 0, text: 'a', logprobs: null, finish_reason: null }]);
    expect(chunks[2]!.choices[0]).toMatchObject({ index: 0, text: '', finish_reason: 'length' });
    expect(chunks[3]!.choices[0]).toMatchObject({ index: 1, finish_reason: 'stop' });
    expect(chunks[3]!.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
  });

  it('sends the echo first; explicit include_usage gives a separate choices: [] chunk', () => {
    const assembler = new TextChunkAssembler(identity, 1, 'separate-chunk', ['Hi']);
    expect(assembler.start()[0]!.choices).toEqual([{ index: 0, text: 'Hi', logprobs: null, finish_reason: null }]);
    const chunks = [{ type: 'finish', choice: 0, finishReason: 'stop' } as StreamPart, usage].flatMap((part) =>
      assembler.accept(part),
    );
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 5 } });
    expect(chunks.at(-2)!.usage).toBeUndefined();
  });

  it('an error part is the contract error event in this shape, and nothing after it', () => {
    const assembler = new TextChunkAssembler(identity, 1, 'final-chunk', null);
    const [event] = assembler.accept({ type: 'error', error: new EngineError('upstream_error', 'boom') });
    expect(event).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, text: '', finish_reason: 'error' }],
      error: { message: 'boom', code: 'upstream_error' },
    });
    expect(assembler.failed).toBe(true);
    expect(assembler.accept({ type: 'text-delta', choice: 0, text: 'late' })).toEqual([]);
  });

  it('collects the same parts into one text_completion, echo prefixed', () => {
    const assembler = new TextCompletionAssembler(identity, 2, ['P0', 'P1']);
    for (const part of parts) assembler.accept(part);
    expect(assembler.error).toBeNull();
    expect(assembler.result()).toEqual({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, text: 'P0a', logprobs: null, finish_reason: 'length' },
        { index: 1, text: 'P1b', logprobs: null, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });
});

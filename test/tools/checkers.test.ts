import { describe, expect, it } from 'vitest';
import { checkJsonText, jsonObjectPrefixProblem, readToolStream, schemaCheck, type Chunk } from './tool-helpers.js';

/**
 * The checkers the tool tests rely on, shown to reject what they must: a fragment reader that accepts
 * the well-known broken streams (repeated ids, every call on index 0, fragments without `function`,
 * `stop` instead of `tool_calls` is judged by the tests themselves), a schema check that calls
 * Infinity an integer, or a JSON-prefix check that accepts anything would prove nothing.
 */

const base = { id: 'chatcmpl-x', object: 'chat.completion.chunk' as const, created: 1, model: 'm' };
type Delta = Chunk['choices'][number]['delta'];
const chunk = (
  delta: Delta,
  finish: Chunk['choices'][number]['finish_reason'] = null,
  usage?: Chunk['usage'],
): Chunk => ({
  ...base,
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...(usage ? { usage } : {}),
});
const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
const start = (index: number, id: string, name = 'f') =>
  chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
const more = (index: number, text: string) => chunk({ tool_calls: [{ index, function: { arguments: text } }] });
const opening = chunk({ role: 'assistant', content: '' });
const closing = chunk({}, 'tool_calls', usage);

describe('readToolStream', () => {
  it('accepts a correct two-call stream and reassembles it', () => {
    const reading = readToolStream([
      opening,
      start(0, 'call_aaaaaaaaaa'),
      more(0, '{"a":'),
      more(0, '1}'),
      start(1, 'call_bbbbbbbbbb', 'g'),
      more(1, '{}'),
      closing,
    ]);
    expect(reading.problems).toEqual([]);
    expect(reading.calls.map((call) => [call.index, call.name, call.arguments])).toEqual([
      [0, 'f', '{"a":1}'],
      [1, 'g', '{}'],
    ]);
    expect(reading.finishReason).toBe('tool_calls');
    expect(reading.hasText).toBe(false);
  });

  it('names the well-known breakages', () => {
    const problems = (chunks: Chunk[]) => readToolStream(chunks).problems.join(' | ');
    // A repeated id.
    expect(
      problems([
        opening,
        start(0, 'call_aaaaaaaaaa'),
        more(0, '{}'),
        start(1, 'call_aaaaaaaaaa'),
        more(1, '{}'),
        closing,
      ]),
    ).toMatch(/ids repeat/);
    // Every call on index 0: the second start is read as a later fragment carrying id and name.
    expect(
      problems([opening, start(0, 'call_aaaaaaaaaa'), more(0, '{}'), start(0, 'call_bbbbbbbbbb'), closing]),
    ).toMatch(/later fragment has keys/);
    // A fragment without `function`.
    expect(problems([opening, start(0, 'call_aaaaaaaaaa'), chunk({ tool_calls: [{ index: 0 }] }), closing])).toMatch(
      /without a function/,
    );
    // First fragment with the arguments already in it, or without a name, or an id without call_.
    expect(
      problems([
        opening,
        chunk({
          tool_calls: [{ index: 0, id: 'call_aaaaaaaaaa', type: 'function', function: { name: 'f', arguments: '{}' } }],
        }),
        closing,
      ]),
    ).toMatch(/expected ""/);
    expect(
      problems([
        opening,
        chunk({ tool_calls: [{ index: 0, id: 'call_aaaaaaaaaa', type: 'function', function: { arguments: '' } }] }),
        closing,
      ]),
    ).toMatch(/without function.name/);
    expect(problems([opening, start(0, 'toolu_123456789'), closing])).toMatch(/not call_/);
    // Later fragments repeating the name.
    expect(
      problems([
        opening,
        start(0, 'call_aaaaaaaaaa'),
        chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] }),
        closing,
      ]),
    ).toMatch(/function has keys/);
    // Indexes with a gap, usage missing, finish_reason before the end.
    expect(problems([opening, start(1, 'call_aaaaaaaaaa'), closing])).toMatch(/not 0..n-1/);
    expect(problems([opening, start(0, 'call_aaaaaaaaaa'), chunk({}, 'tool_calls')])).toMatch(/no usage/);
    expect(problems([opening, chunk({}, 'tool_calls'), start(0, 'call_aaaaaaaaaa'), closing])).toMatch(
      /not the last|set twice/,
    );
  });
});

describe('checkJsonText (strict ajv)', () => {
  const check = schemaCheck({
    type: 'object',
    properties: { age: { type: 'integer', minimum: 0 }, kind: { enum: ['a', 'b'] } },
    required: ['age'],
  });
  it('accepts valid JSON and rejects what breaks the schema', () => {
    expect(checkJsonText('{"age": 3, "kind": "a"}', check)).toBeNull();
    expect(checkJsonText('{"age": -3}', check)).not.toBeNull();
    expect(checkJsonText('{"age": 1.5}', check)).not.toBeNull();
    expect(checkJsonText('{"kind": "a"}', check)).not.toBeNull();
    expect(checkJsonText('{"age": 3, "kind": "c"}', check)).not.toBeNull();
    expect(checkJsonText('{"age": 3', check)).toMatch(/not JSON/);
  });
  it('rejects numbers that parse to Infinity (ajv with strict: false alone calls them integers)', () => {
    expect(checkJsonText('{"age": 6e62009587677033}', check)).toMatch(/finite/);
    expect(checkJsonText('{"age": -20630378e87181}', check)).not.toBeNull();
    // JSON Schema counts these as integers by value; the literal-form test judges them separately.
    expect(checkJsonText('{"age": 461e3}', check)).toBeNull();
  });
});

describe('jsonObjectPrefixProblem', () => {
  it('accepts complete objects and prefixes of objects', () => {
    for (const text of [
      '{}',
      '{"a": [1, -2.5e3, true, null, {"b": "x\\"y\\u00e9"}]}',
      '',
      '   {',
      '{"a"',
      '{"a": "unfinished str',
      '{"a": -',
      '{"a": 1.',
      '{"a": 1e',
      '{"a": tr',
      '{"a": [1, {"b": ',
      '{"a": "x\\',
      '{"a": "\\u00',
    ]) {
      expect(jsonObjectPrefixProblem(text), text).toBeNull();
    }
  });
  it('rejects what no continuation can repair', () => {
    for (const text of [
      '[1]',
      '"x"',
      '{"a" 1',
      '{"a": 1 "b": 2}',
      '{"a": 01}',
      '{"a": tx',
      '{"a": 1}}',
      '{"a": 1} x',
      '{a: 1}',
      '{"a": "x\\q"}',
      '{"a": "line\nbreak"}',
      '{"a": [1,]}',
      '{,}',
    ]) {
      expect(jsonObjectPrefixProblem(text), text).not.toBeNull();
    }
  });
});

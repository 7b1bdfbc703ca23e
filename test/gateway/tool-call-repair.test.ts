import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/engines/engine.js';
import { ToolCallRepair } from '../../src/engines/openai-upstream/tool-call-repair.js';

/** The calls the parts describe, as a client would assemble them. */
function assemble(parts: StreamPart[]): { id: string; name: string; arguments: string }[] {
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const part of parts) {
    if (part.type === 'tool-call-start') {
      expect(calls[part.callIndex], `call index ${part.callIndex} started twice`).toBeUndefined();
      calls[part.callIndex] = { id: part.callId, name: part.toolName, arguments: '' };
    } else if (part.type === 'tool-call-delta') {
      const call = calls[part.callIndex];
      expect(call, `arguments for call ${part.callIndex} before its start`).toBeDefined();
      call!.arguments += part.argumentsText;
    }
  }
  return calls;
}

function repair(deltas: unknown[][]): { parts: StreamPart[]; calls: ReturnType<typeof assemble> } {
  const parts: StreamPart[] = [];
  const repairer = new ToolCallRepair(0, (part) => parts.push(part));
  for (const delta of deltas) repairer.accept(delta);
  repairer.finish();
  return { parts, calls: assemble(parts) };
}

describe('tool-call fragment repair', () => {
  it('passes OpenAI-shaped fragments through: one start per call, arguments in order', () => {
    const { calls } = repair([
      [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      [{ index: 0, function: { arguments: '{"location":' } }],
      [{ index: 0, function: { arguments: '"Paris"}' } }],
      [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }],
      [{ index: 1, function: { arguments: '{}' } }],
    ]);
    expect(calls).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris"}' },
      { id: 'call_b', name: 'get_time', arguments: '{}' },
    ]);
  });

  it('drops an id and name repeated on every fragment, keeping their arguments', () => {
    const fragment = (args: string) => ({
      index: 0,
      id: 'call_a',
      type: 'function',
      function: { name: 'get_weather', arguments: args },
    });
    const { parts, calls } = repair([[fragment('{"loc')], [fragment('ation":')], [fragment('"Paris"}')]]);
    expect(parts.filter((part) => part.type === 'tool-call-start')).toHaveLength(1);
    expect(calls).toEqual([{ id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris"}' }]);
  });

  it('drops a repeated name without id on the same index', () => {
    const { calls } = repair([
      [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"a":' } }],
      [{ index: 0, function: { name: 'f', arguments: '1}' } }],
    ]);
    expect(calls).toEqual([{ id: 'call_a', name: 'f', arguments: '{"a":1}' }]);
  });

  it('splits parallel calls that all arrive on index 0 by their ids (Ollama)', () => {
    const { calls } = repair([
      [
        {
          id: 'call_1',
          index: 0,
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
        },
        { id: 'call_2', index: 0, type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } },
      ],
    ]);
    expect(calls).toEqual([
      { id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' },
      { id: 'call_2', name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
  });

  it('splits index-0 calls across deltas when the id changes, continuing the newest call after it', () => {
    const { calls } = repair([
      [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"n":' } }],
      [{ index: 0, function: { arguments: '1}' } }],
      [{ index: 0, id: 'call_2', function: { name: 'f', arguments: '{"n":' } }],
      [{ index: 0, function: { arguments: '2}' } }],
    ]);
    expect(calls).toEqual([
      { id: 'call_1', name: 'f', arguments: '{"n":1}' },
      { id: 'call_2', name: 'f', arguments: '{"n":2}' },
    ]);
  });

  it('gives calls without ids and without indexes their own call_ ids (two named fragments in one delta are two calls)', () => {
    const { calls } = repair([
      [
        { type: 'function', function: { name: 'f', arguments: '{"n":1}' } },
        { type: 'function', function: { name: 'f', arguments: '{"n":2}' } },
      ],
    ]);
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(calls[0]!.id).not.toBe(calls[1]!.id);
    expect(calls.map((call) => call.arguments)).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('tolerates a fragment without a function object, and arguments that come before the name', () => {
    const { parts, calls } = repair([
      [{ index: 0, id: 'call_a', type: 'function' }],
      [{ index: 0, function: { arguments: '{"a"' } }],
      [{ index: 0, function: { name: 'late_name', arguments: ':1}' } }],
    ]);
    expect(calls).toEqual([{ id: 'call_a', name: 'late_name', arguments: '{"a":1}' }]);
    expect(parts[0]).toMatchObject({ type: 'tool-call-start', toolName: 'late_name' });
  });

  it('serializes arguments sent as an object', () => {
    const { calls } = repair([[{ id: 'call_a', function: { name: 'f', arguments: { city: 'Paris' } } }]]);
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ city: 'Paris' });
  });

  it('still announces a call whose name never came, so its arguments are not lost', () => {
    const { calls } = repair([[{ index: 0, id: 'call_a', function: { arguments: '{}' } }]]);
    expect(calls).toEqual([{ id: 'call_a', name: '', arguments: '{}' }]);
  });
});

import { describe, expect, it } from 'vitest';
import { ChunkAssembler, type StreamUsageMode } from '../../src/assembly/chunk-assembler.js';
import type { ResponseIdentity } from '../../src/assembly/wire-types.js';
import type { StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';

/**
 * `acceptWire` writes a text delta's chunk by template (chunk-json.ts): the bytes must be exactly
 * JSON.stringify of the chunk object `accept` returns, whatever the text, the choice and the identity.
 */
const TEXTS = [
  'Hello',
  ' w1',
  '',
  'line\nbreak\r\n\ttab',
  'a "quote" and a \\backslash\\ and a /slash/',
  'control \u0000 \u0001 \u001f \u007f',
  'é 中文 😀',
  'lone \ud800 surrogate \udfff',
  '\u2028\u2029 </script>',
  'x'.repeat(20_000),
];
const IDENTITIES: ResponseIdentity[] = [
  { id: 'chatcmpl-abc123', created: 1_700_000_000, model: 'public-name' },
  { id: 'chatcmpl-"odd"\\', created: 0, model: 'org/Model "ü" 😀\n' },
];

/** Everything one stream writes, every event serialized as the SSE writer serializes it. */
function wire(assembler: ChunkAssembler, parts: StreamPart[], through: 'accept' | 'acceptWire'): string[] {
  const events: unknown[] = [...assembler.start()];
  for (const part of parts)
    events.push(...(through === 'accept' ? assembler.accept(part) : assembler.acceptWire(part)));
  events.push(...assembler.end());
  return events.map((event) => (typeof event === 'string' ? event : JSON.stringify(event)));
}

function bothWays(identity: ResponseIdentity, parts: StreamPart[], n = 1, mode: StreamUsageMode = 'final-chunk') {
  return {
    objects: wire(new ChunkAssembler(identity, n, mode), parts, 'accept'),
    templated: wire(new ChunkAssembler(identity, n, mode), parts, 'acceptWire'),
  };
}

describe('text delta chunks by template', () => {
  it('are JSON.stringify of the chunk object, byte for byte', () => {
    for (const identity of IDENTITIES) {
      for (const text of TEXTS) {
        for (const choice of [0, 1, 17]) {
          const objects = new ChunkAssembler(identity, 18, 'final-chunk').accept({ type: 'text-delta', choice, text });
          const templated = new ChunkAssembler(identity, 18, 'final-chunk').acceptWire({
            type: 'text-delta',
            choice,
            text,
          });
          expect(templated).toEqual([JSON.stringify(objects[0])]);
        }
      }
    }
  });

  it('make the same stream as accept, every other part an object', () => {
    const parts: StreamPart[] = [
      { type: 'text-delta', choice: 0, text: 'Hi' },
      { type: 'tool-call-start', choice: 1, callIndex: 0, callId: 'call_1', toolName: 'f' },
      { type: 'tool-call-delta', choice: 1, callIndex: 0, argumentsText: '{"a":1}' },
      { type: 'text-delta', choice: 0, text: ' there "you"' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'finish', choice: 1, finishReason: 'tool_calls' },
      { type: 'usage', usage: { promptTokens: 3, completionTokens: 4, source: 'engine' } },
    ];
    for (const mode of ['final-chunk', 'separate-chunk', 'none'] as const) {
      const { objects, templated } = bothWays(IDENTITIES[0]!, parts, 2, mode);
      expect(templated).toEqual(objects);
    }
  });

  it('stop after an error, as accept does', () => {
    const parts: StreamPart[] = [
      { type: 'text-delta', choice: 0, text: 'a' },
      { type: 'error', error: new EngineError('upstream_error', 'boom') },
      { type: 'text-delta', choice: 0, text: 'late' },
    ];
    const { objects, templated } = bothWays(IDENTITIES[1]!, parts);
    expect(templated).toEqual(objects);
    expect(templated.some((event) => event.includes('late'))).toBe(false);
  });
});

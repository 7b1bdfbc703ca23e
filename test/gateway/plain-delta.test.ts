import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/engines/engine.js';
import { ChunkNormalizer } from '../../src/engines/openai-upstream/chunk-normalizer.js';
import { readPlainDelta } from '../../src/engines/openai-upstream/plain-delta.js';
import { TokenCounter } from '../../src/engines/openai-upstream/token-counter.js';
import { UsageTracker } from '../../src/engines/openai-upstream/usage-tracker.js';
import { chatRequest } from '../helpers/chat-request.js';

/**
 * The fast path for content-only chunks (plain-delta.ts) must read exactly what JSON.parse reads, and
 * must leave every other shape to the full parse.
 */
const HEAD = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1757601341,"model":"m"';
const chunk = (choice: string, head = HEAD, tail = '') => `${head},"choices":[${choice}]${tail}}`;
const content = (json: string, extra = ',"logprobs":null') =>
  chunk(`{"index":0,"delta":{"content":${json}}${extra},"finish_reason":null}`);

function normalizer(n = 1) {
  const parts: StreamPart[] = [];
  const usage = new UsageTracker(
    chatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], n }),
    new TokenCounter(),
  );
  return { parts, usage, normalizer: new ChunkNormalizer(n, usage, (part) => parts.push(part)) };
}

/** The parts of a sequence of event data, read through the fast path where it applies, and through JSON.parse only. */
function readBothWays(events: readonly string[], n = 1): { fast: StreamPart[]; parsed: StreamPart[]; taken: number } {
  const fast = normalizer(n);
  const parsed = normalizer(n);
  let taken = 0;
  for (const data of events) {
    if (fast.normalizer.acceptPlainDelta(data)) taken += 1;
    else fast.normalizer.accept(JSON.parse(data) as Record<string, unknown>);
    parsed.normalizer.accept(JSON.parse(data) as Record<string, unknown>);
  }
  return { fast: fast.parts, parsed: parsed.parts, taken };
}

describe('plain content deltas', () => {
  it('reads the compact OpenAI/vLLM chunk', () => {
    expect(readPlainDelta(content('"Hello"'))).toEqual({ choice: 0, text: 'Hello' });
  });

  it('reads the close variants: no logprobs, stop_reason, system_fingerprint, service_tier, usage null, obfuscation, role', () => {
    const head = `${HEAD},"service_tier":"default","system_fingerprint":"fp_1"`;
    const variants = [
      content('" a"', ''),
      content('" a"', ',"logprobs":null').replace('"finish_reason":null', '"finish_reason":null,"stop_reason":null'),
      chunk(
        '{"index":0,"delta":{"content":" a"},"logprobs":null,"finish_reason":null}',
        head,
        ',"usage":null,"obfuscation":"xyz"',
      ),
      chunk(
        '{"index":0,"delta":{"role":"assistant","content":" a"},"finish_reason":null}',
        `${HEAD},"system_fingerprint":null`,
      ),
    ];
    for (const data of variants) expect(readPlainDelta(data), data).toEqual({ choice: 0, text: ' a' });
  });

  it('decodes escapes exactly as JSON.parse does, surrogate pairs included', () => {
    for (const text of [
      'line\nbreak',
      'a "quote"',
      'back\\slash',
      'tab\t\u0001',
      'é 中 😀',
      '\ud83d\ude00',
      '</script>',
    ]) {
      const data = content(JSON.stringify(text));
      expect(readPlainDelta(data)?.text, data).toBe(text);
    }
    expect(readPlainDelta(content('"\\ud83d\\ude00 \\u00e9\\/"'))?.text).toBe('😀 é/');
  });

  it('reads raw non-ASCII and the empty string', () => {
    expect(readPlainDelta(content('"é中😀"'))).toEqual({ choice: 0, text: 'é中😀' });
    expect(readPlainDelta(content('""'))).toEqual({ choice: 0, text: '' });
  });

  it('reads the choice index of n > 1', () => {
    expect(readPlainDelta(content('"x"').replace('"index":0', '"index":12'))).toEqual({ choice: 12, text: 'x' });
  });

  it('leaves invalid JSON to the full parse: bad escapes, raw control characters, leading zeros', () => {
    expect(readPlainDelta(content('"bad \\x escape"'))).toBeNull();
    expect(readPlainDelta(content('"short \\u12"'))).toBeNull();
    expect(readPlainDelta(content('"raw\nnewline"'))).toBeNull();
    expect(readPlainDelta(content('"x"').replace('"index":0', '"index":01'))).toBeNull();
  });

  it('never takes a finish reason, usage, tool calls, reasoning or more than one choice', () => {
    const rejected = [
      chunk('{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":"stop"}'),
      chunk(
        '{"index":0,"delta":{"content":"x"},"finish_reason":null}',
        HEAD,
        ',"usage":{"prompt_tokens":1,"completion_tokens":1}',
      ),
      chunk('{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":null}'),
      chunk('{"index":0,"delta":{"content":"x","tool_calls":[]},"finish_reason":null}'),
      chunk('{"index":0,"delta":{"reasoning_content":"hmm","content":"x"},"finish_reason":null}'),
      chunk(
        '{"index":0,"delta":{"content":"x"},"finish_reason":null},{"index":1,"delta":{"content":"y"},"finish_reason":null}',
      ),
      chunk('{"index":0,"delta":{"content":"x"},"logprobs":{"content":[]},"finish_reason":null}'),
      chunk('{"index":0,"delta":{"role":"user","content":"x"},"finish_reason":null}'),
    ];
    for (const data of rejected) expect(readPlainDelta(data), data).toBeNull();
  });

  it('never takes errors, other objects, extra fields, whitespace or another key order', () => {
    const rejected = [
      `${content('"x"').slice(0, -1)},"error":{"message":"boom"}}`,
      content('"x"').replace('chat.completion.chunk', 'error'),
      content('"x"').replace('chat.completion.chunk', 'text_completion'),
      content('"x"').replace('"model":"m"', '"model":"m","extra":1'),
      content('"x"').replace('"created":1757601341', '"created": 1757601341'),
      '{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"x"}}],"created":1,"id":"a","model":"m","object":"chat.completion.chunk"}',
      `${content('"x"')}\n`,
      '[DONE]',
    ];
    for (const data of rejected) expect(readPlainDelta(data), data).toBeNull();
  });

  it('gives the normalizer the parts JSON.parse gives it, finished or unknown choices included', () => {
    const events = [
      content('"a"'),
      content('"b"').replace('"index":0', '"index":1'),
      content('""'),
      content('"c"').replace('"index":0', '"index":7'),
      chunk('{"index":1,"delta":{},"finish_reason":"stop"}'),
      content('"late"').replace('"index":0', '"index":1'),
      content('"d\\n"'),
      chunk('{"index":0,"delta":{},"finish_reason":"length"}'),
    ];
    const { fast, parsed, taken } = readBothWays(events, 2);
    expect(taken).toBe(6);
    expect(fast).toEqual(parsed);
  });

  it('counts what it reads when no usage comes (the generated text is kept)', async () => {
    const fast = normalizer();
    for (const word of ['Hello', ' world'])
      expect(fast.normalizer.acceptPlainDelta(content(JSON.stringify(word)))).toBe(true);
    expect(await fast.usage.countedUsage()).toMatchObject({ completionTokens: 2, source: 'counted' });
  });

  it('reads nothing after an error part', () => {
    const fast = normalizer();
    fast.normalizer.accept({ error: { message: 'boom' } });
    expect(fast.normalizer.acceptPlainDelta(content('"x"'))).toBe(true);
    expect(fast.parts.map((part) => part.type)).toEqual(['error']);
  });

  it('reads every recorded upstream stream as JSON.parse does, and takes the fast path for common dialects', () => {
    const root = join(import.meta.dirname, '../fakes/fixtures');
    const takenByDialect: Record<string, number> = {};
    for (const dialect of readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
      for (const file of readdirSync(join(root, dialect.name)).filter((name) => name.endsWith('.sse'))) {
        const events = readFileSync(join(root, dialect.name, file), 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
          .map((line) => line.slice('data: '.length));
        const { fast, parsed, taken } = readBothWays(events);
        expect(fast, `${dialect.name}/${file}`).toEqual(parsed);
        takenByDialect[dialect.name] = (takenByDialect[dialect.name] ?? 0) + taken;
      }
    }
    expect(takenByDialect.openai).toBeGreaterThan(0);
    expect(takenByDialect.ollama).toBeGreaterThan(0);
  });
});

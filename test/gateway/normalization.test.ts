import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamPart } from '../../src/engines/engine.js';
import { ChunkNormalizer } from '../../src/engines/openai-upstream/chunk-normalizer.js';
import { readErrorText } from '../../src/engines/openai-upstream/error-body.js';
import { readFinishReason } from '../../src/engines/openai-upstream/finish-reason.js';
import { parseRetryAfter } from '../../src/engines/openai-upstream/retry-after.js';
import { SseReader } from '../../src/engines/openai-upstream/sse-reader.js';
import { TokenCounter } from '../../src/engines/openai-upstream/token-counter.js';
import { errorFromStatus, errorFromTransport } from '../../src/engines/openai-upstream/upstream-errors.js';
import { UsageTracker } from '../../src/engines/openai-upstream/usage-tracker.js';
import { toWireBody } from '../../src/engines/openai-upstream/wire-request.js';
import { chatRequest } from '../helpers/chat-request.js';

const request: ChatRequest = chatRequest({ model: 'public', messages: [{ role: 'user', content: 'Say hello' }] });

function normalizer(n = 1) {
  const parts: StreamPart[] = [];
  const usage = new UsageTracker({ ...request, n }, new TokenCounter());
  return { parts, usage, normalizer: new ChunkNormalizer(n, usage, (part) => parts.push(part)) };
}

describe('chunk normalization', () => {
  it('tolerates a missing delta, content null, role on every delta and unknown fields', () => {
    const { parts, normalizer: n } = normalizer();
    n.accept({ choices: [{ index: 0, finish_reason: null }] });
    n.accept({ choices: [{ index: 0, delta: { role: 'assistant', content: null } }] });
    n.accept({
      choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi', reasoning_content: 'hmm' }, logprobs: null }],
      obfuscation: 'x',
      timings: {},
    });
    n.accept({ choices: [{ delta: { content: '!' }, finish_reason: 'stop', stop_reason: null }] });
    expect(parts).toEqual([
      { type: 'text-delta', choice: 0, text: 'Hi' },
      { type: 'text-delta', choice: 0, text: '!' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
    ]);
  });

  it('takes the last usage report (vLLM continuous_usage_stats is cumulative), including a choices: [] chunk', () => {
    const { usage, normalizer: n } = normalizer();
    n.accept({
      choices: [{ index: 0, delta: { content: 'a' } }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    });
    n.accept({
      choices: [{ index: 0, delta: { content: 'b' } }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    n.accept({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null });
    n.accept({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } });
    expect(usage.reportedUsage).toEqual({ promptTokens: 5, completionTokens: 3, source: 'engine' });
  });

  it("keeps the upstream's cached prompt tokens (vLLM prefix caching, OpenAI) for prompt_tokens_details", () => {
    const { usage, normalizer: n } = normalizer();
    n.accept({
      choices: [],
      usage: {
        prompt_tokens: 50,
        completion_tokens: 3,
        total_tokens: 53,
        prompt_tokens_details: { cached_tokens: 32 },
      },
    });
    expect(usage.reportedUsage).toEqual({ promptTokens: 50, completionTokens: 3, source: 'engine', cachedTokens: 32 });
  });

  it('counts with o200k when no usage comes, prompt framing included', async () => {
    const { usage, normalizer: n } = normalizer();
    n.accept({
      choices: [{ index: 0, delta: { content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
    });
    expect(usage.reportedUsage).toBeNull();
    // "Say hello" is 2 tokens; 3 per message + 1 for the role + 3 to prime the reply.
    expect(await usage.countedUsage()).toEqual({ promptTokens: 9, completionTokens: 9, source: 'counted' });
  });

  it('ends complete on [DONE] or when every choice finished; otherwise with an error part, never a clean end', () => {
    const cut = normalizer();
    cut.normalizer.accept({ choices: [{ index: 0, delta: { content: 'Hel' } }] });
    cut.normalizer.end(false);
    expect(cut.parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'upstream_error' } });

    const finishedWithoutDone = normalizer();
    finishedWithoutDone.normalizer.accept({
      choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'length' }],
    });
    finishedWithoutDone.normalizer.end(false);
    expect(finishedWithoutDone.parts.at(-1)).toEqual({ type: 'finish', choice: 0, finishReason: 'length' });

    const doneWithoutFinish = normalizer();
    doneWithoutFinish.normalizer.accept({ choices: [{ index: 0, delta: { content: 'Hi' } }] });
    doneWithoutFinish.normalizer.end(true);
    expect(doneWithoutFinish.parts.at(-1)).toEqual({ type: 'finish', choice: 0, finishReason: 'stop' });
  });

  it('turns an error object in the stream into one error part and ignores what follows', () => {
    const { parts, normalizer: n } = normalizer();
    n.accept({ choices: [{ index: 0, delta: { content: 'Hi' } }] });
    n.accept({ object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: 500 });
    n.accept({ choices: [{ index: 0, delta: { content: 'more' } }] });
    expect(parts.slice(1)).toEqual([
      {
        type: 'error',
        error: expect.objectContaining({
          code: 'upstream_error',
          message: expect.stringContaining('CUDA out of memory'),
        }),
      },
    ]);
  });

  it('keeps choices apart and ignores choices beyond n', () => {
    const { parts, normalizer: n } = normalizer(2);
    n.accept({
      choices: [
        { index: 1, delta: { content: 'b' } },
        { index: 0, delta: { content: 'a' } },
        { index: 2, delta: { content: 'c' } },
      ],
    });
    expect(parts).toEqual([
      { type: 'text-delta', choice: 1, text: 'b' },
      { type: 'text-delta', choice: 0, text: 'a' },
    ]);
  });
});

describe('finish reasons', () => {
  it.each([
    ['stop', false, { kind: 'finished', reason: 'stop' }],
    ['stop', true, { kind: 'finished', reason: 'tool_calls' }],
    ['length', false, { kind: 'finished', reason: 'length' }],
    ['max_tokens', false, { kind: 'finished', reason: 'length' }],
    ['tool_calls', true, { kind: 'finished', reason: 'tool_calls' }],
    ['function_call', true, { kind: 'finished', reason: 'tool_calls' }],
    ['content_filter', false, { kind: 'finished', reason: 'content_filter' }],
    ['eos', false, { kind: 'finished', reason: 'stop' }],
    ['abort', false, { kind: 'aborted', reason: 'abort' }],
    [null, false, { kind: 'running' }],
    [undefined, false, { kind: 'running' }],
  ])('%s (tool calls made: %s)', (value, madeToolCalls, expected) => {
    expect(readFinishReason(value, madeToolCalls)).toEqual(expected);
  });
});

describe('retry-after', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(parseRetryAfter('250', '7', now)).toBe(250);
    expect(parseRetryAfter(undefined, '7', now)).toBe(7000);
    expect(parseRetryAfter(undefined, '0.5', now)).toBe(500);
    expect(parseRetryAfter(undefined, 'Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('nonsense', 'nonsense', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, undefined, now)).toBeUndefined();
  });
});

describe('upstream errors before the first byte', () => {
  it("keeps a 400 as the client's error, with its message and param, not retryable", () => {
    const error = errorFromStatus(
      400,
      readErrorText(
        '{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}}',
      ),
      undefined,
    );
    expect(error).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'max_tokens',
      retryable: false,
      message: 'max_tokens is too large',
    });
  });

  it('reads vLLM, llama-server, Ollama and FastAPI error bodies', () => {
    expect(
      readErrorText('{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}').message,
    ).toBe('bad');
    expect(readErrorText('{"error":{"code":400,"message":"bad2","type":"invalid_request_error"}}').message).toBe(
      'bad2',
    );
    expect(readErrorText('{"error":"model \\"x\\" not found"}').message).toBe('model "x" not found');
    expect(readErrorText('{"detail":[{"loc":["body","temperature"],"msg":"too big"}]}')).toMatchObject({
      message: 'too big',
      param: 'temperature',
    });
    expect(readErrorText('<html>502 Bad Gateway</html>').message).toBeNull();
  });

  it("treats 401/403 as the gateway's configuration, without the upstream's text (it may quote our key)", () => {
    const error = errorFromStatus(
      401,
      readErrorText('{"error":{"message":"Incorrect API key provided: sk-abc***xyz"}}'),
      undefined,
    );
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(error.status).toBeUndefined();
    expect(error.message).not.toContain('sk-');
  });

  it('makes 429 rate_limited with its retry-after, 5xx retryable, 404 retryable elsewhere', () => {
    expect(errorFromStatus(429, readErrorText('{}'), 1500)).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 1500,
    });
    expect(
      errorFromStatus(429, readErrorText('{"error":{"message":"quota","code":"insufficient_quota"}}'), undefined),
    ).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(errorFromStatus(500, readErrorText('oops'), undefined)).toMatchObject({
      code: 'upstream_error',
      retryable: true,
      message: expect.stringContaining('oops'),
    });
    expect(errorFromStatus(503, readErrorText('{}'), undefined)).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    expect(errorFromStatus(404, readErrorText('{}'), undefined)).toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
    expect(
      errorFromStatus(
        400,
        readErrorText('{"error":{"message":"too long","code":"context_length_exceeded"}}'),
        undefined,
      ),
    ).toMatchObject({ code: 'context_length_exceeded' });
  });

  it('maps transport failures to retryable unavailable or timeout', () => {
    expect(errorFromTransport(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    expect(errorFromTransport(Object.assign(new Error('slow'), { code: 'UND_ERR_CONNECT_TIMEOUT' }))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
  });
});

describe('SSE reading', () => {
  const stream =
    ': comment\n\ndata:{"a":1}\n\ndata: {"b":"é€"}\r\n\r\nevent: error\ndata: {"c":3}\n\nerror: {"code":500}\n\ndata: [DONE]';

  function readAll(chunks: Buffer[]) {
    const events: { event: string | undefined; data: string }[] = [];
    const errors: string[] = [];
    const reader = new SseReader({
      onEvent: (event) => events.push({ event: event.event, data: event.data }),
      onErrorField: (value) => errors.push(value),
      onMalformed: () => undefined,
    });
    for (const chunk of chunks) reader.feed(chunk);
    reader.end();
    return { events, errors };
  }

  it('reads the same events whatever the byte boundaries (UTF-8 split included), a final event without its blank line too', () => {
    const bytes = Buffer.from(stream);
    const whole = readAll([bytes]);
    expect(whole.events).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '{"b":"é€"}' },
      { event: 'error', data: '{"c":3}' },
      { event: undefined, data: '[DONE]' },
    ]);
    expect(whole.errors).toEqual(['{"code":500}']);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(readAll([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at byte ${cut}`).toEqual(whole);
    }
    expect(readAll([...bytes].map((byte) => Buffer.from([byte])))).toEqual(whole);
  });
});

describe('the upstream request body', () => {
  it('maps ChatRequest to wire names, substitutes the model, passes vendor fields through untouched', () => {
    const body = JSON.parse(
      toWireBody(
        {
          ...request,
          messages: [
            { role: 'developer', content: 'Be brief.' },
            { role: 'user', content: 'Weather?' },
            {
              role: 'assistant',
              content: null,
              toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' }],
            },
            { role: 'tool', content: '{"temp":20}', toolCallId: 'call_1' },
          ],
          maxTokens: 50,
          temperature: 0.2,
          stop: ['END'],
          tools: [{ name: 'get_weather', description: null, parameters: { type: 'object' } }],
          toolChoice: { type: 'function', name: 'get_weather' },
          responseFormat: { type: 'json_object' },
          extraBody: { top_k: 40, repetition_penalty: 1.1, chat_template_kwargs: { enable_thinking: false } },
        },
        { upstreamModel: 'Qwen/Qwen2.5-7B-Instruct', maxTokensField: 'max_tokens' },
      ),
    ) as Record<string, unknown>;
    expect(body).toEqual({
      top_k: 40,
      repetition_penalty: 1.1,
      chat_template_kwargs: { enable_thinking: false },
      model: 'Qwen/Qwen2.5-7B-Instruct',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          ],
        },
        { role: 'tool', content: '{"temp":20}', tool_call_id: 'call_1' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      temperature: 0.2,
      stop: ['END'],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_object' },
    });
  });

  it('asks for usage only on streams, and can name max_completion_tokens', () => {
    const body = JSON.parse(
      toWireBody(
        { ...request, stream: false, maxTokens: 9 },
        { upstreamModel: 'o3', maxTokensField: 'max_completion_tokens' },
      ),
    ) as Record<string, unknown>;
    expect(body.stream_options).toBeUndefined();
    expect(body.max_completion_tokens).toBe(9);
    expect(body.max_tokens).toBeUndefined();
  });
});

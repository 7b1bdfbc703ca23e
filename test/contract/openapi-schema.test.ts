import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorChunk } from '../../src/assembly/chunk-assembler.js';
import { openApiValidator, type OpenApiValidator } from '../helpers/openapi.js';
import { jsonEvents, readRawStream } from '../helpers/sse.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Everything the server writes, validated against OpenAI's own OpenAPI description
 * (test/fixtures/spec/openai-openapi.yaml.gz): every chunk of several real streams against
 * CreateChatCompletionStreamResponse, non-streaming bodies against CreateChatCompletionResponse,
 * error bodies against ErrorResponse, the model list against ListModelsResponse / Model.
 *
 * Where CONTRACT.md deliberately differs from OpenAI, the difference is named here and the rest
 * is still validated:
 * - usage rides on the final chunk, whose `choices` is not empty. The schema allows it (it only
 *   says OpenAI itself puts usage on a chunk with `choices: []`); it is validated as is.
 * - the mid-stream error event is a chunk with `finish_reason: "error"`, outside the schema's enum,
 *   plus a top-level `error` object. It is validated with exactly that one violation expected, and its
 *   `error` against the schema's `Error`.
 */

const MODEL = 'stories260K';
const STORY = [{ role: 'user', content: 'Once upon a time' }];

let harness: TestServer;
let validator: OpenApiValidator;

beforeAll(async () => {
  validator = openApiValidator();
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

async function streamChunks(body: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const raw = await readRawStream(
    `${harness.baseURL}/chat/completions`,
    post({ model: MODEL, messages: STORY, stream: true, ...body }),
  );
  expect(raw.status).toBe(200);
  expect(raw.events.at(-1)).toBe('[DONE]');
  return jsonEvents(raw);
}

describe('the validator itself', () => {
  // A schema check that accepts anything proves nothing: these must be rejected.
  it('rejects chunks, completions and errors that break the schema', () => {
    const chunk = {
      id: 'chatcmpl-a',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
    };
    expect(validator.errors('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(validator.errors('CreateChatCompletionStreamResponse', { ...chunk, object: 'chat.completion' })).not.toEqual(
      [],
    );
    expect(validator.errors('CreateChatCompletionStreamResponse', { ...chunk, created: 1.5 })).not.toEqual([]);
    expect(
      validator.errors('CreateChatCompletionStreamResponse', {
        ...chunk,
        choices: [{ index: 0, delta: { role: 'bot' }, finish_reason: null }],
      }),
    ).not.toEqual([]);
    expect(
      validator.errors('CreateChatCompletionStreamResponse', { ...chunk, choices: [{ index: 0, delta: {} }] }),
    ).not.toEqual([]);
    expect(
      validator.errors('CreateChatCompletionStreamResponse', {
        ...chunk,
        usage: { prompt_tokens: 1, completion_tokens: 2 },
      }),
    ).not.toEqual([]);
    expect(validator.errors('CreateChatCompletionStreamResponse', { ...chunk, usage: null })).toEqual([]);
    const { id: _id, ...withoutId } = chunk;
    expect(validator.errors('CreateChatCompletionStreamResponse', withoutId)).not.toEqual([]);
    const completion = {
      id: 'chatcmpl-a',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'x', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    expect(validator.errors('CreateChatCompletionResponse', completion)).toEqual([]);
    expect(
      validator.errors('CreateChatCompletionResponse', {
        ...completion,
        choices: [{ ...completion.choices[0], logprobs: undefined }],
      }),
    ).not.toEqual([]);
    expect(
      validator.errors('CreateChatCompletionResponse', {
        ...completion,
        choices: [{ ...completion.choices[0], message: { role: 'assistant', content: 'x' } }],
      }),
    ).not.toEqual([]);
    expect(validator.errors('ErrorResponse', { error: { message: 'm', type: 't', param: null, code: null } })).toEqual(
      [],
    );
    expect(validator.errors('ErrorResponse', { error: { message: 'm', type: 't' } })).not.toEqual([]);
    expect(validator.errors('ErrorResponse', { message: 'm' })).not.toEqual([]);
  });
});

describe('streamed chunks against CreateChatCompletionStreamResponse', () => {
  it('validates every chunk of a plain stream (usage on the final chunk, choices not empty)', async () => {
    const chunks = await streamChunks({ max_tokens: 30, temperature: 0 });
    for (const chunk of chunks) validator.assertValid('CreateChatCompletionStreamResponse', chunk);
    const final = chunks.at(-1)!;
    expect(final.usage).toBeDefined();
    validator.assertValid('CompletionUsage', final.usage);
    expect((final.choices as unknown[]).length).toBe(1);
  });

  it('validates every chunk of an n=2 stream', async () => {
    const chunks = await streamChunks({ max_tokens: 12, n: 2 });
    expect(
      new Set(chunks.flatMap((chunk) => (chunk.choices as { index: number }[]).map((choice) => choice.index))),
    ).toEqual(new Set([0, 1]));
    for (const chunk of chunks) validator.assertValid('CreateChatCompletionStreamResponse', chunk);
  });

  it('validates every chunk of an explicit include_usage stream, the choices: [] usage chunk included', async () => {
    const chunks = await streamChunks({ max_tokens: 12, stream_options: { include_usage: true } });
    expect(chunks.at(-1)!.choices).toEqual([]);
    for (const chunk of chunks) validator.assertValid('CreateChatCompletionStreamResponse', chunk);
  });

  it('validates every chunk of an include_usage: false stream and of a stop-sequence stream', async () => {
    for (const body of [
      { max_tokens: 12, stream_options: { include_usage: false } },
      { max_tokens: 200, temperature: 0, stop: ['.'] },
    ]) {
      const chunks = await streamChunks(body);
      for (const chunk of chunks) validator.assertValid('CreateChatCompletionStreamResponse', chunk);
    }
  });

  it('the mid-stream error event differs only by finish_reason "error"; its error is a schema Error', () => {
    // Built by the same function the stream writer uses (an engine crash cannot be provoked on demand here).
    const event = errorChunk(
      { id: 'chatcmpl-abc', created: 1_700_000_000, model: MODEL },
      { message: 'The model failed while generating.', type: 'server_error', param: null, code: 'internal_error' },
    );
    const violations = validator.errors('CreateChatCompletionStreamResponse', event);
    expect(violations.length).toBeGreaterThan(0);
    expect(new Set(violations.map((violation) => violation.instancePath))).toEqual(
      new Set(['/choices/0/finish_reason']),
    );
    validator.assertValid('CreateChatCompletionStreamResponse', {
      ...event,
      choices: [{ ...event.choices[0], finish_reason: null }],
    });
    validator.assertValid('Error', event.error);
    validator.assertValid('ErrorResponse', { error: event.error });
  });
});

describe('non-streaming bodies against CreateChatCompletionResponse', () => {
  it('validates n=1 and n=2 completions', async () => {
    for (const body of [
      { max_tokens: 10, temperature: 0 },
      { max_tokens: 6, n: 2 },
      { max_tokens: 200, temperature: 0, stop: '.' },
    ]) {
      const response = await fetch(
        `${harness.baseURL}/chat/completions`,
        post({ model: MODEL, messages: STORY, ...body }),
      );
      expect(response.status).toBe(200);
      const completion = await response.json();
      validator.assertValid('CreateChatCompletionResponse', completion);
      validator.assertValid('CompletionUsage', (completion as { usage: unknown }).usage);
    }
  });
});

describe('models against ListModelsResponse / Model', () => {
  it('validates GET /models and GET /models/{id}', async () => {
    const headers = { authorization: `Bearer ${harness.apiKey}` };
    const list = await (await fetch(`${harness.baseURL}/models`, { headers })).json();
    validator.assertValid('ListModelsResponse', list);
    const one = await (await fetch(`${harness.baseURL}/models/${MODEL}`, { headers })).json();
    validator.assertValid('Model', one);
  });
});

describe('error bodies against ErrorResponse', () => {
  const chat = () => `${harness.baseURL}/chat/completions`;
  const cases: {
    name: string;
    send: () => Promise<Response>;
    status: number;
    type: string;
    code: string | null;
    param?: string | null;
  }[] = [
    {
      name: 'no Authorization',
      send: () => fetch(chat(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    {
      name: 'malformed Authorization',
      send: () =>
        fetch(chat(), {
          method: 'POST',
          headers: { authorization: 'Basic abc', 'content-type': 'application/json' },
          body: '{}',
        }),
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    {
      name: 'unknown key',
      send: () =>
        fetch(chat(), {
          method: 'POST',
          headers: { authorization: 'Bearer oruel_notarealkey000000000000000000', 'content-type': 'application/json' },
          body: '{}',
        }),
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    {
      name: 'body not JSON',
      send: () => fetch(chat(), post('{"model": ')),
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_json',
    },
    {
      name: 'empty messages',
      send: () => fetch(chat(), post({ model: MODEL, messages: [] })),
      status: 400,
      type: 'invalid_request_error',
      code: null,
      param: 'messages',
    },
    {
      name: 'wrong field type',
      send: () => fetch(chat(), post({ model: MODEL, messages: STORY, max_tokens: 'ten' })),
      status: 400,
      type: 'invalid_request_error',
      code: null,
      param: 'max_tokens',
    },
    {
      name: "n above the model's sequences (stream)",
      send: () => fetch(chat(), post({ model: MODEL, messages: STORY, n: 3, stream: true })),
      status: 400,
      type: 'invalid_request_error',
      code: null,
      param: 'n',
    },
    {
      name: 'unknown model',
      send: () => fetch(chat(), post({ model: 'no-such-model', messages: STORY })),
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    {
      name: 'unknown model (stream)',
      send: () => fetch(chat(), post({ model: 'no-such-model', messages: STORY, stream: true })),
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    {
      name: 'GET /models/{unknown}',
      send: () =>
        fetch(`${harness.baseURL}/models/no-such-model`, { headers: { authorization: `Bearer ${harness.apiKey}` } }),
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    {
      name: 'body too large',
      send: () =>
        fetch(chat(), post({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] })),
      status: 413,
      type: 'invalid_request_error',
      code: 'request_too_large',
    },
  ];
  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.status} ${testCase.type}/${testCase.code}`, async () => {
      const response = await testCase.send();
      expect(response.status).toBe(testCase.status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      const body = (await response.json()) as {
        error: { type: string; code: string | null; param: string | null; message: string };
      };
      validator.assertValid('ErrorResponse', body);
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.type).toBe(testCase.type);
      expect(body.error.code).toBe(testCase.code);
      if (testCase.param !== undefined) expect(body.error.param).toBe(testCase.param);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(body.error.message).not.toMatch(/\n\s+at /);
    });
  }
});

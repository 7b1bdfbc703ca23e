import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS as LIMITS } from '../../src/validation/request-limits.js';
import { expectError, ledgerRow, postChat, readJson } from '../helpers/api.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Inputs a careless or hostile client sends: each gets a 4xx in the OpenAI envelope naming the
 * field (never a 5xx), and the server keeps serving.
 */

let harness: TestServer;
const MODEL = storiesModel.name;
const good = { model: MODEL, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 2 };

beforeAll(async () => {
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

/** `{"type":"object","properties":{"a": ... }}` nested `depth` times, built as text (a recursive stringify would overflow). */
function deepSchemaJson(depth: number): string {
  return '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"string"}' + '}}'.repeat(depth);
}

function rawPost(body: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${harness.apiKey}`, ...headers },
    body,
  }).then(readJson);
}

describe('deep schemas are 400s naming the field, not 500s', () => {
  it('response_format with objects nested 10,000 deep', async () => {
    const body = `{"model":"${MODEL}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${deepSchemaJson(10_000)}}}}`;
    const error = expectError(await rawPost(body), 400, { type: 'invalid_request_error', param: 'response_format' });
    expect(error.message).toContain(String(LIMITS.maxSchemaDepth));
  });

  it('tools[].function.parameters with objects nested 10,000 deep', async () => {
    const tool = `{"type":"function","function":{"name":"deep","parameters":${deepSchemaJson(10_000)}}}`;
    const body = `{"model":"${MODEL}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"flat"}},${tool}]}`;
    expectError(await rawPost(body), 400, { type: 'invalid_request_error', param: 'tools[1].function.parameters' });
  });

  it('any other field nested 100,000 deep is refused by its name', async () => {
    const body = `{"model":"${MODEL}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expectError(await rawPost(body), 400, { type: 'invalid_request_error', param: 'metadata' });
  });

  it('tool call arguments nested past 64 levels (the chat template would serialize them recursively)', async () => {
    const deepArguments = '['.repeat(70) + ']'.repeat(70);
    const messages = [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: deepArguments } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'done' },
    ];
    expectError(await postChat(harness, { ...good, messages }), 400, {
      type: 'invalid_request_error',
      param: 'messages[1].tool_calls[0].function.arguments',
    });
  });

  it.each([
    ['a $ref cycle', { $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }],
    ['minLength 1,000,000,000', { type: 'string', minLength: 1_000_000_000 }],
    ['minItems 10,000', { type: 'array', items: { type: 'integer' }, minItems: 10_000 }],
  ])(
    'a schema no grammar can follow (%s) -> 400 naming response_format (found by the fuzz pass: was a 500)',
    async (_name, schema) => {
      const response_format = { type: 'json_schema', json_schema: { name: 'odd', schema } };
      expectError(await postChat(harness, { ...good, response_format }), 400, {
        type: 'invalid_request_error',
        param: 'response_format',
      });
      expectError(await postChat(harness, { ...good, stream: true, response_format }), 400, {
        type: 'invalid_request_error',
        param: 'response_format',
      });
    },
  );

  it('schemas past the size limit', async () => {
    const properties = Object.fromEntries(
      Array.from({ length: LIMITS.maxSchemaNodes }, (_, index) => [`p${index}`, { type: 'string' }]),
    );
    const response_format = {
      type: 'json_schema',
      json_schema: { name: 'wide', schema: { type: 'object', properties } },
    };
    const error = expectError(await postChat(harness, { ...good, response_format }), 400, { param: 'response_format' });
    expect(error.message).toContain(String(LIMITS.maxSchemaNodes));
  });
});

describe('documented request limits', () => {
  const user = { role: 'user', content: 'a' };
  it.each([
    [
      'messages',
      { messages: Array.from({ length: LIMITS.maxMessages + 1 }, () => user) },
      'messages',
      String(LIMITS.maxMessages),
    ],
    ['stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', '4'],
    [
      'a long stop sequence',
      { stop: ['x', 'y'.repeat(LIMITS.maxStopLength + 1)] },
      'stop[1]',
      String(LIMITS.maxStopLength),
    ],
    ['a long stop string', { stop: 'y'.repeat(LIMITS.maxStopLength + 1) }, 'stop', String(LIMITS.maxStopLength)],
    [
      'tools',
      {
        tools: Array.from({ length: LIMITS.maxTools + 1 }, (_, index) => ({
          type: 'function',
          function: { name: `f${index}` },
        })),
      },
      'tools',
      String(LIMITS.maxTools),
    ],
    [
      'a long model name',
      { model: 'm'.repeat(LIMITS.maxModelNameLength + 1) },
      'model',
      String(LIMITS.maxModelNameLength),
    ],
  ])('too many/long %s -> 400 naming the field and the limit', async (_name, patch, param, limit) => {
    const error = expectError(await postChat(harness, { ...good, ...patch }), 400, {
      type: 'invalid_request_error',
      param,
    });
    expect(error.message).toContain(limit);
  });

  it('requests at every limit are served', async () => {
    const response = await postChat(harness, {
      ...good,
      stop: Array.from({ length: LIMITS.maxStopSequences }, (_, index) => `${index}`.repeat(LIMITS.maxStopLength)),
      messages: Array.from({ length: 20 }, () => user),
    });
    expect(response.status, response.text).toBe(200);
  });
});

describe('request limits of /completions and /embeddings', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${harness.baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${harness.apiKey}` },
      body: JSON.stringify(body),
    }).then(readJson);
  const prompt = { model: MODEL, prompt: 'Once', max_tokens: 2 };
  const embed = { model: MODEL, input: 'Once' };

  it.each([
    [
      'prompts',
      { prompt: Array.from({ length: LIMITS.maxPrompts + 1 }, () => 'a') },
      'prompt',
      String(LIMITS.maxPrompts),
    ],
    ['stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', String(LIMITS.maxStopSequences)],
    [
      'a long stop sequence',
      { stop: ['x', 'y'.repeat(LIMITS.maxStopLength + 1)] },
      'stop[1]',
      String(LIMITS.maxStopLength),
    ],
    [
      'a long model name',
      { model: 'm'.repeat(LIMITS.maxModelNameLength + 1) },
      'model',
      String(LIMITS.maxModelNameLength),
    ],
    [
      'nested extra fields',
      { metadata: JSON.parse('['.repeat(LIMITS.maxBodyDepth + 2) + ']'.repeat(LIMITS.maxBodyDepth + 2)) as unknown },
      'metadata',
      String(LIMITS.maxBodyDepth),
    ],
  ])('/completions: too many/long %s -> 400 naming the field and the limit', async (_name, patch, param, limit) => {
    const error = expectError(await post('/completions', { ...prompt, ...patch }), 400, {
      type: 'invalid_request_error',
      param,
    });
    expect(error.message).toContain(limit);
  });

  it.each([
    [
      'inputs',
      { input: Array.from({ length: LIMITS.maxEmbeddingInputs + 1 }, () => 'a') },
      'input',
      String(LIMITS.maxEmbeddingInputs),
    ],
    [
      'tokens in a token-array input',
      { input: [[1, 2], Array.from({ length: LIMITS.maxEmbeddingInputTokens + 1 }, () => 1)] },
      'input[1]',
      String(LIMITS.maxEmbeddingInputTokens),
    ],
    [
      'a long model name',
      { model: 'm'.repeat(LIMITS.maxModelNameLength + 1) },
      'model',
      String(LIMITS.maxModelNameLength),
    ],
  ])('/embeddings: too many/long %s -> 400 naming the field and the limit', async (_name, patch, param, limit) => {
    const error = expectError(await post('/embeddings', { ...embed, ...patch }), 400, {
      type: 'invalid_request_error',
      param,
    });
    expect(error.message).toContain(limit);
  });

  it('a 3 MB model name on /completions is refused without echoing it; the ledger keeps at most the longest valid name', async () => {
    const response = await post('/completions', { ...prompt, model: 'q'.repeat(3_000_000) });
    expectError(response, 400, { param: 'model' });
    expect(response.text.length).toBeLessThan(1000);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row.model.length).toBeLessThanOrEqual(LIMITS.maxModelNameLength);
  });
});

describe('model names', () => {
  it('an unknown name is echoed cut short, not whole', async () => {
    const name = `no-such-model-${'x'.repeat(LIMITS.maxModelNameLength - 20)}`;
    const response = await postChat(harness, { ...good, model: name });
    const error = expectError(response, 404, { code: 'model_not_found', param: 'model' });
    expect(error.message).toContain('no-such-model-');
    expect(error.message.length).toBeLessThan(200);
  });

  it('a 3 MB name is refused without echoing it, and the ledger keeps at most the longest valid name', async () => {
    const response = await postChat(harness, { ...good, model: 'q'.repeat(3_000_000) });
    expectError(response, 400, { param: 'model' });
    expect(response.text.length).toBeLessThan(1000);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row.model.length).toBeLessThanOrEqual(LIMITS.maxModelNameLength);
  });

  it('GET /models/%25 is a 404, not a 500; the id is decoded exactly once', async () => {
    const get = (id: string) =>
      fetch(`${harness.baseURL}/models/${id}`, { headers: { authorization: `Bearer ${harness.apiKey}` } }).then(
        readJson,
      );
    expectError(await get('%25'), 404, { code: 'model_not_found' });
    const once = expectError(await get('a%2525b'), 404, { code: 'model_not_found' });
    expect(once.message).toContain('a%25b');
    const found = await get(encodeURIComponent(MODEL));
    expect(found.status).toBe(200);
  });
});

describe('the body before and after its key', () => {
  it('no key and a body that is not JSON -> 401, not 400: the body is not parsed for strangers', async () => {
    const response = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    }).then(readJson);
    expectError(response, 401, { code: 'invalid_api_key' });
  });

  it('a wrong key and an oversized body -> 401, not 413', async () => {
    const response = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer oruel_wrong' },
      body: 'x'.repeat(harness.config.server.bodyLimitBytes + 10),
    }).then(readJson);
    expectError(response, 401, { code: 'invalid_api_key' });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8'])(
    'valid JSON labelled %s is read as JSON',
    async (contentType) => {
      const response = await rawPost(JSON.stringify(good), { 'content-type': contentType });
      expect(response.status, response.text).toBe(200);
    },
  );

  it('invalid UTF-8 inside a JSON string -> 400 invalid_json', async () => {
    const before = Buffer.from(`{"model":"${MODEL}","max_tokens":2,"messages":[{"role":"user","content":"bad `);
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const body = Buffer.concat([before, Buffer.from(bad), Buffer.from('"}]}')]);
      expectError(await rawPost(body), 400, { code: 'invalid_json' });
    }
  });

  it('prototype-poisoning keys are refused', async () => {
    const response = await rawPost(
      `{"model":"${MODEL}","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"__proto__":{"admin":true}}`,
    );
    expectError(response, 400, { code: 'invalid_json' });
  });

  it('the server still serves', async () => {
    expect((await postChat(harness, good)).status).toBe(200);
  });
});

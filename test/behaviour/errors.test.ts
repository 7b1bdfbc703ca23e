import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBase62 } from '../../src/ids/random-base62.js';
import { expectError, postChat, readJson, type CompletionJson } from '../helpers/api.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * The contract's error table, case by case, through real HTTP: status, the exact
 * `{"error":{message,type,param,code}}` body, an x-request-id, and what the OpenAI SDK raises.
 */

let harness: TestServer;
let client: OpenAI;
const MODEL = storiesModel.name;
const good = { model: MODEL, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 4 };

beforeAll(async () => {
  // A small body limit, so "too large" is cheap to reach; the normal requests stay far below it.
  harness = await startTestServer({ server: { bodyLimitBytes: 2048 } });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

async function expectServing(): Promise<void> {
  const response = await postChat(harness, good);
  expect(response.status, response.text).toBe(200);
  expect(response.json?.choices[0]?.message.content?.length).toBeGreaterThan(0);
}

describe('401 invalid_api_key', () => {
  const expected = { type: 'invalid_request_error', code: 'invalid_api_key', param: null };

  it('no Authorization header', async () => {
    expectError(await postChat(harness, good, { apiKey: null }), 401, expected);
  });

  it.each([
    ['a scheme other than Bearer', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['Bearer without a token', 'Bearer'],
    ['Bearer with an empty token', 'Bearer   '],
    ['a key without a scheme', 'oruel_abc'],
  ])('malformed Authorization: %s', async (_name, authorization) => {
    expectError(await postChat(harness, good, { authorization }), 401, expected);
  });

  it('an unknown key of the right shape', async () => {
    const error = expectError(await postChat(harness, good, { apiKey: `oruel_${randomBase62(40)}` }), 401, expected);
    expect(error.message).not.toContain('oruel_');
  });

  it('a revoked key stops working at once', async () => {
    const { record, key } = await harness.server.keyStore.create({ name: 'soon-revoked' });
    expect((await postChat(harness, good, { apiKey: key })).status).toBe(200);
    expect(await harness.server.keyStore.revoke(record.id)).toBe(true);
    expectError(await postChat(harness, good, { apiKey: key }), 401, expected);
  });

  it('the SDK raises AuthenticationError with the code and the request id', async () => {
    const stranger = new OpenAI({ baseURL: harness.baseURL, apiKey: `oruel_${randomBase62(40)}`, maxRetries: 0 });
    const error = await stranger.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const apiError = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(apiError.status).toBe(401);
    expect(apiError.code).toBe('invalid_api_key');
    expect(apiError.type).toBe('invalid_request_error');
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it('a stream request without a key is refused before any event', async () => {
    const response = await postChat(harness, { ...good, stream: true }, { apiKey: null });
    expectError(response, 401, expected);
    expect(response.text).not.toContain('data:');
  });
});

describe('400 invalid_request_error on the body', () => {
  it('a body that is not JSON', async () => {
    const error = expectError(await postChat(harness, '{"model": "stories260K", "messages": ['), 400, {
      type: 'invalid_request_error',
    });
    expect(error.code).toBe('invalid_json');
  });

  it('a body that is a JSON array', async () => {
    expectError(await postChat(harness, JSON.stringify([good])), 400, { type: 'invalid_request_error' });
  });

  it('a body that is a JSON string', async () => {
    expectError(await postChat(harness, JSON.stringify('hello')), 400, { type: 'invalid_request_error' });
  });

  it.each([
    ['temperature', { temperature: 'hot' }, 'temperature'],
    ['messages as a string', { messages: 'x' }, 'messages'],
    ['n = 0', { n: 0 }, 'n'],
    ['stop with 5 entries', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['max_tokens = 0', { max_tokens: 0 }, 'max_tokens'],
    ['max_completion_tokens = -1', { max_completion_tokens: -1 }, 'max_completion_tokens'],
    ['top_p > 1', { top_p: 1.5 }, 'top_p'],
    ['stream as a string', { stream: 'yes' }, 'stream'],
    ['model missing', { model: undefined }, 'model'],
    ['model a number', { model: 42 }, 'model'],
    ['empty messages', { messages: [] }, 'messages'],
    ['an unknown role', { messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    ['a message without content', { messages: [{ role: 'user' }] }, 'messages[0].content'],
    [
      'an image content part',
      {
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.test/cat.png' } }] },
        ],
      },
      'messages[0].content[0].type',
    ],
  ])('%s names param %s', async (_name, patch, param) => {
    const error = expectError(await postChat(harness, { ...good, ...patch }), 400, {
      type: 'invalid_request_error',
      param,
    });
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('an image part after a text part names the right index', async () => {
    const content = [
      { type: 'text', text: 'look:' },
      { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } },
    ];
    const error = expectError(
      await postChat(harness, {
        ...good,
        messages: [
          { role: 'system', content: 'x' },
          { role: 'user', content },
        ],
      }),
      400,
      {
        type: 'invalid_request_error',
      },
    );
    expect(error.param).toBe('messages[1].content[1].type');
    expect(error.message).toContain('image_url');
  });

  it('n larger than the model has sequences', async () => {
    const error = expectError(await postChat(harness, { ...good, n: storiesModel.sequences + 1 }), 400, {
      type: 'invalid_request_error',
      param: 'n',
    });
    expect(error.message).toContain(String(storiesModel.sequences));
  });

  it('tools on an engine without tool support', async () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    expectError(await postChat(harness, { ...good, tools }), 400, { type: 'invalid_request_error', param: 'tools' });
  });

  it('a stream request with a bad field gets a 400 JSON body, not an event stream', async () => {
    const response = await postChat(harness, { ...good, stream: true, temperature: 'hot' });
    expectError(response, 400, { type: 'invalid_request_error', param: 'temperature' });
    expect(response.text).not.toContain('data:');
  });

  it.each([
    ['n beyond the sequences', { n: storiesModel.sequences + 1 }, 'n'],
    ['tools', { tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
  ])('a stream request the engine refuses (%s) gets a 400 JSON body before any event', async (_name, patch, param) => {
    const response = await postChat(harness, { ...good, ...patch, stream: true });
    expectError(response, 400, { type: 'invalid_request_error', param });
    expect(response.headers.get('content-type')).not.toContain('text/event-stream');
    expect(response.text).not.toContain('data:');
  });

  it('the SDK raises BadRequestError carrying param', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' as unknown as number })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.param).toBe('temperature');
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it('the SDK raises BadRequestError for n beyond the sequences, also when streaming', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], n: 3, stream: true })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
  });
});

describe('404', () => {
  it('an unknown model is model_not_found with param model', async () => {
    const error = expectError(await postChat(harness, { ...good, model: 'no-such-model' }), 404, {
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    });
    expect(error.message).toContain('no-such-model');
  });

  it('an unknown model on a stream is a 404 before any event', async () => {
    const response = await postChat(harness, { ...good, model: 'no-such-model', stream: true });
    expectError(response, 404, { code: 'model_not_found', param: 'model' });
  });

  it('the SDK raises NotFoundError', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('GET /models/{unknown} is model_not_found', async () => {
    const response = await readJson(
      await fetch(`${harness.baseURL}/models/no-such-model`, {
        headers: { authorization: `Bearer ${harness.apiKey}` },
      }),
    );
    expectError(response, 404, { code: 'model_not_found' });
  });

  it.each([
    ['GET', '/nothing-here'],
    ['GET', '/v1/inference/nothing-here'],
    ['POST', '/v1/inference/chat/complete'],
    ['GET', '/v2/chat/completions'],
  ])('%s %s is a JSON 404 with x-request-id', async (method, path) => {
    const response = await readJson(
      await fetch(`${harness.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(good) } : {}),
      }),
    );
    const error = expectError(response, 404, { type: 'invalid_request_error' });
    expect(response.text).not.toMatch(/<html/i);
    expect(error.message).toContain(path);
  });
});

describe('413 body too large', () => {
  it('a body over bodyLimitBytes is 413 invalid_request_error', async () => {
    const body = { ...good, messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
    expectError(await postChat(harness, body), 413, { type: 'invalid_request_error' });
  });

  it('a body just under the limit is served', async () => {
    const filler = 'a '.repeat(400);
    const body = JSON.stringify({ ...good, messages: [{ role: 'user', content: filler }] });
    expect(Buffer.byteLength(body)).toBeLessThan(2048);
    expect((await postChat(harness, body)).status).toBe(200);
  });

  it('the SDK sees a 413 as an APIError with that status', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'y'.repeat(5000) }] })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });
});

describe('after every error above', () => {
  it('the server still answers a good request, plain and streamed', async () => {
    await expectServing();
    const stream = await client.chat.completions.create({
      ...good,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
  });

  it('a good request answers 200 with a completion', async () => {
    const response = await postChat<CompletionJson>(harness, good);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(response.json?.object).toBe('chat.completion');
  });
});

import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/schema.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { fakeEmbedding, FAKE_EMBEDDING_SIZE } from '../fakes/legacy-endpoints.js';
import { expectError, ledgerRow, readJson } from '../helpers/api.js';
import { openApiValidator } from '../helpers/openapi.js';
import { STORIES_TOOLS_MODEL } from '../helpers/paths.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';

/**
 * POST /embeddings with the official SDK's `embeddings.create`: stories260K configured for embeddings
 * (node-llama-cpp's embedding context), a model that is not, and a forwarded upstream.
 */
const MODEL = 'stories260K';
const NOT_CONFIGURED = 'stories-chat-only';
const GATEWAY = 'gw';

let harness: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  const models = [
    { ...storiesModel, embeddings: true },
    { name: NOT_CONFIGURED, engine: 'llama-cpp', path: STORIES_TOOLS_MODEL, sequences: 1, contextSize: 256 },
    { name: GATEWAY, engine: 'openai', deployments: [{ url: upstream.url, model: 'fake-embedder' }] },
  ] as unknown as ModelConfig[];
  harness = await startTestServer({ models });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.close();
  await upstream?.close();
});

const post = (body: unknown, apiKey = harness.apiKey) =>
  fetch(`${harness.baseURL}/embeddings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(readJson);

const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

describe('embedded engine', () => {
  it('float and base64 (the SDK default) decode to the same vectors; the same input twice gives the same vector', async () => {
    const asFloat = await client.embeddings.create({
      model: MODEL,
      input: 'Once upon a time',
      encoding_format: 'float',
    });
    openApiValidator().assertValid('CreateEmbeddingResponse', asFloat);
    const viaBase64 = await client.embeddings.create({ model: MODEL, input: 'Once upon a time' });
    const again = await client.embeddings.create({ model: MODEL, input: 'Once upon a time', encoding_format: 'float' });
    const vector = asFloat.data[0]!.embedding;
    expect(vector).toHaveLength(64);
    expect(norm(vector)).toBeCloseTo(1, 5);
    expect(viaBase64.data[0]!.embedding).toEqual(vector.map((value) => Math.fround(value)));
    expect(again.data[0]!.embedding).toEqual(vector);
    expect(asFloat.usage.prompt_tokens).toBeGreaterThan(0);
    expect(asFloat.usage.total_tokens).toBe(asFloat.usage.prompt_tokens);
    expect(asFloat.model).toBe(MODEL);
  });

  it('the raw base64 is little-endian float32 of the float vector', async () => {
    const raw = (await post({ model: MODEL, input: 'The cat', encoding_format: 'base64' })).json as {
      data: { embedding: string }[];
    };
    const floats = (await post({ model: MODEL, input: 'The cat' })).json as { data: { embedding: number[] }[] };
    const bytes = Buffer.from(raw.data[0]!.embedding, 'base64');
    expect(bytes.length).toBe(64 * 4);
    const decoded = Array.from({ length: 64 }, (_, index) => bytes.readFloatLE(index * 4));
    expect(decoded).toEqual(floats.data[0]!.embedding.map((value) => Math.fround(value)));
  });

  it('batches many inputs: each vector equals the one embedded alone, in input order, usage summed', async () => {
    const inputs = ['Once upon a time', 'The cat sat', 'A big red ball', 'Lily went home'];
    const batch = await client.embeddings.create({ model: MODEL, input: inputs, encoding_format: 'float' });
    expect(batch.data.map((item) => item.index)).toEqual([0, 1, 2, 3]);
    let tokens = 0;
    for (const [index, input] of inputs.entries()) {
      const alone = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
      expect(batch.data[index]!.embedding).toEqual(alone.data[0]!.embedding);
      tokens += alone.usage.prompt_tokens;
    }
    expect(batch.usage.prompt_tokens).toBe(tokens);
    expect(batch.data[0]!.embedding).not.toEqual(batch.data[1]!.embedding);
  });

  it('takes token arrays (one, or several) and refuses tokens outside the vocabulary', async () => {
    const one = await client.embeddings.create({ model: MODEL, input: [1, 100, 200], encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(one.usage.prompt_tokens).toBe(3);
    const many = await client.embeddings.create({
      model: MODEL,
      input: [
        [1, 2],
        [1, 4, 5],
      ],
      encoding_format: 'float',
    });
    expect(many.data).toHaveLength(2);
    // Counted as evaluated: inputs that start with BOS (token 1) get no second one.
    expect(many.usage.prompt_tokens).toBe(5);
    expectError(
      await post({
        model: MODEL,
        input: [
          [1, 2],
          [3, 99999],
        ],
      }),
      400,
      { param: 'input[1]' },
    );
  });

  it('refuses dimensions the model cannot give, a model not configured for embeddings, and bad input, clearly', async () => {
    const dims = expectError(await post({ model: MODEL, input: 'x', dimensions: 32 }), 400, { param: 'dimensions' });
    expect(dims.message).toMatch(/64-dimensional/);
    expect((await post({ model: MODEL, input: 'x', dimensions: 64 })).status).toBe(200);
    const off = expectError(await post({ model: NOT_CONFIGURED, input: 'x' }), 400, { param: 'model' });
    expect(off.message).toMatch(/embeddings: true/);
    expectError(await post({ model: MODEL, input: '' }), 400, { param: 'input' });
    expectError(await post({ model: MODEL, input: [] }), 400, { param: 'input' });
    expectError(await post({ model: MODEL, input: 'x', encoding_format: 'int8' }), 400, { param: 'encoding_format' });
    expectError(await post({ model: MODEL, input: Array.from({ length: 2049 }, () => 'x') }), 400, { param: 'input' });
    expectError(await post({ model: 'nope', input: 'x' }), 404, { code: 'model_not_found' });
    expectError(await post({ model: MODEL, input: 'x' }, 'oruel_not_a_key'), 401, { code: 'invalid_api_key' });
    await expect(client.embeddings.create({ model: MODEL, input: 'x', dimensions: 8 })).rejects.toBeInstanceOf(
      APIError,
    );
  });

  it('writes one ledger row with the prompt tokens, and rate limits apply as to chat', async () => {
    const { data, response } = await client.embeddings
      .create({ model: MODEL, input: ['a', 'b c'], encoding_format: 'float' })
      .withResponse();
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'completed',
      promptTokens: data.usage.prompt_tokens,
      completionTokens: 0,
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
      stream: false,
    });
    const { key } = await harness.server.keyStore.create({ name: 'one-a-minute', rpm: 1 });
    expect((await post({ model: MODEL, input: 'x' }, key)).status).toBe(200);
    expectError(await post({ model: MODEL, input: 'x' }, key), 429, { code: 'rate_limit_exceeded' });
  });
});

describe('forwarded to an upstream /v1/embeddings', () => {
  it('asks for floats, returns them as the client asked (base64 by the SDK default) with the upstream usage', async () => {
    upstream.reset();
    const result = await client.embeddings.create({ model: GATEWAY, input: ['a b', 'c'] });
    expect(result.data.map((item) => item.embedding)).toEqual(
      ['a b', 'c'].map((input) => fakeEmbedding(input, FAKE_EMBEDDING_SIZE).map((value) => Math.fround(value))),
    );
    expect(result.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/embeddings');
    expect(sent.body).toMatchObject({ model: 'fake-embedder', input: ['a b', 'c'], encoding_format: 'float' });
    const shorter = await client.embeddings.create({
      model: GATEWAY,
      input: [[5, 6, 7]],
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(shorter.data[0]!.embedding).toEqual(fakeEmbedding([5, 6, 7], 4));
    expect(upstream.requests[1]!.body).toMatchObject({ dimensions: 4, input: [[5, 6, 7]] });
  });

  it('upstream errors are the contract errors', async () => {
    upstream.reset();
    upstream.failNext({ kind: 'status', status: 400, message: 'input too long (test)' });
    expectError(await post({ model: GATEWAY, input: 'x' }), 400, {
      type: 'invalid_request_error',
      message: 'input too long (test)',
    });
    upstream.failNext({ kind: 'status', status: 500, message: 'exploded (test)' });
    expectError(await post({ model: GATEWAY, input: 'x' }), 502, { code: 'upstream_error' });
  });
});

import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminKeyListSchema,
  adminKeyWithSecretSchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  errorResponseSchema,
  healthSchema,
  modelListSchema,
  modelSchema,
  readySchema,
  usageReportSchema,
} from '../../src/http/openapi/response-schemas.js';
import { ADMIN_TOKEN, startConfiguredServer, type MetricsTestServer } from '../metrics/metrics-server.js';
import { jsonEvents, readRawStream } from '../helpers/sse.js';

const MODEL = 'stories260K';
const MESSAGES = [{ role: 'user', content: 'Once upon a time' }];

type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

let harness: MetricsTestServer;
let document: OpenApiDocument;

beforeAll(async () => {
  harness = await startConfiguredServer({ admin: { token: ADMIN_TOKEN } });
  const response = await fetch(`${harness.baseURL}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  document = (await response.json()) as OpenApiDocument;
});
afterAll(async () => harness?.close());

describe('GET /v1/inference/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator does refuse a broken document (the check is real)', async () => {
    const broken = structuredClone(document) as Record<string, unknown>;
    (broken.paths as Record<string, unknown>)['/healthz'] = { get: { responses: { 200: { content: {} } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('describes chat completions with streaming chunks, models, health and the admin API', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/inference/chat/completions',
        '/v1/inference/models',
        '/v1/inference/models/{model}',
        '/healthz',
        '/readyz',
        '/v1/admin/keys',
        '/v1/admin/keys/{id}',
        '/v1/admin/usage',
      ]),
    );
    const chat = document.paths['/v1/inference/chat/completions']!.post as {
      responses: Record<string, { content: Record<string, unknown> }>;
    };
    expect(Object.keys(chat.responses['200']!.content)).toEqual(['application/json', 'text/event-stream']);
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        'ChatCompletionRequest',
        'ChatCompletionChunk',
        'ChatCompletion',
        'ModelList',
        'ErrorResponse',
      ]),
    );
  });

  it('its request schema is the one the server validates with: same verdicts on the same bodies', async () => {
    const ajv = new Ajv2020({ strict: false });
    // The components as one schema document, so their `#/components/schemas/...` references resolve.
    ajv.addSchema({ $id: 'oruel-openapi', components: document.components });
    const validate = ajv.compile({ $ref: 'oruel-openapi#/components/schemas/ChatCompletionRequest' });
    const bodies = [
      { model: MODEL, messages: MESSAGES, max_tokens: 2 },
      { model: MODEL, messages: MESSAGES, max_tokens: 2, temperature: 5 },
      { model: MODEL, messages: [], max_tokens: 2 },
      { model: MODEL, messages: [{ role: 'robot', content: 'x' }], max_tokens: 2 },
      { model: MODEL, messages: MESSAGES, max_tokens: 2, stop: ['a', 'b', 'c', 'd', 'e'] },
      { model: MODEL, messages: MESSAGES, max_tokens: 2, top_k: 5 },
      { messages: MESSAGES },
    ];
    for (const body of bodies) {
      const response = await fetch(`${harness.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.text();
      expect(validate(body), `${JSON.stringify(body)}: server said ${response.status}`).toBe(response.status === 200);
    }
  });
});

describe('the response schemas the document is generated from match what the server sends', () => {
  const get = async (url: string, token = harness.apiKey) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('models, model, health, readiness and errors', async () => {
    modelListSchema.strict().parse((await get(`${harness.baseURL}/models`)).body);
    modelSchema.strict().parse((await get(`${harness.baseURL}/models/${MODEL}`)).body);
    healthSchema.parse((await get(`${harness.server.url}/healthz`)).body);
    readySchema.parse((await get(`${harness.server.url}/readyz`)).body);
    const missing = await get(`${harness.baseURL}/models/nope`);
    expect(missing.status).toBe(404);
    errorResponseSchema.strict().parse(missing.body);
  });

  it('a chat completion and every chunk of a stream', async () => {
    const init = (stream: boolean): RequestInit => ({
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: MESSAGES, max_tokens: 5, stream }),
    });
    const completion = await fetch(`${harness.baseURL}/chat/completions`, init(false));
    chatCompletionSchema.parse(await completion.json());
    const raw = await readRawStream(`${harness.baseURL}/chat/completions`, init(true));
    const chunks = jsonEvents(raw);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) chatCompletionChunkSchema.parse(chunk);
  });

  it('the admin API', async () => {
    const created = await fetch(`${harness.server.url}/v1/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'doc', rpm: 10, budget: { tokens: 1000, period: 'day' } }),
    });
    expect(created.status).toBe(201);
    adminKeyWithSecretSchema.parse(await created.json());
    adminKeyListSchema.parse((await get(`${harness.server.url}/v1/admin/keys`, ADMIN_TOKEN)).body);
    usageReportSchema.parse((await get(`${harness.server.url}/v1/admin/usage`, ADMIN_TOKEN)).body);
  });
});

describe('GET /v1/inference/models entries', () => {
  it('carry context length, capabilities, engine and status; the openai SDK still parses them', async () => {
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models).toEqual([
      {
        id: MODEL,
        object: 'model',
        created: expect.any(Number),
        owned_by: 'oruel',
        context_length: 512,
        capabilities: { tools: false, json_schema: true },
        engine: 'llama-cpp',
        status: 'loaded',
      },
    ]);
    const one = await client.models.retrieve(MODEL);
    expect(one).toMatchObject({ id: MODEL, context_length: 512, engine: 'llama-cpp', status: 'loaded' });
  });
});

import { z } from 'zod';
import { chatRequestSchema } from '../../validation/index.js';
import { createKeyBodySchema, patchKeyBodySchema } from '../routes/admin-key-body.js';
import { usageQuerySchema } from '../routes/admin-usage.js';
import {
  adminKeyListSchema,
  adminKeySchema,
  adminKeyWithSecretSchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  errorResponseSchema,
  healthSchema,
  modelListSchema,
  modelSchema,
  readySchema,
  usageReportSchema,
} from './response-schemas.js';

type Json = Record<string, unknown>;

/** Request schemas are documented as clients write them (defaults optional), responses as the server writes them. */
const REQUEST_SCHEMAS = {
  ChatCompletionRequest: chatRequestSchema,
  CreateKeyRequest: createKeyBodySchema,
  UpdateKeyRequest: patchKeyBodySchema,
};
const RESPONSE_SCHEMAS = {
  ErrorResponse: errorResponseSchema,
  Model: modelSchema,
  ModelList: modelListSchema,
  ChatCompletion: chatCompletionSchema,
  ChatCompletionChunk: chatCompletionChunkSchema,
  Health: healthSchema,
  Ready: readySchema,
  AdminKey: adminKeySchema,
  AdminKeyWithSecret: adminKeyWithSecretSchema,
  AdminKeyList: adminKeyListSchema,
  UsageReport: usageReportSchema,
};

/** The OpenAPI 3.1 description of Oru-el's own API, generated from the zod schemas the server validates with. */
export function buildOpenApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Oru-el API',
      version,
      description:
        'OpenAI-compatible chat completions (streamed over SSE or whole), models, health, and the admin API. ' +
        'Send `Authorization: Bearer oruel_...` to /v1/inference and `Authorization: Bearer ADMIN_TOKEN` to /v1/admin.',
    },
    servers: [{ url: '/' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      schemas: { ...componentSchemas(REQUEST_SCHEMAS, 'input'), ...componentSchemas(RESPONSE_SCHEMAS, 'output') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An Oru-el API key (oruel_...).' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ORUEL_ADMIN_TOKEN.' },
      },
    },
    paths: {
      '/v1/inference/chat/completions': { post: chatOperation() },
      '/v1/inference/models': {
        get: operation(
          'listModels',
          'Models this key may use',
          'apiKey',
          { 200: json('ModelList', 'The models.') },
          [401],
        ),
      },
      '/v1/inference/models/{model}': {
        get: {
          ...operation('getModel', 'One model', 'apiKey', { 200: json('Model', 'The model.') }, [401, 404]),
          parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
        },
      },
      '/healthz': {
        get: operation('health', 'Liveness: the process answers', null, { 200: json('Health', 'Alive.') }, []),
      },
      '/readyz': {
        get: operation(
          'ready',
          'Readiness: every model is loaded',
          null,
          { 200: json('Ready', 'Ready.'), 503: json('Ready', 'A model is still loading.') },
          [],
        ),
      },
      '/metrics': {
        get: operation(
          'metrics',
          'Prometheus metrics (text format)',
          null,
          {
            200: {
              description: 'Prometheus text exposition.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
          [],
        ),
      },
      '/v1/admin/keys': {
        get: operation(
          'listKeys',
          'List API keys',
          'adminToken',
          { 200: json('AdminKeyList', 'Every key (never a hash or a key).') },
          [401, 404],
        ),
        post: {
          ...operation(
            'createKey',
            'Create an API key',
            'adminToken',
            { 201: json('AdminKeyWithSecret', 'The key, shown this once.') },
            [400, 401, 404],
          ),
          requestBody: body('CreateKeyRequest'),
        },
      },
      '/v1/admin/keys/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: operation('getKey', 'One API key', 'adminToken', { 200: json('AdminKey', 'The key.') }, [401, 404]),
        patch: {
          ...operation(
            'updateKey',
            'Change a key (absent = unchanged, null = cleared)',
            'adminToken',
            { 200: json('AdminKey', 'The key.') },
            [400, 401, 404, 409],
          ),
          requestBody: body('UpdateKeyRequest'),
        },
        delete: operation(
          'revokeKey',
          'Revoke a key',
          'adminToken',
          { 200: json('AdminKey', 'The revoked key.') },
          [401, 404],
        ),
      },
      '/v1/admin/keys/{id}/rotate': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        post: operation(
          'rotateKey',
          'Replace the secret of a key',
          'adminToken',
          { 200: json('AdminKeyWithSecret', 'The key, with its new secret.') },
          [401, 404, 409],
        ),
      },
      '/v1/admin/usage': {
        get: {
          ...operation(
            'usage',
            'Requests and tokens per key and model',
            'adminToken',
            {
              200: {
                description: 'The report.',
                content: {
                  'application/json': { schema: ref('UsageReport') },
                  'text/csv': { schema: { type: 'string' } },
                  'text/plain': { schema: { type: 'string' } },
                },
              },
            },
            [400, 401, 404],
          ),
          parameters: queryParameters(usageQuerySchema),
        },
      },
    },
  };
}

function chatOperation(): Json {
  return {
    ...operation(
      'createChatCompletion',
      'Create a chat completion',
      'apiKey',
      {
        200: {
          description:
            'A chat.completion, or with `stream: true` a text/event-stream of `data: <ChatCompletionChunk>` events ending with `data: [DONE]` ' +
            '(or with one error event, a chunk carrying `error`, and no [DONE]).',
          content: {
            'application/json': { schema: ref('ChatCompletion') },
            'text/event-stream': { schema: ref('ChatCompletionChunk') },
          },
        },
      },
      [400, 401, 404, 413, 429, 500, 502, 503, 504],
    ),
    requestBody: body('ChatCompletionRequest'),
  };
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (param names the field).',
  401: 'Missing or invalid credentials.',
  404: 'Not found (or the admin API is disabled).',
  409: 'The key is revoked.',
  413: 'Body too large.',
  429: 'A key limit was reached (Retry-After says when to retry).',
  500: 'Server error.',
  502: 'The upstream engine failed.',
  503: 'A model is loading or busy (Retry-After).',
  504: 'The upstream engine timed out.',
};

function operation(
  operationId: string,
  summary: string,
  security: 'apiKey' | 'adminToken' | null,
  responses: Record<number, Json>,
  errors: number[],
): Json {
  const all: Record<string, Json> = {};
  for (const [status, response] of Object.entries(responses)) all[status] = response;
  for (const status of errors) all[String(status)] = json('ErrorResponse', ERROR_DESCRIPTIONS[status] ?? 'Error.');
  return {
    operationId,
    summary,
    ...(security ? { security: [{ [security]: [] }] } : { security: [] }),
    responses: all,
  };
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

function json(schema: string, description: string): Json {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

function body(schema: string): Json {
  return { required: true, content: { 'application/json': { schema: ref(schema) } } };
}

/** Each zod schema as a JSON Schema 2020-12 component; schemas nested in others are referenced, not copied. */
function componentSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const result: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
    result[id] = rest;
  }
  return result;
}

/** A zod object of query fields -> OpenAPI query parameters. */
function queryParameters(schema: z.ZodObject): Json[] {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: converted.required?.includes(name) ?? false,
    schema: property,
  }));
}

import { z } from 'zod';
import type { WireChunk, WireCompletion } from '../../assembly/index.js';
import { BUDGET_PERIODS } from '../../auth/index.js';
import type { UsageTotalsRow } from '../../usage/index.js';
import type { KeyView } from '../routes/admin-key-view.js';
import type { WireModel } from '../routes/models.js';

/**
 * What Oru-el answers, as zod schemas: the OpenAPI document is generated from these and from the
 * request schemas the server validates with. The `satisfies` checks at the bottom make the
 * compiler refuse a wire type that drifts from its schema; the contract tests parse real responses.
 */

const wireErrorSchema = z.object({
  message: z.string(),
  type: z.string(),
  param: z.string().nullable(),
  code: z.string().nullable(),
});
export const errorResponseSchema = z.object({ error: wireErrorSchema });

export const modelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int().describe('Unix seconds.'),
  owned_by: z.string(),
  context_length: z.number().int().nullable().describe('Tokens of context per request, null when not known yet.'),
  capabilities: z.object({ tools: z.boolean(), json_schema: z.boolean() }),
  engine: z
    .enum(['llama-cpp', 'openai'])
    .describe('Embedded llama.cpp, or forwarded to OpenAI-compatible deployments.'),
  status: z.enum(['loaded', 'loading']),
});
export const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelSchema) });

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});
const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        refusal: z.null(),
        tool_calls: z.array(toolCallSchema).optional(),
      }),
      logprobs: z.null(),
      finish_reason: z.string().describe('stop, length or tool_calls.'),
    }),
  ),
  usage: usageSchema,
});

export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().optional(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({
        role: z.literal('assistant').optional(),
        content: z.string().nullable().optional(),
        tool_calls: z
          .array(
            z.object({
              index: z.number().int(),
              id: z.string().optional(),
              type: z.literal('function').optional(),
              function: z.object({ name: z.string().optional(), arguments: z.string() }),
            }),
          )
          .optional(),
      }),
      logprobs: z.null().optional(),
      finish_reason: z.string().nullable().describe('stop, length, tool_calls; "error" on the error event.'),
    }),
  ),
  usage: usageSchema.optional().describe('On the final chunk (or a separate one with stream_options.include_usage).'),
  error: wireErrorSchema.optional().describe('Only on the error event that ends a failed stream (no [DONE] follows).'),
});

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({ status: z.enum(['ready', 'loading']) });

const budgetSchema = z.object({ tokens: z.number(), period: z.enum(BUDGET_PERIODS) });
export const adminKeySchema = z.object({
  object: z.literal('api_key'),
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  models: z.array(z.string()).nullable(),
  rpm: z.number().nullable(),
  tpm: z.number().nullable(),
  maxConcurrent: z.number().nullable(),
  budget: budgetSchema.nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string().nullable(),
});
export const adminKeyWithSecretSchema = adminKeySchema.extend({
  key: z.string().describe('The key itself: shown at creation and rotation only.'),
});
export const adminKeyListSchema = z.object({ object: z.literal('list'), data: z.array(adminKeySchema) });

export const usageReportSchema = z.object({
  object: z.literal('usage_report'),
  keyId: z.string().nullable(),
  model: z.string().nullable(),
  since: z.string().nullable(),
  until: z.string().nullable(),
  data: z.array(
    z.object({
      keyId: z.string().nullable(),
      model: z.string(),
      requests: z.number().int(),
      promptTokens: z.number().int(),
      completionTokens: z.number().int(),
      totalTokens: z.number().int(),
      completed: z.number().int(),
      cancelled: z.number().int(),
      errors: z.number().int(),
    }),
  ),
});

// Compile-time: each wire type the server builds is a value of its schema (never referenced, hence the _).
type Fits<Schema extends z.ZodType, Wire extends z.output<Schema>> = Wire;
type _CheckedWireTypes = [
  Fits<typeof modelSchema, WireModel>,
  Fits<typeof chatCompletionSchema, WireCompletion>,
  Fits<typeof chatCompletionChunkSchema, WireChunk>,
  Fits<typeof adminKeySchema, KeyView>,
  Fits<typeof usageReportSchema.shape.data.element, UsageTotalsRow>,
];

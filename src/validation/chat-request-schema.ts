import { z } from 'zod';
import { REQUEST_LIMITS as LIMITS } from './request-limits.js';

/**
 * The wire shape of POST /chat/completions. Known fields are checked; unknown ones pass through
 * (OpenAI clients send new fields all the time, and forwarding engines may want them).
 */
const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const contentParts = z.array(z.looseObject({ type: z.string() })).min(1);
const content = z.union([z.string(), contentParts]);

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('user'), content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal('assistant'),
    content: content.nullish(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).nullish(),
    refusal: z.string().nullish(),
  }),
  z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string().min(1) }),
]);

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, underscores and dashes'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const stopSequence = z.string().max(LIMITS.maxStopLength);
const stop = z
  .union([
    stopSequence,
    z.array(stopSequence).max(LIMITS.maxStopSequences, `at most ${LIMITS.maxStopSequences} stop sequences are allowed`),
  ])
  .nullish();

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1).max(LIMITS.maxModelNameLength),
  messages: z.array(message).min(1, 'must contain at least one message').max(LIMITS.maxMessages),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  n: z.number().int().min(1).max(LIMITS.maxChoices).nullish(),
  tools: z.array(tool).max(LIMITS.maxTools).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  user: z.string().nullish(),
});

export type WireChatRequest = z.infer<typeof chatRequestSchema>;
export { textPart };

import { z } from 'zod';
import type { EmbeddingRequest } from '../engines/index.js';
import { GatewayError } from '../errors/index.js';
import { toValidationError } from './parse-chat-request.js';
import { checkEmbeddingBounds } from './request-bounds.js';
import { REQUEST_LIMITS as LIMITS } from './request-limits.js';

/** OpenAI's own bounds: 2048 inputs per request, 8192 tokens per token-array input. */
const MAX_EMBEDDING_INPUTS = LIMITS.maxEmbeddingInputs;
const MAX_INPUT_TOKENS = LIMITS.maxEmbeddingInputTokens;

const tokenArray = z
  .array(
    z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
  )
  .min(1, 'a token array must not be empty')
  .max(MAX_INPUT_TOKENS, `at most ${MAX_INPUT_TOKENS} tokens per input`);

const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1).max(LIMITS.maxModelNameLength),
  input: z.union([
    z.string(),
    z
      .array(z.string())
      .min(1, 'must contain at least one input')
      .max(MAX_EMBEDDING_INPUTS, `at most ${MAX_EMBEDDING_INPUTS} inputs are allowed`),
    tokenArray,
    z
      .array(tokenArray)
      .min(1, 'must contain at least one input')
      .max(MAX_EMBEDDING_INPUTS, `at most ${MAX_EMBEDDING_INPUTS} inputs are allowed`),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
});

const KNOWN_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

export interface ParsedEmbedding {
  request: EmbeddingRequest;
  encoding: 'float' | 'base64';
}

export function parseEmbeddingRequest(body: unknown): ParsedEmbedding {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  checkEmbeddingBounds(body as Record<string, unknown>);
  const parsed = embeddingRequestSchema.safeParse(body);
  if (!parsed.success) throw toValidationError(parsed.error);
  const wire = parsed.data;
  const extraBody: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (!KNOWN_FIELDS.has(key)) extraBody[key] = value;
  return {
    encoding: wire.encoding_format ?? 'float',
    request: {
      model: wire.model,
      input: toInputs(wire.input),
      dimensions: wire.dimensions ?? null,
      user: wire.user ?? null,
      extraBody,
    },
  };
}

/** One string, strings, one token array, or token arrays -> a list of one kind. */
function toInputs(input: string | string[] | number[] | number[][]): string[] | number[][] {
  if (input === '')
    throw new GatewayError('invalid_request', 'The input must not be an empty string.', { param: 'input' });
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  const inputs = input as string[] | number[][];
  if (inputs.some((item) => item === '')) {
    throw new GatewayError('invalid_request', 'An input must not be an empty string.', { param: 'input' });
  }
  return inputs;
}

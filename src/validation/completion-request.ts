import { z } from 'zod';
import type { TextCompletionRequest } from '../engines/index.js';
import { GatewayError } from '../errors/index.js';
import { toValidationError } from './parse-chat-request.js';
import { checkCompletionBounds } from './request-bounds.js';
import { REQUEST_LIMITS as LIMITS } from './request-limits.js';

/** Prompts per request, and choices (prompts x n) per request: the same ceiling as chat's `n`. */
const MAX_PROMPTS = LIMITS.maxPrompts;
const MAX_CHOICES = LIMITS.maxChoices;

const stopSequence = z.string().max(LIMITS.maxStopLength);
const stop = z
  .union([
    stopSequence,
    z.array(stopSequence).max(LIMITS.maxStopSequences, `at most ${LIMITS.maxStopSequences} stop sequences are allowed`),
  ])
  .nullish();

/** POST /completions on the wire. Known fields are checked; unknown ones pass through to upstreams. */
const completionRequestSchema = z.looseObject({
  model: z.string().min(1).max(LIMITS.maxModelNameLength),
  prompt: z.union([
    z.string(),
    z
      .array(z.unknown())
      .min(1, 'must contain at least one prompt')
      .max(MAX_PROMPTS, `at most ${MAX_PROMPTS} prompts are allowed`),
  ]),
  suffix: z.string().nullish(),
  echo: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().min(0).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  n: z.number().int().min(1).max(MAX_CHOICES).nullish(),
  best_of: z.number().int().min(1).nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  user: z.string().nullish(),
});

const KNOWN_FIELDS = new Set([
  'model',
  'prompt',
  'suffix',
  'echo',
  'stream',
  'stream_options',
  'max_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'best_of',
  'logprobs',
  'user',
]);

/** OpenAI's default for legacy completions (vLLM and llama-server use it too), not "the rest of the context". */
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

export interface ParsedCompletion {
  request: TextCompletionRequest;
  /** Prefix each choice with its prompt (`echo: true`). */
  echo: boolean;
}

/** Wire JSON -> TextCompletionRequest, or a 400 whose `param` names the field at fault. */
export function parseCompletionRequest(body: unknown): ParsedCompletion {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  checkCompletionBounds(body as Record<string, unknown>);
  const parsed = completionRequestSchema.safeParse(body);
  if (!parsed.success) throw toValidationError(parsed.error);
  const wire = parsed.data;
  const prompts = toPrompts(wire.prompt);
  const n = wire.n ?? 1;
  if (prompts.length * n > MAX_CHOICES) {
    throw new GatewayError(
      'invalid_request',
      `prompts x n must be at most ${MAX_CHOICES} (got ${prompts.length} x ${n}).`,
      { param: 'n' },
    );
  }
  if ((wire.best_of ?? 1) !== 1 && wire.best_of !== n) {
    throw new GatewayError('invalid_request', 'best_of is not supported (only best_of equal to n, or absent).', {
      param: 'best_of',
    });
  }
  if (wire.logprobs !== null && wire.logprobs !== undefined) {
    throw new GatewayError('invalid_request', 'logprobs is not supported on /completions.', { param: 'logprobs' });
  }
  const extraBody: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (!KNOWN_FIELDS.has(key)) extraBody[key] = value;
  return {
    echo: wire.echo ?? false,
    request: {
      model: wire.model,
      prompts,
      suffix: wire.suffix ?? null,
      stream: wire.stream ?? false,
      ...(typeof wire.stream_options?.include_usage === 'boolean'
        ? { includeUsage: wire.stream_options.include_usage }
        : {}),
      maxTokens: wire.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
      temperature: wire.temperature ?? null,
      topP: wire.top_p ?? null,
      seed: wire.seed ?? null,
      stop:
        typeof wire.stop === 'string'
          ? wire.stop === ''
            ? []
            : [wire.stop]
          : (wire.stop ?? []).filter((text) => text !== ''),
      presencePenalty: wire.presence_penalty ?? null,
      frequencyPenalty: wire.frequency_penalty ?? null,
      n,
      user: wire.user ?? null,
      extraBody,
    },
  };
}

/** A string or an array of strings; token-array prompts are refused by name rather than misread. */
function toPrompts(prompt: string | unknown[]): string[] {
  if (typeof prompt === 'string') return [prompt];
  return prompt.map((item, index) => {
    if (typeof item === 'string') return item;
    throw new GatewayError(
      'invalid_request',
      'Token-array prompts are not supported on /completions; send the prompt as text.',
      { param: `prompt[${index}]` },
    );
  });
}

import type { ChatRequest, TextCompletionRequest } from '../engine.js';
import type { JsonRecord } from './json-value.js';
import type { WireRequestOptions } from './wire-request.js';

/**
 * TextCompletionRequest -> the upstream's /completions body. As for chat, defaults are left out and
 * vendor fields pass through; `echo` is never sent (the gateway prefixes the prompt itself, the same for
 * every engine), and usage is asked for on streams.
 */
export function toTextCompletionWireBody(
  request: TextCompletionRequest,
  options: Pick<WireRequestOptions, 'upstreamModel'>,
): string {
  const prompt = request.prompts.length === 1 ? request.prompts[0] : request.prompts;
  const body: Record<string, unknown> = {
    ...request.extraBody,
    model: options.upstreamModel,
    prompt,
    stream: request.stream,
  };
  if (request.stream) body.stream_options = { include_usage: true };
  if (request.suffix !== null) body.suffix = request.suffix;
  if (request.maxTokens !== null) body.max_tokens = request.maxTokens;
  if (request.temperature !== null) body.temperature = request.temperature;
  if (request.topP !== null) body.top_p = request.topP;
  if (request.seed !== null) body.seed = request.seed;
  if (request.stop.length > 0) body.stop = request.stop;
  if (request.presencePenalty !== null) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== null) body.frequency_penalty = request.frequencyPenalty;
  if (request.n !== 1) body.n = request.n;
  if (request.user !== null) body.user = request.user;
  return JSON.stringify(body);
}

/**
 * The chat-shaped view of a text completion the exchange reads: choice count, streaming, and the prompts
 * as user messages for counting tokens when the upstream reports no usage.
 */
export function asChatView(request: TextCompletionRequest): ChatRequest {
  return {
    model: request.model,
    messages: request.prompts.map((content) => ({ role: 'user', content })),
    stream: request.stream,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    seed: request.seed,
    stop: request.stop,
    presencePenalty: request.presencePenalty,
    frequencyPenalty: request.frequencyPenalty,
    n: request.n * request.prompts.length,
    tools: [],
    toolChoice: { type: 'none' },
    parallelToolCalls: false,
    responseFormat: { type: 'text' },
    user: request.user,
    extraBody: {},
  };
}

/** A text_completion chunk (or response) read as a chat chunk: `choices[].text` becomes `delta.content`. */
export function textChunkAsChat(chunk: JsonRecord, messageKey: 'delta' | 'message'): JsonRecord {
  if (!Array.isArray(chunk.choices)) return chunk;
  const choices = chunk.choices.map((choice: unknown) => {
    if (typeof choice !== 'object' || choice === null) return choice;
    const { text, ...rest } = choice as JsonRecord;
    return { ...rest, [messageKey]: { content: typeof text === 'string' ? text : null } };
  });
  return { ...chunk, choices };
}

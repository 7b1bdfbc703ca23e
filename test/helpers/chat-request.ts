import type { ChatRequest } from '../../src/engines/engine.js';

/** A ChatRequest as validation would build it from a minimal body, with the given fields replaced. */
export function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'test-model',
    messages: [{ role: 'user', content: 'Once upon a time' }],
    stream: true,
    maxTokens: null,
    temperature: null,
    topP: null,
    seed: null,
    stop: [],
    presencePenalty: null,
    frequencyPenalty: null,
    n: 1,
    tools: [],
    toolChoice: { type: 'none' },
    parallelToolCalls: true,
    responseFormat: { type: 'text' },
    user: null,
    extraBody: {},
    ...overrides,
  };
}

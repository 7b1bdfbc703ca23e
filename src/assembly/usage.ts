import type { Usage } from '../engines/index.js';
import type { WireUsage } from './wire-types.js';

export function toWireUsage(usage: Usage): WireUsage {
  const wire: WireUsage = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  // OpenAI's field for prompt caching: how many of prompt_tokens were reused, not evaluated again.
  if (usage.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens };
  return wire;
}

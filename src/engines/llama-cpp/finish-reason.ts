import type { FinishReason } from '../engine.js';

/** node-llama-cpp's stop reasons in the contract's vocabulary. */
export type LlamaStopReason =
  'eogToken' | 'stopGenerationTrigger' | 'functionCalls' | 'maxTokens' | 'abort' | 'customStopTrigger';

export function toFinishReason(stopReason: LlamaStopReason): FinishReason {
  switch (stopReason) {
    case 'maxTokens':
      return 'length';
    case 'functionCalls':
      return 'tool_calls';
    case 'eogToken':
    case 'stopGenerationTrigger':
    case 'customStopTrigger':
    case 'abort':
      return 'stop';
  }
}

import { randomInt } from 'node:crypto';
import type { LLamaContextualRepeatPenalty } from 'node-llama-cpp';
import type { ChatRequest } from '../engine.js';

/** What sampling reads of a request (chat and text completions share it). */
export type SamplingFields = Pick<
  ChatRequest,
  'temperature' | 'topP' | 'seed' | 'presencePenalty' | 'frequencyPenalty'
>;

export interface SamplingOptions {
  temperature: number;
  topP: number;
  seed: number;
  repeatPenalty: false | LLamaContextualRepeatPenalty;
}

/**
 * OpenAI's defaults (temperature 1, top_p 1, no penalties) rather than node-llama-cpp's greedy default,
 * so the same request means the same thing here as on any OpenAI-compatible server.
 * Each of `n` choices gets its own seed, or they would all be the same text.
 */
export function samplingFor(request: SamplingFields, choice: number): SamplingOptions {
  const baseSeed = request.seed ?? randomInt(0, 2 ** 31);
  return {
    temperature: request.temperature ?? 1,
    topP: request.topP ?? 1,
    seed: (baseSeed + choice) >>> 0,
    repeatPenalty: repeatPenaltyFor(request),
  };
}

function repeatPenaltyFor(request: SamplingFields): false | LLamaContextualRepeatPenalty {
  const presencePenalty = request.presencePenalty ?? 0;
  const frequencyPenalty = request.frequencyPenalty ?? 0;
  if (presencePenalty === 0 && frequencyPenalty === 0) return false;
  // penalty 1 disables llama.cpp's multiplicative repeat penalty: only OpenAI's additive penalties apply.
  return { penalty: 1, presencePenalty, frequencyPenalty, lastTokens: 64, penalizeNewLine: false };
}

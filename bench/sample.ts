/** One generation, timed the same way on both sides (milliseconds from the call or request send). */
export interface GenerationSample {
  /** Direct: the sequence's token meter (as the engine counts); server: `usage.completion_tokens`. */
  completionTokens: number;
  /** Direct: node-llama-cpp's stopReason; server: the choice's finish_reason. */
  finishReason: string;
  /** Until the first non-empty text. */
  ttftMs: number;
  /** Until the generation resolved (direct) or the response body ended (server). */
  totalMs: number;
  /** From the first to the last non-empty text. */
  decodeMs: number;
}

/** End-to-end rate: tokens over the whole call, first-token latency included. */
export const tokensPerSecond = (sample: GenerationSample): number => (sample.completionTokens * 1000) / sample.totalMs;

/** Steady-state rate: the tokens after the first, over the time between first and last text. */
export const decodeTokensPerSecond = (sample: GenerationSample): number =>
  sample.decodeMs > 0 ? ((sample.completionTokens - 1) * 1000) / sample.decodeMs : Number.NaN;

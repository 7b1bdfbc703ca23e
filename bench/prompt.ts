import type { DirectGenerator } from './direct.js';
import type { GenerationSample } from './sample.js';

/**
 * Prompts tried in order; the first whose greedy completion runs to max tokens (no EOS, no stop
 * trigger of the chat wrapper before N tokens) is used on both sides. The server offers no logit_bias,
 * so a prompt that does not stop is the only stop prevention that works the same on both sides.
 */
export const CANDIDATE_PROMPTS = [
  'Once upon a time',
  'Tell me a story.',
  'Hello',
  'Lily and Tom went to the park.',
  'The little dog',
  'Write a long story about a cat and a dog who become friends.',
] as const;

export interface ChosenPrompt {
  prompt: string;
  /** The direct generation that qualified it (it also warmed the direct side up). */
  sample: GenerationSample;
}

export async function choosePrompt(direct: DirectGenerator, tokens: number): Promise<ChosenPrompt> {
  const tried: string[] = [];
  for (const prompt of CANDIDATE_PROMPTS) {
    const sample = await direct.generate(prompt, tokens);
    if (sample.completionTokens === tokens && sample.finishReason === 'maxTokens') return { prompt, sample };
    tried.push(`${JSON.stringify(prompt)}: ${sample.completionTokens} tokens (${sample.finishReason})`);
  }
  throw new Error(
    `No candidate prompt generates ${tokens} tokens at temperature 0 with this model; try fewer --tokens.\n  ${tried.join('\n  ')}`,
  );
}

/**
 * A synthetic OpenAI-dialect response made of precomputed bytes, for benchmarks: the fake must cost
 * as little as possible so that what is measured is the gateway. `tokens` content chunks of one word
 * each, then the finish chunk, OpenAI's `choices: []` usage chunk (when asked) and `[DONE]`.
 */
export interface SyntheticResponse {
  role: Buffer;
  tokens: Buffer[];
  /** Finish chunk + usage chunk + [DONE], or finish + [DONE] without usage. */
  endWithUsage: Buffer;
  endWithoutUsage: Buffer;
  /** The whole stream in one buffer (an instant upstream). */
  wholeWithUsage: Buffer;
  wholeWithoutUsage: Buffer;
  completion: Buffer;
}

const SYNTHETIC_PROMPT_TOKENS = 12;

export function syntheticResponse(tokenCount: number, model = 'bench-upstream'): SyntheticResponse {
  const head = {
    id: 'chatcmpl-synthetic0000000000000000000',
    object: 'chat.completion.chunk',
    created: 1757601341,
    model,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const words = Array.from({ length: tokenCount }, (_, index) => (index === 0 ? 'Lorem' : ` w${index}`));
  const usage = {
    prompt_tokens: SYNTHETIC_PROMPT_TOKENS,
    completion_tokens: tokenCount,
    total_tokens: SYNTHETIC_PROMPT_TOKENS + tokenCount,
  };
  const role = chunk({ role: 'assistant', content: '' }, null);
  const tokens = words.map((word) => chunk({ content: word }, null));
  const finish = chunk({}, 'stop');
  const usageChunk = `data: ${JSON.stringify({ ...head, choices: [], usage })}\n\n`;
  const done = 'data: [DONE]\n\n';
  const completion = {
    ...head,
    object: 'chat.completion',
    choices: [
      { index: 0, message: { role: 'assistant', content: words.join('') }, logprobs: null, finish_reason: 'stop' },
    ],
    usage,
  };
  return {
    role: Buffer.from(role),
    tokens: tokens.map((token) => Buffer.from(token)),
    endWithUsage: Buffer.from(finish + usageChunk + done),
    endWithoutUsage: Buffer.from(finish + done),
    wholeWithUsage: Buffer.from(role + tokens.join('') + finish + usageChunk + done),
    wholeWithoutUsage: Buffer.from(role + tokens.join('') + finish + done),
    completion: Buffer.from(JSON.stringify(completion)),
  };
}

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChatRequest } from '../engine.js';

/**
 * Counts tokens when an upstream reports no usage (older Ollama, some proxies) or died before it could.
 *
 * The encoding is o200k_base (GPT-4o, GPT-4.1, o-series, gpt-oss): it is exact for today's OpenAI
 * models, and for open models (Llama 3's 128k, Qwen's 151k vocabularies) it is closer than cl100k,
 * whose smaller vocabulary over-counts non-English text and code. For any other tokenizer it is an
 * estimate, which is why such rows are marked `counted`. Message framing follows OpenAI's published
 * rule: 3 tokens per message and 3 to prime the reply.
 *
 * The encoding (about 60 MB of ranks, 0.5 s to load) is imported on first use only: a gateway whose
 * upstreams report usage never pays for it.
 */
type CountTokens = (text: string) => number;

const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/**
 * Counting is pure JavaScript: a multi-megabyte prompt counted at once blocked the event loop for
 * seconds. Longer texts are counted in slices of about this many characters, cut at a space where
 * one is near (a cut elsewhere may add a token: this count is an estimate anyway), yielding between.
 */
const SLICE_CHARACTERS = 16_384;

export class TokenCounter {
  private loading: Promise<CountTokens> | null = null;

  async countPrompt(request: ChatRequest): Promise<number> {
    const count = await this.load();
    let total = REPLY_PRIMING;
    for (const message of request.messages) {
      total += TOKENS_PER_MESSAGE + count(message.role);
      if (message.content) total += await countInSlices(count, message.content);
      if (message.role === 'assistant')
        for (const call of message.toolCalls) total += count(call.name) + (await countInSlices(count, call.arguments));
    }
    if (request.tools.length > 0) total += await countInSlices(count, JSON.stringify(request.tools));
    return total;
  }

  async countCompletion(text: string): Promise<number> {
    if (text === '') return 0;
    return countInSlices(await this.load(), text);
  }

  private load(): Promise<CountTokens> {
    this.loading ??= import('gpt-tokenizer/encoding/o200k_base').then(
      (encoding) => (text: string) => encoding.countTokens(text),
    );
    return this.loading;
  }
}

async function countInSlices(count: CountTokens, text: string): Promise<number> {
  if (text.length <= SLICE_CHARACTERS) return count(text);
  let total = 0;
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + SLICE_CHARACTERS);
    const space = end < text.length ? text.lastIndexOf(' ', end) : -1;
    if (space > start + SLICE_CHARACTERS / 2) end = space;
    total += count(text.slice(start, end));
    start = end;
    await nextTurn();
  }
  return total;
}

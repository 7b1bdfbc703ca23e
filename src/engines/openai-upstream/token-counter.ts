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

export class TokenCounter {
  private loading: Promise<CountTokens> | null = null;

  async countPrompt(request: ChatRequest): Promise<number> {
    const count = await this.load();
    let total = REPLY_PRIMING;
    for (const message of request.messages) {
      total += TOKENS_PER_MESSAGE + count(message.role);
      if (message.content) total += count(message.content);
      if (message.role === 'assistant') for (const call of message.toolCalls) total += count(call.name) + count(call.arguments);
    }
    if (request.tools.length > 0) total += count(JSON.stringify(request.tools));
    return total;
  }

  async countCompletion(text: string): Promise<number> {
    if (text === '') return 0;
    return (await this.load())(text);
  }

  private load(): Promise<CountTokens> {
    this.loading ??= import('gpt-tokenizer/encoding/o200k_base').then((encoding) => (text: string) => encoding.countTokens(text));
    return this.loading;
  }
}

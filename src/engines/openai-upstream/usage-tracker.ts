import type { ChatRequest, Usage } from '../engine.js';
import { asCount, asRecord } from './json-value.js';
import type { TokenCounter } from './token-counter.js';

/**
 * The usage of one upstream request. The last report wins: OpenAI and Ollama send one in a separate
 * `choices: []` chunk, llama-server on the final chunk, vLLM with continuous_usage_stats on every
 * chunk (cumulative, so the last is the total). Without any report, the prompt and the text
 * produced so far are counted.
 */
export class UsageTracker {
  private reported: { promptTokens: number; completionTokens: number; cachedTokens?: number } | null = null;
  /** Everything generated (text and tool arguments), kept only to count it if no report comes. */
  private generated = '';

  constructor(
    private readonly request: ChatRequest,
    private readonly counter: TokenCounter,
  ) {}

  /** A chunk's `usage` field, whatever it holds (null, absent, partial). */
  observe(value: unknown): void {
    const usage = asRecord(value);
    if (!usage) return;
    const promptTokens = asCount(usage.prompt_tokens);
    const completionTokens = asCount(usage.completion_tokens);
    if (promptTokens === null && completionTokens === null) return;
    // vLLM (prefix caching), SGLang and OpenAI say how much of the prompt they reused.
    const cachedTokens = asCount(asRecord(usage.prompt_tokens_details)?.cached_tokens);
    this.reported = {
      promptTokens: promptTokens ?? 0,
      completionTokens: completionTokens ?? 0,
      ...(cachedTokens === null ? {} : { cachedTokens }),
    };
  }

  addGenerated(text: string): void {
    if (this.reported === null) this.generated += text;
  }

  /** The reported usage, synchronously; null when it must be counted. */
  get reportedUsage(): Usage | null {
    return this.reported ? { ...this.reported, source: 'engine' } : null;
  }

  async countedUsage(): Promise<Usage> {
    const [promptTokens, completionTokens] = await Promise.all([
      this.counter.countPrompt(this.request),
      this.counter.countCompletion(this.generated),
    ]);
    return { promptTokens, completionTokens, source: 'counted' };
  }
}

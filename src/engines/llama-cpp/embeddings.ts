import type { LlamaEmbeddingContext, LlamaModel, Token } from 'node-llama-cpp';
import type { EmbeddingRequest, EmbeddingResult } from '../engine.js';
import { EngineError } from '../engine-error.js';

/**
 * Embeddings on an embedded model: one embedding context, created on the first request (a model that is
 * never asked for embeddings pays nothing), inputs evaluated one after another (node-llama-cpp
 * serializes them on the context anyway; the event loop stays free between them).
 * Vectors are L2-normalized, as OpenAI's and llama-server's are, so a dot product is the cosine.
 */
export class EmbeddingRunner {
  private context: Promise<LlamaEmbeddingContext> | null = null;
  private readonly vocabularySize: number | null;

  constructor(
    private readonly model: LlamaModel,
    private readonly options: { name: string; contextSize: number; threads: number },
  ) {
    const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } }).tokenizer
      ?.ggml?.tokens;
    this.vocabularySize = Array.isArray(tokens) ? tokens.length : null;
  }

  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    const size = this.model.embeddingVectorSize;
    if (request.dimensions !== null && request.dimensions !== size) {
      throw new EngineError(
        'invalid_request',
        `Model "${this.options.name}" produces ${size}-dimensional embeddings and cannot shorten them; omit "dimensions" or send ${size}.`,
        {
          param: 'dimensions',
        },
      );
    }
    const inputs = request.input.map((input, index) => this.toModelInput(input, index));
    const context = await this.embeddingContext();
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (const [index, input] of inputs.entries()) {
      if (signal.aborted) throw signal.reason;
      const length = context.calculateInputLength(input);
      if (length >= this.options.contextSize) {
        throw new EngineError(
          'context_length_exceeded',
          `Input ${index} takes ${length} tokens; model "${this.options.name}" embeds at most ${this.options.contextSize - 1}.`,
          {
            param: 'input',
          },
        );
      }
      promptTokens += length;
      vectors.push(normalize((await context.getEmbeddingFor(input)).vector));
    }
    return { vectors, promptTokens, source: 'engine' };
  }

  async close(): Promise<void> {
    const context = this.context;
    this.context = null;
    if (context) await (await context.catch(() => null))?.dispose();
  }

  private embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.context ??= this.model.createEmbeddingContext({
      contextSize: this.options.contextSize,
      threads: this.options.threads,
    });
    // A failed creation is not cached: the next request tries again.
    this.context.catch(() => (this.context = null));
    return this.context;
  }

  /** Token ids outside the vocabulary would read past llama.cpp's tables: refused here, by index. */
  private toModelInput(input: string | number[], index: number): string | Token[] {
    if (typeof input === 'string') return input;
    const limit = this.vocabularySize;
    const bad = input.find((token) => limit === null || token >= limit);
    if (bad !== undefined) {
      throw new EngineError(
        'invalid_request',
        limit === null
          ? `Model "${this.options.name}" does not accept token-array inputs.`
          : `Token ${bad} is outside the vocabulary of model "${this.options.name}" (${limit} tokens).`,
        {
          param: `input[${index}]`,
        },
      );
    }
    return input as Token[];
  }
}

function normalize(vector: readonly number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

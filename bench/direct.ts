import { performance } from 'node:perf_hooks';
import { LlamaChat, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import { toChatHistory } from '../src/engines/llama-cpp/history.js';
import type { GenerationSample } from './sample.js';

/** The server engine's default when a model sets no context size. */
const DEFAULT_MAX_CONTEXT = 4096;
export const BENCH_SEED = 1;

export interface DirectOptions {
  modelPath: string;
  threads: number;
  sequences: number;
  /** 0 = the engine's default (trained context, capped at 4096). */
  contextSize: number;
}

/**
 * node-llama-cpp called directly, set up the way the server's llama-cpp engine sets itself up: one
 * context with the same sequences, context size and threads, one LlamaChat kept on one sequence (so its
 * KV cache stays warm between requests, as the engine's slots do), the same history mapping and the
 * same generateResponse options the engine derives from `temperature: 0`.
 */
export class DirectGenerator {
  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly chat: LlamaChat,
    /** The per-sequence context size requested (what the server is configured with). */
    readonly requestedContextSize: number,
  ) {}

  static async load(llama: Llama, options: DirectOptions): Promise<DirectGenerator> {
    const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 'auto' });
    const contextSize = options.contextSize || Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT);
    const context = await model.createContext({ sequences: options.sequences, contextSize, threads: options.threads });
    const sequence = context.getSequence();
    return new DirectGenerator(model, context, sequence, new LlamaChat({ contextSequence: sequence }), contextSize);
  }

  get chatWrapperName(): string {
    return this.chat.chatWrapper.wrapperName;
  }

  /** The per-sequence context size llama.cpp actually created. */
  get contextSize(): number {
    return this.sequence.contextSize;
  }

  /** `onText`: each non-empty piece of text as node-llama-cpp hands it over (the embedded floor streams it). */
  async generate(prompt: string, maxTokens: number, onText?: (text: string) => void): Promise<GenerationSample> {
    const history = toChatHistory([{ role: 'user', content: prompt }]);
    const controller = new AbortController();
    const tokensBefore = this.sequence.tokenMeter.usedOutputTokens;
    let first = Number.NaN;
    let last = Number.NaN;
    const start = performance.now();
    const result = await this.chat.generateResponse(history, {
      // What samplingFor() gives for temperature 0 and no penalties (the seed is moot when greedy).
      temperature: 0,
      topP: 1,
      seed: BENCH_SEED,
      repeatPenalty: false,
      maxTokens,
      customStopTriggers: [],
      signal: controller.signal,
      stopOnAbortSignal: true,
      onTextChunk: (text) => {
        if (text === '') return;
        last = performance.now();
        if (Number.isNaN(first)) first = last;
        onText?.(text);
      },
    });
    const end = performance.now();
    return {
      completionTokens: this.sequence.tokenMeter.usedOutputTokens - tokensBefore,
      finishReason: result.metadata.stopReason,
      ttftMs: first - start,
      totalMs: end - start,
      decodeMs: last - first,
    };
  }

  async dispose(): Promise<void> {
    this.chat.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

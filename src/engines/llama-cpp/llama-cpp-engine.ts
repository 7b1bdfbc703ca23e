import {
  LlamaChat,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import type {
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapabilities,
  EngineSnapshot,
  TextCompletionRequest,
} from '../engine.js';
import { EngineError } from '../engine-error.js';
import { PartQueue } from '../part-queue.js';
import { generateChoice, type ChoiceWork } from './choice-generator.js';
import { EmbeddingRunner } from './embeddings.js';
import { planGeneration, type GenerationPlan } from './generation-plan.js';
import { assertPromptMayFit } from './prompt-fit.js';
import { toChatHistory } from './history.js';
import { SchemaValidator } from './schema-validator.js';
import { SequencePool } from './sequence-pool.js';
import { generateTextCompletion, prepareTextWork, textWorkers } from './text-completion.js';
import { supportsTools } from './tool-capability.js';

export interface LlamaCppEngineOptions {
  llama: Llama;
  /** The public model name, for the engine id and messages. */
  name: string;
  /** Resolves to the GGUF file to load (a download may happen first). */
  modelPath: () => Promise<string>;
  sequences: number;
  /** Tokens per sequence; 0 = the model's trained context, capped at 4096. */
  contextSize: number;
  threads: number;
  gpuLayers: 'auto' | 'max' | number;
  maxQueue: number;
  /**
   * Keep what a sequence evaluated and start the next request there when its prompt begins the same
   * (a chat's next turn): only the new tokens are evaluated. Default true; false clears each sequence first.
   */
  reusePrefix?: boolean;
  /** Serve POST /embeddings (an embedding context is created on the first such request). */
  embeddings?: boolean;
  /** Told how long each request waited for a free sequence (metrics). */
  onQueueWait?: (seconds: number) => void;
}

/** One slot = one context sequence and the chat evaluator bound to it (it keeps the KV cache warm). */
interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool<Slot>;
  contextSize: number;
  embeddings: EmbeddingRunner | null;
}

const DEFAULT_MAX_CONTEXT = 4096;

/** The embedded engine: a GGUF model run in-process by llama.cpp through node-llama-cpp. */
export class LlamaCppEngine implements Engine {
  readonly id: string;
  readonly kind = 'llama-cpp' as const;
  readonly capabilities: EngineCapabilities;
  private loaded: Loaded | null = null;
  private closed = false;
  private readonly loading: Promise<void>;
  private readonly validator = new SchemaValidator();

  constructor(private readonly options: LlamaCppEngineOptions) {
    this.id = `llama-cpp/${options.name}`;
    this.capabilities = { tools: false, jsonSchema: true, maxChoices: options.sequences, contextSize: null };
    this.loading = this.load();
    // The failure is reported through ready(); this keeps it from being an unhandled rejection meanwhile.
    this.loading.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.loading;
  }

  snapshot(): EngineSnapshot {
    const pool = this.loaded?.pool;
    return {
      loaded: pool !== undefined,
      sequences: { busy: pool?.busy ?? 0, total: pool?.size ?? this.options.sequences, queued: pool?.waiting ?? 0 },
    };
  }

  async startChat(request: ChatRequest, signal: AbortSignal): Promise<PartQueue> {
    const loaded = this.usable();
    this.checkSupported(request);
    await assertPromptMayFit(loaded.model, request.messages, loaded.contextSize);
    const history = toChatHistory(request.messages);
    const plan = await planGeneration(request, this.options.llama, this.validator);
    const prompt = this.tokenizePrompt(loaded, history, plan);
    const promptTokens = prompt.length;
    const maxTokens = resolveMaxTokens(request, promptTokens, loaded.contextSize);
    if (!loaded.pool.canAdmit(request.n)) {
      throw new EngineError(
        'overloaded',
        `Model "${this.options.name}" is busy and its request queue is full; retry shortly.`,
        { retryAfterMs: 1000 },
      );
    }
    // No pause: generation is bounded by max_tokens, and the SSE writer waits for the client's socket.
    const channel = new PartQueue({ highWaterMark: Infinity });
    void this.generate(loaded, { request, history, plan, prompt, promptTokens, maxTokens }, signal, channel);
    return channel;
  }

  /** Raw prompts, no chat template (POST /completions); the same sequences and queue as chat. */
  async startTextCompletion(request: TextCompletionRequest, signal: AbortSignal): Promise<PartQueue> {
    const loaded = this.usable();
    const target = { ...loaded, sequences: this.options.sequences };
    const work = prepareTextWork(target, request, this.options.name);
    if (!loaded.pool.canAdmit(textWorkers(target, request))) {
      throw new EngineError(
        'overloaded',
        `Model "${this.options.name}" is busy and its request queue is full; retry shortly.`,
        { retryAfterMs: 1000 },
      );
    }
    // No pause, as for chat: generation is bounded by max_tokens.
    const channel = new PartQueue({ highWaterMark: Infinity });
    void generateTextCompletion(target, work, signal, channel);
    return channel;
  }

  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    const loaded = this.usable();
    if (!loaded.embeddings) {
      throw new EngineError(
        'invalid_request',
        `Model "${this.options.name}" is not configured for embeddings (set \`embeddings: true\` on it).`,
        { param: 'model' },
      );
    }
    return loaded.embeddings.embed(request, signal);
  }

  private usable(): Loaded {
    if (this.closed) throw new EngineError('unavailable', `Model "${this.options.name}" is shut down.`);
    if (!this.loaded)
      throw new EngineError('unavailable', `Model "${this.options.name}" is still loading; retry shortly.`, {
        retryAfterMs: 2000,
      });
    return this.loaded;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading.catch(() => undefined);
    const loaded = this.loaded;
    this.loaded = null;
    if (!loaded) return;
    loaded.pool.rejectAll(new EngineError('unavailable', 'The server is shutting down.'));
    await loaded.embeddings?.close();
    await loaded.context.dispose();
    await loaded.model.dispose();
  }

  private async load(): Promise<void> {
    const { llama, sequences, threads, gpuLayers, maxQueue } = this.options;
    const modelPath = await this.options.modelPath();
    const model = await llama.loadModel({ modelPath, gpuLayers });
    const contextSize = this.options.contextSize || Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT);
    const context = await model.createContext({ sequences, contextSize, threads });
    const slots = Array.from({ length: sequences }, () => {
      const sequence = context.getSequence();
      return { sequence, chat: new LlamaChat({ contextSequence: sequence }) };
    });
    const sequenceContext = slots[0]?.sequence.contextSize ?? contextSize;
    const chatWrapper = slots[0]?.chat.chatWrapper;
    const embeddings = this.options.embeddings
      ? new EmbeddingRunner(model, { name: this.options.name, contextSize, threads })
      : null;
    this.loaded = { model, context, pool: new SequencePool(slots, maxQueue), contextSize: sequenceContext, embeddings };
    Object.assign(this.capabilities, {
      contextSize: sequenceContext,
      tools: chatWrapper ? supportsTools(chatWrapper) : false,
    });
  }

  private checkSupported(request: ChatRequest): void {
    if (request.n > this.capabilities.maxChoices) {
      throw new EngineError(
        'invalid_request',
        `n must be at most ${this.capabilities.maxChoices} for model "${this.options.name}" (its number of parallel sequences).`,
        { param: 'n' },
      );
    }
    if (request.tools.length > 0 && request.toolChoice.type !== 'none' && !this.capabilities.tools) {
      throw new EngineError(
        'invalid_request',
        `Model "${this.options.name}" does not support tools: its chat template has no tool-call format.`,
        { param: 'tools' },
      );
    }
  }

  /** The rendered prompt (chat template applied) in the model's own tokens: prompt_tokens is its length. */
  private tokenizePrompt(loaded: Loaded, history: ChatHistoryItem[], plan: GenerationPlan): Token[] {
    const chatWrapper = loaded.pool.peek().chat.chatWrapper;
    const { contextText } = chatWrapper.generateContextState({
      chatHistory: history,
      ...(plan.functions ? { availableFunctions: plan.functions, documentFunctionParams: true } : {}),
    });
    return contextText.tokenize(loaded.model.tokenizer);
  }

  /**
   * Takes the sequences for a request: those already holding the longest prefix of its prompt (a chat's
   * earlier turns), least recently used among equals. Returns them with the prompt tokens each one
   * will not evaluate again; LlamaChat itself keeps the matching prefix and evaluates only the rest.
   */
  private async acquireSlots(
    loaded: Loaded,
    work: GenerationWork,
    signal: AbortSignal,
  ): Promise<{ slots: Slot[]; cachedTokens: number }> {
    const reuse = this.options.reusePrefix ?? true;
    const slots = await loaded.pool.acquire(
      work.request.n,
      signal,
      reuse ? (slot) => reuseScore(slot, work.prompt) : null,
    );
    if (!reuse) {
      await Promise.all(slots.map((slot) => slot.sequence.clearHistory()));
      return { slots, cachedTokens: 0 };
    }
    // prompt_tokens counts the prompt once whatever n is; so does this: what every choice reused.
    return { slots, cachedTokens: Math.min(...slots.map((slot) => heldPrefix(slot, work.prompt))) };
  }

  private async generate(loaded: Loaded, work: GenerationWork, signal: AbortSignal, channel: PartQueue): Promise<void> {
    // One controller for the whole request: a client abort, or one choice failing, stops every choice.
    const controller = new AbortController();
    const abort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    // The client may have left while startChat was still preparing (a grammar takes milliseconds).
    if (signal.aborted) abort();
    let completionTokens = 0;
    let cachedTokens = 0;
    let evaluated = false;
    try {
      const queuedAt = performance.now();
      const acquired = await this.acquireSlots(loaded, work, controller.signal);
      const slots = acquired.slots;
      cachedTokens = acquired.cachedTokens;
      this.options.onQueueWait?.((performance.now() - queuedAt) / 1000);
      evaluated = true;
      const counts = await Promise.all(
        slots.map((slot, choice) =>
          this.generateChoice(slot, choice, work, controller, channel).finally(() => loaded.pool.release(slot)),
        ),
      );
      completionTokens = counts.reduce((sum, count) => sum + count, 0);
    } catch (error) {
      if (!controller.signal.aborted) channel.push({ type: 'error', error: asEngineError(error) });
    } finally {
      signal.removeEventListener('abort', abort);
      // A request that left while queued never reached the model: it used no tokens.
      const promptTokens = evaluated ? work.promptTokens : 0;
      channel.push({ type: 'usage', usage: { promptTokens, completionTokens, source: 'engine', cachedTokens } });
      channel.close();
    }
  }

  /** Generates one choice on one slot; returns the tokens it produced (also when stopped early). */
  private async generateChoice(
    slot: Slot,
    choice: number,
    work: GenerationWork,
    controller: AbortController,
    channel: PartQueue,
  ): Promise<number> {
    const meter = slot.sequence.tokenMeter;
    const tokensBefore = meter.usedOutputTokens;
    try {
      const finishReason = await generateChoice(slot.chat, choice, work, controller.signal, (part) =>
        channel.push(part),
      );
      if (!controller.signal.aborted) channel.push({ type: 'finish', choice, finishReason });
    } catch (error) {
      if (!controller.signal.aborted) {
        channel.push({ type: 'error', error: asEngineError(error) });
        controller.abort(error);
      }
    }
    return meter.usedOutputTokens - tokensBefore;
  }
}

interface GenerationWork extends ChoiceWork {
  prompt: Token[];
  promptTokens: number;
}

/**
 * How much a request gains from a sequence: the prefix it reuses, when that is most of what the sequence
 * holds. A sequence sharing only a little (the same system prompt, another conversation's first words)
 * scores 0: taking it would destroy a conversation for little gain, and least-recent use decides instead.
 */
function reuseScore(slot: Slot, prompt: Token[]): number {
  const held = heldPrefix(slot, prompt);
  return held * 2 >= slot.sequence.contextTokens.length ? held : 0;
}

/**
 * Prompt tokens a sequence already holds (a common prefix). At least the last prompt token is always
 * evaluated again, since generating needs its logits; node-llama-cpp re-evaluates it the same way.
 */
function heldPrefix(slot: Slot, prompt: Token[]): number {
  if (prompt.length === 0) return 0;
  return Math.min(slot.sequence.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
}

/** Fits max_tokens into the context: the default is whatever room the prompt leaves. */
function resolveMaxTokens(request: ChatRequest, promptTokens: number, contextSize: number): number {
  const room = contextSize - promptTokens;
  const ceiling = request.serverMaxTokens ?? Number.POSITIVE_INFINITY;
  if (room <= 0) {
    throw new EngineError(
      'context_length_exceeded',
      `This model's maximum context length is ${contextSize} tokens, but the messages take ${promptTokens} tokens.`,
      { param: 'messages' },
    );
  }
  if (request.maxTokens === null) return Math.min(room, ceiling);
  if (request.maxTokens > room) {
    throw new EngineError(
      'context_length_exceeded',
      `This model's maximum context length is ${contextSize} tokens. However, you requested ${promptTokens + request.maxTokens} tokens (${promptTokens} in the messages, ${request.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      { param: 'max_tokens' },
    );
  }
  return Math.min(request.maxTokens, ceiling);
}

function asEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError('internal', 'The model failed while generating.', { cause: error });
}

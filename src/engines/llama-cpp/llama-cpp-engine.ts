import { LlamaChat, type ChatHistoryItem, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import type { ChatRequest, Engine, EngineCapabilities, EngineSnapshot, StreamPart } from '../engine.js';
import { EngineError } from '../engine-error.js';
import { PartChannel } from '../part-channel.js';
import { generateChoice, type ChoiceWork } from './choice-generator.js';
import { planGeneration, type GenerationPlan } from './generation-plan.js';
import { toChatHistory } from './history.js';
import { SchemaValidator } from './schema-validator.js';
import { SequencePool } from './sequence-pool.js';
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

  async startChat(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<StreamPart>> {
    if (this.closed) throw new EngineError('unavailable', `Model "${this.options.name}" is shut down.`);
    const loaded = this.loaded;
    if (!loaded) throw new EngineError('unavailable', `Model "${this.options.name}" is still loading; retry shortly.`, { retryAfterMs: 2000 });
    this.checkSupported(request);
    const history = toChatHistory(request.messages);
    const plan = await planGeneration(request, this.options.llama, this.validator);
    const promptTokens = this.countPromptTokens(loaded, history, plan);
    const maxTokens = resolveMaxTokens(request, promptTokens, loaded.contextSize);
    if (!loaded.pool.canAdmit(request.n)) {
      throw new EngineError('overloaded', `Model "${this.options.name}" is busy and its request queue is full; retry shortly.`, { retryAfterMs: 1000 });
    }
    const channel = new PartChannel();
    void this.generate(loaded, { request, history, plan, promptTokens, maxTokens }, signal, channel);
    return channel;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading.catch(() => undefined);
    const loaded = this.loaded;
    this.loaded = null;
    if (!loaded) return;
    loaded.pool.rejectAll(new EngineError('unavailable', 'The server is shutting down.'));
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
    this.loaded = { model, context, pool: new SequencePool(slots, maxQueue), contextSize: sequenceContext };
    Object.assign(this.capabilities, { contextSize: sequenceContext, tools: chatWrapper ? supportsTools(chatWrapper) : false });
  }

  private checkSupported(request: ChatRequest): void {
    if (request.n > this.capabilities.maxChoices) {
      throw new EngineError('invalid_request', `n must be at most ${this.capabilities.maxChoices} for model "${this.options.name}" (its number of parallel sequences).`, { param: 'n' });
    }
    if (request.tools.length > 0 && request.toolChoice.type !== 'none' && !this.capabilities.tools) {
      throw new EngineError('invalid_request', `Model "${this.options.name}" does not support tools: its chat template has no tool-call format.`, { param: 'tools' });
    }
  }

  /** prompt_tokens is the rendered prompt (chat template applied) in the model's own tokens. */
  private countPromptTokens(loaded: Loaded, history: ChatHistoryItem[], plan: GenerationPlan): number {
    const chatWrapper = loaded.pool.peek().chat.chatWrapper;
    const { contextText } = chatWrapper.generateContextState({
      chatHistory: history,
      ...(plan.functions ? { availableFunctions: plan.functions, documentFunctionParams: true } : {}),
    });
    return contextText.tokenize(loaded.model.tokenizer).length;
  }

  private async generate(loaded: Loaded, work: GenerationWork, signal: AbortSignal, channel: PartChannel): Promise<void> {
    // One controller for the whole request: a client abort, or one choice failing, stops every choice.
    const controller = new AbortController();
    const abort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    // The client may have left while startChat was still preparing (a grammar takes milliseconds).
    if (signal.aborted) abort();
    let completionTokens = 0;
    let evaluated = false;
    try {
      const queuedAt = performance.now();
      const slots = await loaded.pool.acquire(work.request.n, controller.signal);
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
      channel.push({ type: 'usage', usage: { promptTokens, completionTokens, source: 'engine' } });
      channel.close();
    }
  }

  /** Generates one choice on one slot; returns the tokens it produced (also when stopped early). */
  private async generateChoice(slot: Slot, choice: number, work: GenerationWork, controller: AbortController, channel: PartChannel): Promise<number> {
    const meter = slot.sequence.tokenMeter;
    const tokensBefore = meter.usedOutputTokens;
    try {
      const finishReason = await generateChoice(slot.chat, choice, work, controller.signal, (part) => channel.push(part));
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
  promptTokens: number;
}

/** Fits max_tokens into the context: the default is whatever room the prompt leaves. */
function resolveMaxTokens(request: ChatRequest, promptTokens: number, contextSize: number): number {
  const room = contextSize - promptTokens;
  if (room <= 0) {
    throw new EngineError('context_length_exceeded', `This model's maximum context length is ${contextSize} tokens, but the messages take ${promptTokens} tokens.`, { param: 'messages' });
  }
  if (request.maxTokens === null) return room;
  if (request.maxTokens > room) {
    throw new EngineError(
      'context_length_exceeded',
      `This model's maximum context length is ${contextSize} tokens. However, you requested ${promptTokens + request.maxTokens} tokens (${promptTokens} in the messages, ${request.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      { param: 'max_tokens' },
    );
  }
  return request.maxTokens;
}

function asEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError('internal', 'The model failed while generating.', { cause: error });
}

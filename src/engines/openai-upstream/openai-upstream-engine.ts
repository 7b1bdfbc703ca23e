import { Pool } from 'undici';
import type {
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapabilities,
  EngineSnapshot,
  TextCompletionRequest,
} from '../engine.js';
import type { PartQueue } from '../part-queue.js';
import { EngineError } from '../engine-error.js';
import type { UpstreamOptions } from './options.js';
import { TokenCounter } from './token-counter.js';
import { asChatView, textChunkAsChat, toTextCompletionWireBody } from './text-completion-wire.js';
import { requestEmbeddings } from './upstream-embeddings.js';
import { UpstreamExchange, type ExchangeOptions } from './upstream-exchange.js';
import { siblingPath, toUpstreamTarget, type UpstreamTarget } from './upstream-url.js';
import { toWireBody } from './wire-request.js';

/**
 * One deployment of an OpenAI-compatible engine (vLLM, SGLang, llama-server, Ollama, OpenAI): requests
 * go over a keep-alive pool of connections to it; each is an UpstreamExchange.
 */
export class OpenAIUpstreamEngine implements Engine {
  readonly id: string;
  readonly kind = 'openai' as const;
  readonly capabilities: EngineCapabilities = { tools: true, jsonSchema: true, maxChoices: 128, contextSize: null };
  private readonly target: UpstreamTarget;
  private readonly pool: Pool;
  private readonly streamHeaders: Record<string, string>;
  private readonly jsonHeaders: Record<string, string>;
  private readonly counter = new TokenCounter();
  /** Exchanges not yet settled: enforces `maxConcurrent` only (the router's Deployment counts load for balancing). */
  private active = 0;

  constructor(private readonly options: UpstreamOptions) {
    this.target = toUpstreamTarget(options.url);
    this.id = `openai/${options.publicName}/${this.target.host}${options.idSuffix ?? ''}`;
    this.pool = new Pool(this.target.origin, {
      // One stream per connection (HTTP/1.1): the concurrency cap, when set, is also the pool size.
      connections: options.maxConcurrent,
      connect: { timeout: options.connectTimeoutMs },
      // Our own deadlines (first token, idle, whole response) replace undici's generic ones.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.streamHeaders = buildHeaders(options, 'text/event-stream');
    this.jsonHeaders = buildHeaders(options, 'application/json');
  }

  ready(): Promise<void> {
    // No probe: an upstream that is down now may be up by the first request, and the router fails over meanwhile.
    return Promise.resolve();
  }

  snapshot(): EngineSnapshot {
    return { loaded: true, sequences: null };
  }

  startChat(request: ChatRequest, signal: AbortSignal): Promise<PartQueue> {
    return this.exchange(request, signal, this.target.path, () =>
      toWireBody(request, { upstreamModel: this.options.upstreamModel, maxTokensField: this.options.maxTokensField }),
    );
  }

  /** POST {base}/completions, read through the same exchange as chat (its chunks renamed on the way in). */
  startTextCompletion(request: TextCompletionRequest, signal: AbortSignal): Promise<PartQueue> {
    const body = () => toTextCompletionWireBody(request, { upstreamModel: this.options.upstreamModel });
    return this.exchange(asChatView(request), signal, siblingPath(this.target, '/completions'), body, textChunkAsChat);
  }

  /** POST {base}/embeddings: one JSON exchange under the same concurrency cap as chats. */
  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    this.takeSlot(signal);
    try {
      const call = {
        pool: this.pool,
        path: siblingPath(this.target, '/embeddings'),
        headers: this.jsonHeaders,
        upstreamModel: this.options.upstreamModel,
        responseTimeoutMs: this.options.responseTimeoutMs,
        counter: this.counter,
      };
      return await requestEmbeddings(call, request, signal);
    } finally {
      this.active -= 1;
    }
  }

  private async exchange(
    request: ChatRequest,
    signal: AbortSignal,
    path: string,
    wireBody: () => string,
    translateChunk?: ExchangeOptions['translateChunk'],
  ): Promise<PartQueue> {
    this.takeSlot(signal);
    const exchange = new UpstreamExchange({
      request,
      signal,
      counter: this.counter,
      firstTokenTimeoutMs: this.options.firstTokenTimeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      responseTimeoutMs: this.options.responseTimeoutMs,
      onSettled: () => {
        this.active -= 1;
      },
      ...(translateChunk ? { translateChunk } : {}),
    });
    try {
      const body = wireBody();
      this.pool.dispatch(
        { path, method: 'POST', headers: request.stream ? this.streamHeaders : this.jsonHeaders, body },
        exchange,
      );
    } catch (error) {
      exchange.failToDispatch(error);
    }
    return exchange.started;
  }

  /** Counts one more request in flight, or refuses it at the concurrency cap (the router fails over). */
  private takeSlot(signal: AbortSignal): void {
    if (signal.aborted) throw signal.reason;
    const cap = this.options.maxConcurrent;
    if (cap !== null && this.active >= cap) {
      throw new EngineError(
        'overloaded',
        `This deployment of "${this.options.publicName}" is at its limit of ${cap} concurrent requests.`,
      );
    }
    this.active += 1;
  }

  /**
   * Called after the server drained: whatever is still open (an upstream that holds its response open
   * after [DONE], a request cut off at the drain deadline) is destroyed, not waited for.
   */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function buildHeaders(options: UpstreamOptions, accept: string): Record<string, string> {
  const headers: Record<string, string> = {
    ...lowerCaseKeys(options.headers),
    'content-type': 'application/json',
    accept,
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

import { Pool } from 'undici';
import type { ChatRequest, Engine, EngineCapabilities, EngineSnapshot } from '../engine.js';
import type { PartQueue } from '../part-queue.js';
import { EngineError } from '../engine-error.js';
import type { UpstreamOptions } from './options.js';
import { TokenCounter } from './token-counter.js';
import { UpstreamExchange } from './upstream-exchange.js';
import { toUpstreamTarget, type UpstreamTarget } from './upstream-url.js';
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

  async startChat(request: ChatRequest, signal: AbortSignal): Promise<PartQueue> {
    if (signal.aborted) throw signal.reason;
    const cap = this.options.maxConcurrent;
    if (cap !== null && this.active >= cap) {
      throw new EngineError('overloaded', `This deployment of "${this.options.publicName}" is at its limit of ${cap} concurrent requests.`);
    }
    this.active += 1;
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
    });
    try {
      const body = toWireBody(request, { upstreamModel: this.options.upstreamModel, maxTokensField: this.options.maxTokensField });
      this.pool.dispatch({ path: this.target.path, method: 'POST', headers: request.stream ? this.streamHeaders : this.jsonHeaders, body }, exchange);
    } catch (error) {
      exchange.failToDispatch(error);
    }
    return exchange.started;
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
  const headers: Record<string, string> = { ...lowerCaseKeys(options.headers), 'content-type': 'application/json', accept };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

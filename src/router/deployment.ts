import type {
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapabilities,
  EngineKind,
  EngineSnapshot,
  TextCompletionRequest,
  PartQueue,
} from '../engines/index.js';
import { EngineError } from '../engines/index.js';
import { DeploymentHealth } from './deployment-health.js';
import type { RoutingPolicy } from './routing-policy.js';

/** What a deployment tells the metrics: attempts, failures by kind, cooldowns, retries and failovers. */
export interface DeploymentObserver {
  attempted(deployment: Deployment): void;
  failed(deployment: Deployment, error: EngineError): void;
  cooledDown(deployment: Deployment): void;
  /** Another attempt after a failed one, for the same request. */
  retried(deployment: Deployment): void;
  /** A request served here after another deployment failed it. */
  failedOver(deployment: Deployment): void;
}

const SILENT_DEPLOYMENT_OBSERVER: DeploymentObserver = {
  attempted: () => undefined,
  failed: () => undefined,
  cooledDown: () => undefined,
  retried: () => undefined,
  failedOver: () => undefined,
};

/**
 * One engine behind a public model, as the router sees it: its weight, its requests in flight and its
 * health. It is an Engine itself (same id as the engine it wraps), so the rest of the server need not
 * know whether a model has one deployment or many.
 */
export class Deployment implements Engine {
  readonly health: DeploymentHealth;
  private active = 0;

  constructor(
    readonly engine: Engine,
    readonly weight: number,
    readonly policy: RoutingPolicy,
    readonly observer: DeploymentObserver = SILENT_DEPLOYMENT_OBSERVER,
  ) {
    this.health = new DeploymentHealth(policy);
  }

  get id(): string {
    return this.engine.id;
  }

  get kind(): EngineKind {
    return this.engine.kind;
  }

  get capabilities(): EngineCapabilities {
    return this.engine.capabilities;
  }

  /** Requests started here and not yet over: the balancer's measure of load. */
  get inFlight(): number {
    return this.active;
  }

  startChat(request: ChatRequest, signal: AbortSignal): Promise<PartQueue> {
    return this.track(() => this.engine.startChat(request, signal), signal);
  }

  startTextCompletion(request: TextCompletionRequest, signal: AbortSignal): Promise<PartQueue> {
    const engine = this.engine;
    if (!engine.startTextCompletion) return Promise.reject(unsupported(engine.id, 'text completions'));
    return this.track(() => engine.startTextCompletion!(request, signal), signal);
  }

  /** Embeddings are one exchange: in flight until it settles, a success or a failure for health. */
  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    const engine = this.engine;
    if (!engine.embed) throw unsupported(engine.id, 'embeddings');
    this.active += 1;
    try {
      const result = await engine.embed(request, signal);
      this.health.recordSuccess();
      return result;
    } catch (error) {
      if (error instanceof EngineError && !signal.aborted) this.health.recordFailure(error);
      throw error;
    } finally {
      this.active -= 1;
    }
  }

  private async track(start: () => Promise<PartQueue>, signal: AbortSignal): Promise<PartQueue> {
    this.active += 1;
    this.observer.attempted(this);
    let parts: PartQueue;
    try {
      parts = await start();
    } catch (error) {
      this.active -= 1;
      if (error instanceof EngineError && !signal.aborted) this.recordFailure(error);
      throw error;
    }
    // Over when its reader is done with it (read to the end, or abandoned): in flight until then.
    parts.onEnd((failure) => {
      this.active -= 1;
      if (signal.aborted) return;
      if (failure) this.recordFailure(failure);
      else this.health.recordSuccess();
    });
    return parts;
  }

  private recordFailure(error: EngineError): void {
    this.observer.failed(this, error);
    if (this.health.recordFailure(error)) this.observer.cooledDown(this);
  }

  snapshot(): EngineSnapshot {
    return this.engine.snapshot();
  }

  ready(): Promise<void> {
    return this.engine.ready();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

function unsupported(engineId: string, what: string): EngineError {
  return new EngineError('invalid_request', `The deployment ${engineId} does not serve ${what}.`, { param: 'model' });
}

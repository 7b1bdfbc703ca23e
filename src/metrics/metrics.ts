import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineError } from '../engines/index.js';
import type { RefusalReason } from '../limits/index.js';
import type { DeploymentObserver, ModelRegistry } from '../router/index.js';
import type { LedgerStats } from '../usage/index.js';
import { registerEngineGauges, registerLedgerGauges } from './scraped-gauges.js';

/**
 * Every Prometheus metric Oru-el exports is named here, and only here. Per-request values are
 * observed once, when the request finishes (never per chunk); what can be read from the engines,
 * the deployments and the ledger is read when Prometheus scrapes.
 */

type RequestOutcomeLabel = 'completed' | 'cancelled' | 'error' | 'refused';

export interface FinishedRequest {
  /** `chat.completions`, ... (bounded: one value per route). */
  endpoint: string;
  /** The public model name the client sent; names the registry does not know become `unknown`. */
  model: string;
  /** The engine that served it, when one was reached. */
  engine: string | null;
  stream: boolean;
  status: number;
  outcome: RequestOutcomeLabel;
  keyId: string | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  durationMs: number;
}

export interface MetricsOptions {
  /** Token counters per API key: one series per key, so off unless asked for. */
  perKeyTokens: boolean;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const INTER_TOKEN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const QUEUE_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];
const REFUSAL_REASONS: readonly RefusalReason[] = ['requests_per_minute', 'tokens_per_minute', 'concurrency', 'budget'];

export class Metrics {
  readonly registry = new Registry();
  readonly #perKeyTokens: boolean;
  readonly #models: ModelRegistry;

  readonly #requests = new Counter({
    name: 'oruel_requests_total',
    help: 'Finished API requests by model, endpoint, stream, status class and outcome (refused = by a key limit).',
    labelNames: ['model', 'endpoint', 'stream', 'status_class', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #inFlight = new Gauge({
    name: 'oruel_requests_in_flight',
    help: 'API requests being answered now.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly #ttft = new Histogram({
    name: 'oruel_time_to_first_token_seconds',
    help: 'From the request arriving to the first generated token.',
    labelNames: ['model'] as const,
    buckets: TTFT_BUCKETS,
    registers: [this.registry],
  });
  readonly #interToken = new Histogram({
    name: 'oruel_time_per_output_token_seconds',
    help: 'Mean time between output tokens after the first, one observation per request.',
    labelNames: ['model'] as const,
    buckets: INTER_TOKEN_BUCKETS,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'oruel_request_duration_seconds',
    help: 'End-to-end request latency, to the last byte.',
    labelNames: ['model', 'endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #queueWait = new Histogram({
    name: 'oruel_queue_wait_seconds',
    help: 'Time a request waited for a free sequence of an embedded model.',
    labelNames: ['model'] as const,
    buckets: QUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly #promptTokens = new Counter({
    name: 'oruel_prompt_tokens_total',
    help: 'Prompt tokens processed, by model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #completionTokens = new Counter({
    name: 'oruel_completion_tokens_total',
    help: 'Completion tokens generated, by model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #engineTokens = new Counter({
    name: 'oruel_engine_completion_tokens_total',
    help: 'Completion tokens generated, by engine or deployment (rate() of it is tokens per second).',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });
  readonly #keyPromptTokens: Counter<'key_id'> | null;
  readonly #keyCompletionTokens: Counter<'key_id'> | null;
  readonly #deploymentRequests = new Counter({
    name: 'oruel_deployment_requests_total',
    help: 'Attempts to start a request on a deployment of a gateway model.',
    labelNames: ['model', 'deployment'] as const,
    registers: [this.registry],
  });
  readonly #deploymentErrors = new Counter({
    name: 'oruel_deployment_errors_total',
    help: 'Failures of a deployment, by kind (timeout, unavailable, upstream_error, rate_limited, ...).',
    labelNames: ['model', 'deployment', 'kind'] as const,
    registers: [this.registry],
  });
  readonly #deploymentCooldowns = new Counter({
    name: 'oruel_deployment_cooldowns_total',
    help: 'Times a deployment was taken out of rotation for a cooldown.',
    labelNames: ['model', 'deployment'] as const,
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: 'oruel_router_retries_total',
    help: 'Attempts after a failed one, for the same request.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #failovers = new Counter({
    name: 'oruel_router_failovers_total',
    help: 'Requests served by a deployment after another one failed them.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #limitRefusals = new Counter({
    name: 'oruel_limit_refusals_total',
    help: 'Requests refused by a key limit, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(models: ModelRegistry, options: MetricsOptions) {
    this.#models = models;
    this.#perKeyTokens = options.perKeyTokens;
    this.#keyPromptTokens = options.perKeyTokens
      ? new Counter({
          name: 'oruel_key_prompt_tokens_total',
          help: 'Prompt tokens by API key id.',
          labelNames: ['key_id'] as const,
          registers: [this.registry],
        })
      : null;
    this.#keyCompletionTokens = options.perKeyTokens
      ? new Counter({
          name: 'oruel_key_completion_tokens_total',
          help: 'Completion tokens by API key id.',
          labelNames: ['key_id'] as const,
          registers: [this.registry],
        })
      : null;
    registerEngineGauges(this.registry, models);
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool flags them); nodejs_active_handles etc. carry the same numbers.
    for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    for (const reason of REFUSAL_REASONS) this.#limitRefusals.inc({ reason }, 0);
  }

  requestStarted(endpoint: string): void {
    this.#inFlight.inc({ endpoint });
  }

  /** One call per request, when it is over: counters, histograms and the in-flight gauge. */
  requestFinished(request: FinishedRequest): void {
    this.#inFlight.dec({ endpoint: request.endpoint });
    const model = this.#models.get(request.model) ? request.model : 'unknown';
    this.#requests.inc({
      model,
      endpoint: request.endpoint,
      stream: String(request.stream),
      status_class: `${Math.floor(request.status / 100)}xx`,
      outcome: request.outcome,
    });
    this.#latency.observe({ model, endpoint: request.endpoint }, request.durationMs / 1000);
    if (request.ttftMs !== null) {
      this.#ttft.observe({ model }, request.ttftMs / 1000);
      if (request.completionTokens > 1)
        this.#interToken.observe(
          { model },
          (request.durationMs - request.ttftMs) / 1000 / (request.completionTokens - 1),
        );
    }
    if (request.promptTokens > 0) this.#promptTokens.inc({ model }, request.promptTokens);
    if (request.completionTokens > 0) {
      this.#completionTokens.inc({ model }, request.completionTokens);
      if (request.engine !== null) this.#engineTokens.inc({ engine: request.engine }, request.completionTokens);
    }
    if (this.#perKeyTokens && request.keyId !== null) {
      this.#keyPromptTokens?.inc({ key_id: request.keyId }, request.promptTokens);
      this.#keyCompletionTokens?.inc({ key_id: request.keyId }, request.completionTokens);
    }
  }

  limitRefused(reason: RefusalReason): void {
    this.#limitRefusals.inc({ reason });
  }

  /** For an embedded model's engine: how long each request waited for a sequence. */
  queueWaitObserver(model: string): (seconds: number) => void {
    return (seconds) => this.#queueWait.observe({ model }, seconds);
  }

  /** For the deployments of one gateway model. */
  deploymentObserver(model: string): DeploymentObserver {
    return {
      attempted: (deployment) => this.#deploymentRequests.inc({ model, deployment: deployment.id }),
      failed: (deployment, error: EngineError) =>
        this.#deploymentErrors.inc({ model, deployment: deployment.id, kind: error.code }),
      cooledDown: (deployment) => this.#deploymentCooldowns.inc({ model, deployment: deployment.id }),
      retried: () => this.#retries.inc({ model }),
      failedOver: () => this.#failovers.inc({ model }),
    };
  }

  /** The text Prometheus scrapes. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The ledger's rows written, write errors and backlog, read at each scrape. */
  watchLedger(read: () => LedgerStats): void {
    registerLedgerGauges(this.registry, read);
  }
}

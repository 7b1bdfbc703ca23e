/** How one public model spreads requests over its deployments and reacts to their failures. */
export interface RoutingPolicy {
  /** Deployments tried for one request (each at most once, unless it asked to be retried after a short wait). */
  maxAttempts: number;
  /** Consecutive failures after which a deployment is skipped for `cooldownMs`. */
  failuresBeforeCooldown: number;
  cooldownMs: number;
  /** Longest `retry-after` honoured as a cooldown. */
  maxRetryAfterMs: number;
  /** When no deployment is free now, wait this long at most for the first one to become free. */
  maxRetryWaitMs: number;
  /** Milliseconds on a monotonic clock (tests may pass their own). */
  now: () => number;
}

export const DEFAULT_ROUTING_POLICY: RoutingPolicy = {
  maxAttempts: 3,
  failuresBeforeCooldown: 3,
  cooldownMs: 30_000,
  maxRetryAfterMs: 60_000,
  maxRetryWaitMs: 2_000,
  now: () => performance.now(),
};

/**
 * A model served by one engine and nothing else (an embedded llama.cpp model): one attempt, no
 * circuit breaker, no waiting; the engine's own error (queue full, still loading) goes to the client
 * as it is, with its retry-after.
 */
export const SINGLE_ENGINE_POLICY: RoutingPolicy = {
  ...DEFAULT_ROUTING_POLICY,
  maxAttempts: 1,
  failuresBeforeCooldown: Number.POSITIVE_INFINITY,
  maxRetryAfterMs: 0,
  maxRetryWaitMs: 0,
};

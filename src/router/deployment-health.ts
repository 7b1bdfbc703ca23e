import { assertNever } from '../engines/index.js';
import type { EngineError } from '../engines/index.js';
import type { RoutingPolicy } from './routing-policy.js';

/**
 * Failures that say something about the deployment rather than the request: an invalid request or
 * a prompt too long would fail anywhere, and `overloaded` is our own concurrency cap, not ill health.
 */
function isDeploymentFault(error: EngineError): boolean {
  switch (error.code) {
    case 'upstream_error':
    case 'unavailable':
    case 'timeout':
    case 'rate_limited':
    case 'internal':
      return true;
    case 'overloaded':
    case 'invalid_request':
    case 'context_length_exceeded':
    case 'invalid_output':
      return false;
    default:
      return assertNever(error.code);
  }
}

/**
 * A circuit breaker per deployment: after `failuresBeforeCooldown` consecutive faults, or when the
 * deployment itself asked for a pause (`retry-after`), it is skipped until the cooldown ends.
 * A clean completion resets the count.
 */
export class DeploymentHealth {
  private consecutiveFailures = 0;
  private coolingUntil = 0;
  private cooldownCause: EngineError | null = null;

  constructor(private readonly policy: RoutingPolicy) {}

  recordSuccess(): void {
    this.consecutiveFailures = 0;
  }

  /** Returns true when this failure started (or extended) a cooldown. */
  recordFailure(error: EngineError): boolean {
    if (!isDeploymentFault(error)) return false;
    this.consecutiveFailures += 1;
    const now = this.policy.now();
    let cooling = false;
    if (error.retryAfterMs !== undefined)
      cooling = this.coolUntil(now + Math.min(error.retryAfterMs, this.policy.maxRetryAfterMs), error);
    if (this.consecutiveFailures >= this.policy.failuresBeforeCooldown) {
      this.consecutiveFailures = 0;
      cooling = this.coolUntil(now + this.policy.cooldownMs, error) || cooling;
    }
    return cooling;
  }

  /** When the deployment may be tried again (a past time when it may be tried now). */
  get availableAt(): number {
    return this.coolingUntil;
  }

  /** The failure that started the current cooldown. */
  get cause(): EngineError | null {
    return this.cooldownCause;
  }

  private coolUntil(until: number, cause: EngineError): boolean {
    if (until <= this.coolingUntil) return false;
    this.coolingUntil = until;
    this.cooldownCause = cause;
    return true;
  }
}

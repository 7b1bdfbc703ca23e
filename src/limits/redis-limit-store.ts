import type { Redis, Result } from 'ioredis';
import type { RedisConnection } from '../storage/redis.js';
import { WINDOW_MS, type BucketView } from './bucket-math.js';
import type { AdmissionPlan, LimitStore, LimitViews, Settlement, StoreDecision } from './limit-store.js';
import { ADMIT_SCRIPT, RENEW_LEASE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.js';

type ScriptArgument = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    oruelAdmit(...keysAndArgs: ScriptArgument[]): Result<number[], Context>;
    oruelSettle(...keysAndArgs: ScriptArgument[]): Result<number, Context>;
    oruelRenewLease(...keysAndArgs: ScriptArgument[]): Result<number, Context>;
  }
}

/** A period's counter outlives the period a little, so settlements of its last requests still land. */
const BUDGET_COUNTER_GRACE_MS = 3_600_000;

const ADMIT_STATUS = {
  rateLimited: 0,
  admitted: 1,
  concurrencyLimited: 2,
  budgetExhausted: 3,
  budgetUnknown: 4,
} as const;

/**
 * Limit state in Redis, shared by every replica. Keys carry the API key id in a hash tag
 * (`{key_...}`) so one admission's keys sit in one slot, as Redis Cluster requires of a script.
 * ioredis sends the scripts by SHA and reloads them if Redis forgot them (a restart).
 * Times come from the caller's clock, not Redis's TIME: NTP-synchronised replicas agree within
 * milliseconds (a clock behind the stored time refills nothing, never too much), and tests can run
 * the very same scripts on a fake clock.
 */
export class RedisLimitStore implements LimitStore {
  readonly #client: Redis;
  readonly #prefix: string;

  constructor(connection: RedisConnection) {
    this.#client = connection.client;
    this.#prefix = `${connection.keyPrefix}limits:`;
    this.#client.defineCommand('oruelAdmit', { numberOfKeys: 4, lua: ADMIT_SCRIPT });
    this.#client.defineCommand('oruelSettle', { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    this.#client.defineCommand('oruelRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE_SCRIPT });
  }

  async admit(plan: AdmissionPlan): Promise<StoreDecision> {
    const keys = this.#keys(plan.keyId, plan.budget?.periodId ?? null);
    const reply = await this.#client.oruelAdmit(
      keys.requests,
      keys.tokens,
      keys.leases,
      keys.budget,
      plan.nowMs,
      plan.rpm ?? 0,
      plan.tpm ?? 0,
      String(plan.tokens),
      plan.maxConcurrent ?? 0,
      plan.leaseId,
      plan.leaseTtlMs,
      plan.budget?.tokens ?? 0,
      String(plan.budget?.usedSeed ?? -1),
      plan.budget === null ? 0 : plan.budget.periodEndMs + BUDGET_COUNTER_GRACE_MS,
      WINDOW_MS,
    );
    return decisionFrom(reply, plan);
  }

  async settle(settlement: Settlement): Promise<void> {
    const keys = this.#keys(settlement.keyId, settlement.budgetPeriodId);
    const delta = settlement.reservedTokens - settlement.actualTokens;
    await this.#client.oruelSettle(
      keys.tokens,
      keys.leases,
      keys.budget,
      settlement.nowMs,
      settlement.tpm ?? 0,
      delta,
      settlement.leaseId ?? '',
      WINDOW_MS,
      settlement.budgetPeriodId === null ? '0' : String(-delta),
    );
  }

  async renewLease(keyId: string, leaseId: string, nowMs: number, ttlMs: number): Promise<void> {
    await this.#client.oruelRenewLease(this.#keys(keyId, null).leases, leaseId, nowMs + ttlMs, ttlMs);
  }

  /** The connection belongs to the caller, which closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #keys(keyId: string, budgetPeriodId: string | null) {
    const base = `${this.#prefix}{${keyId}}`;
    return {
      requests: `${base}:requests`,
      tokens: `${base}:tokens`,
      leases: `${base}:leases`,
      // Unused by the scripts when there is no budget, but every call names four keys.
      budget: `${base}:budget:${budgetPeriodId ?? 'none'}`,
    };
  }
}

function decisionFrom(reply: number[], plan: AdmissionPlan): StoreDecision {
  const [status, requestsRemaining, requestsResetMs, tokensRemaining, tokensResetMs, retryAfterMs, budgetUsed] =
    reply.map(Number);
  if (status === ADMIT_STATUS.budgetUnknown) return { kind: 'budget-unknown' };
  const views: LimitViews = {
    requests: viewFrom(plan.rpm, requestsRemaining!, requestsResetMs!),
    tokens: viewFrom(plan.tpm, tokensRemaining!, tokensResetMs!),
  };
  switch (status) {
    case ADMIT_STATUS.admitted:
      return { kind: 'admitted', ...views };
    case ADMIT_STATUS.rateLimited:
      return { kind: 'rate-limited', retryAfterMs: retryAfterMs!, ...views };
    case ADMIT_STATUS.concurrencyLimited:
      return { kind: 'concurrency-limited', ...views };
    case ADMIT_STATUS.budgetExhausted:
      return { kind: 'budget-exhausted', usedTokens: budgetUsed!, ...views };
    default:
      throw new Error(`the admission script answered an unknown status ${String(status)}`);
  }
}

function viewFrom(limit: number | null, remaining: number, resetMs: number): BucketView | null {
  return limit === null ? null : { limit, remaining, resetMs };
}

import { adjust, levelAt, take, viewOf, type BucketState, type BucketView } from './bucket-math.js';
import type { AdmissionPlan, BudgetPlan, LimitStore, LimitViews, Settlement, StoreDecision } from './limit-store.js';

interface BudgetCounter {
  periodId: string;
  usedTokens: number;
}

/** Limit state in this process: right for a single replica (state starts afresh at each restart). */
export class MemoryLimitStore implements LimitStore {
  readonly #requestBuckets = new Map<string, BucketState>();
  readonly #tokenBuckets = new Map<string, BucketState>();
  /** key id -> lease id -> expiry (ms). */
  readonly #leases = new Map<string, Map<string, number>>();
  readonly #budgets = new Map<string, BudgetCounter>();

  admit(plan: AdmissionPlan): Promise<StoreDecision> {
    return Promise.resolve(this.#admit(plan));
  }

  #admit(plan: AdmissionPlan): StoreDecision {
    const budget = plan.budget === null ? null : this.#budgetCounter(plan.keyId, plan.budget);
    if (budget === undefined) return { kind: 'budget-unknown' };
    const requestState = this.#requestBuckets.get(plan.keyId) ?? null;
    const tokenState = this.#tokenBuckets.get(plan.keyId) ?? null;
    const views: LimitViews = {
      requests: plan.rpm === null ? null : currentView(requestState, plan.rpm, plan.nowMs),
      tokens: plan.tpm === null ? null : currentView(tokenState, plan.tpm, plan.nowMs),
    };
    // The whole reservation must fit in what is left: "some budget left" would let a request run past it.
    if (budget !== null && plan.budget !== null && budget.usedTokens + plan.tokens > plan.budget.tokens) {
      return { kind: 'budget-exhausted', usedTokens: budget.usedTokens, ...views };
    }
    const requests = plan.rpm === null ? null : take(requestState, plan.rpm, 1, plan.nowMs);
    const tokens = plan.tpm === null ? null : take(tokenState, plan.tpm, plan.tokens, plan.nowMs);
    const retryAfterMs = Math.max(requests?.retryAfterMs ?? 0, tokens?.retryAfterMs ?? 0);
    if (retryAfterMs > 0) return { kind: 'rate-limited', retryAfterMs, ...views };
    const leases = this.#liveLeases(plan.keyId, plan.nowMs);
    if (plan.maxConcurrent !== null && leases.size >= plan.maxConcurrent)
      return { kind: 'concurrency-limited', ...views };

    if (requests !== null) this.#requestBuckets.set(plan.keyId, requests.state);
    if (tokens !== null) this.#tokenBuckets.set(plan.keyId, tokens.state);
    if (plan.maxConcurrent !== null) leases.set(plan.leaseId, plan.nowMs + plan.leaseTtlMs);
    if (budget !== null) budget.usedTokens += plan.tokens;
    return { kind: 'admitted', requests: requests?.view ?? null, tokens: tokens?.view ?? null };
  }

  settle(settlement: Settlement): Promise<void> {
    const { keyId, nowMs } = settlement;
    const delta = settlement.reservedTokens - settlement.actualTokens;
    if (settlement.tpm !== null && delta !== 0) {
      this.#tokenBuckets.set(keyId, adjust(this.#tokenBuckets.get(keyId) ?? null, settlement.tpm, delta, nowMs));
    }
    if (settlement.leaseId !== null) this.#leases.get(keyId)?.delete(settlement.leaseId);
    const budget = this.#budgets.get(keyId);
    if (budget !== undefined && budget.periodId === settlement.budgetPeriodId) budget.usedTokens -= delta;
    return Promise.resolve();
  }

  renewLease(keyId: string, leaseId: string, nowMs: number, ttlMs: number): Promise<void> {
    const leases = this.#leases.get(keyId);
    if (leases?.has(leaseId)) leases.set(leaseId, nowMs + ttlMs);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The counter for the plan's period; undefined when it must be seeded first. */
  #budgetCounter(keyId: string, budget: BudgetPlan): BudgetCounter | undefined {
    const counter = this.#budgets.get(keyId);
    if (counter !== undefined && counter.periodId === budget.periodId) return counter;
    if (budget.usedSeed === undefined) return undefined;
    const seeded = { periodId: budget.periodId, usedTokens: budget.usedSeed };
    this.#budgets.set(keyId, seeded);
    return seeded;
  }

  /** The key's slots, without the expired ones. */
  #liveLeases(keyId: string, nowMs: number): Map<string, number> {
    let leases = this.#leases.get(keyId);
    if (leases === undefined) {
      leases = new Map();
      this.#leases.set(keyId, leases);
    }
    for (const [leaseId, expiresAt] of leases) if (expiresAt <= nowMs) leases.delete(leaseId);
    return leases;
  }
}

function currentView(state: BucketState | null, capacity: number, nowMs: number): BucketView {
  return viewOf(levelAt(state, capacity, nowMs), capacity);
}

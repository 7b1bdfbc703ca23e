import type { Logger } from '../logging/index.js';
import type { AdmissionPlan, LimitStore } from './limit-store.js';

/** A request's admission: the headers to send, and the settlement owed once it ends. */
export interface AdmissionLease {
  /** x-ratelimit-* for the response; empty when the key has no rate limits. */
  readonly headers: Readonly<Record<string, string>>;
  /** Completion tokens per choice the request may generate at most (what its budget reservation covers); null = no ceiling. */
  readonly maxCompletionTokens: number | null;
  /**
   * Charges the tokens really used instead of the reservation and frees the concurrency slot.
   * Runs in the background; never throws; only the first call counts.
   */
  settle(actualTokens: number): void;
}

/** Requests without a key (auth disabled), keys without limits, and admissions the store could not decide. */
export const UNLIMITED_LEASE: AdmissionLease = { headers: {}, maxCompletionTokens: null, settle: () => undefined };

export class StoreLease implements AdmissionLease {
  readonly headers: Readonly<Record<string, string>>;
  readonly maxCompletionTokens: number | null;
  readonly #store: LimitStore;
  readonly #plan: AdmissionPlan;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #renewal: NodeJS.Timeout | null;
  #settled = false;

  constructor(
    store: LimitStore,
    plan: AdmissionPlan,
    headers: Record<string, string>,
    logger: Logger,
    now: () => number,
    maxCompletionTokens: number | null = null,
  ) {
    this.headers = headers;
    this.maxCompletionTokens = maxCompletionTokens;
    this.#store = store;
    this.#plan = plan;
    this.#logger = logger;
    this.#now = now;
    this.#renewal = plan.maxConcurrent === null ? null : this.#renewEvery(plan.leaseTtlMs / 3);
  }

  settle(actualTokens: number): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#renewal !== null) clearInterval(this.#renewal);
    const plan = this.#plan;
    this.#store
      .settle({
        keyId: plan.keyId,
        nowMs: this.#now(),
        tpm: plan.tpm,
        reservedTokens: plan.tokens,
        actualTokens: Math.max(0, Math.round(actualTokens)),
        leaseId: plan.maxConcurrent === null ? null : plan.leaseId,
        budgetPeriodId: plan.budget?.periodId ?? null,
      })
      .catch((error: unknown) => {
        // The slot then frees itself when its TTL passes; the reservation stands in for the real count.
        this.#logger.warn({ err: error, keyId: plan.keyId }, 'could not settle a rate-limit lease');
      });
  }

  /** A long stream keeps its slot: renewed well before the TTL, so one missed renewal does not free it. */
  #renewEvery(intervalMs: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.#store
        .renewLease(this.#plan.keyId, this.#plan.leaseId, this.#now(), this.#plan.leaseTtlMs)
        .catch((error: unknown) => {
          this.#logger.warn({ err: error, keyId: this.#plan.keyId }, 'could not renew a concurrency slot');
        });
    }, intervalMs);
    timer.unref();
    return timer;
  }
}

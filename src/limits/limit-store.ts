import type { BucketView } from './bucket-math.js';

/** One admission, decided atomically: every limit passes and is charged, or nothing is. */
export interface AdmissionPlan {
  keyId: string;
  nowMs: number;
  /** Requests per minute; null = unlimited. */
  rpm: number | null;
  /** Tokens per minute; null = unlimited. */
  tpm: number | null;
  /** Tokens reserved against tpm and the budget, settled with the real count afterwards. */
  tokens: number;
  /** Requests in flight at once; null = unlimited. */
  maxConcurrent: number | null;
  /** Identifies this request's concurrency slot. */
  leaseId: string;
  /** A slot not renewed for this long is freed: a replica that crashed does not hold slots forever. */
  leaseTtlMs: number;
  budget: BudgetPlan | null;
}

export interface BudgetPlan {
  tokens: number;
  /** The period's id (`day:2025-03-01`), start and end. */
  periodId: string;
  periodStartMs: number;
  periodEndMs: number;
  /**
   * Tokens already used this period according to the ledger, for a store that has no counter yet
   * (a new period, a restarted in-memory store). Absent: the store answers `budget-unknown`.
   */
  usedSeed?: number;
}

export interface LimitViews {
  /** null when the dimension is unlimited. */
  requests: BucketView | null;
  tokens: BucketView | null;
}

export type StoreDecision =
  | ({ kind: 'admitted' } & LimitViews)
  | ({ kind: 'rate-limited'; retryAfterMs: number } & LimitViews)
  | ({ kind: 'concurrency-limited' } & LimitViews)
  | ({ kind: 'budget-exhausted'; usedTokens: number } & LimitViews)
  /** The store has no budget counter for this period: ask again with `usedSeed`. */
  | { kind: 'budget-unknown' };

/** What a finished request really used, against what it reserved. */
export interface Settlement {
  keyId: string;
  nowMs: number;
  tpm: number | null;
  reservedTokens: number;
  actualTokens: number;
  /** The slot to free; null when the key has no concurrency limit. */
  leaseId: string | null;
  /** The budget period charged at admission; null without a budget. */
  budgetPeriodId: string | null;
}

/** Where limit state lives: memory for one process, Redis for many replicas. Same semantics. */
export interface LimitStore {
  admit(plan: AdmissionPlan): Promise<StoreDecision>;
  settle(settlement: Settlement): Promise<void>;
  /** Pushes a slot's expiry `ttlMs` past `nowMs`, for requests that run longer than one TTL. */
  renewLease(keyId: string, leaseId: string, nowMs: number, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord } from '../auth/index.js';
import { assertNever } from '../engines/index.js';
import { GatewayError, retryAfterHeaders } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { StoreLease, UNLIMITED_LEASE, type AdmissionLease } from './admission-lease.js';
import { periodWindow } from './budget-period.js';
import type { AdmissionPlan, BudgetPlan, LimitStore, LimitViews, StoreDecision } from './limit-store.js';
import { assertModelAllowed } from './model-access.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { formatResetDuration } from './reset-duration.js';
import { estimateRequestTokens, type EstimatedRequest } from './token-estimate.js';

export type { AdmissionLease } from './admission-lease.js';

export interface AdmissionOptions {
  store: LimitStore;
  /** Tokens a key used since a time, from the ledger: the starting count of a budget the store does not know yet. */
  usedTokensSince: (keyId: string, since: Date) => Promise<number>;
  logger: Logger;
  /** Reserved for the completion when a request sets no max_tokens. */
  defaultCompletionTokens: number;
  /** A concurrency slot not renewed for this long is freed (a crashed replica's slots). */
  leaseTtlMs: number;
  now?: () => number;
  /** Told why each refused request was refused (metrics). */
  onRefusal?: (reason: RefusalReason) => void;
}

export type RefusalReason = 'requests_per_minute' | 'tokens_per_minute' | 'concurrency' | 'budget';

/** A concurrency refusal cannot know when a slot frees; this is a short, honest guess. */
const CONCURRENCY_RETRY_MS = 1_000;
/** While the store fails, one log line per this interval. */
const STORE_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Step 4 of a request: key + request -> an admission lease, or a 429 carrying `Retry-After`,
 * `retry-after-ms` and x-ratelimit-* (computed from the same numbers that decided it).
 */
export class Admission {
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  #lastFailureLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: AdmissionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Throws GatewayError: 404 for a model outside the key's allow-list, 429 when a limit is reached. */
  async admit(key: ApiKeyRecord | null, chat: EstimatedRequest): Promise<AdmissionLease> {
    if (key === null) return UNLIMITED_LEASE;
    assertModelAllowed(key, chat.model);
    if (key.rpm === null && key.tpm === null && key.maxConcurrent === null && key.budget === null)
      return UNLIMITED_LEASE;
    let decided: { decision: StoreDecision; plan: AdmissionPlan };
    try {
      decided = await this.#decide(this.#plan(key, chat));
    } catch (error) {
      return this.#admitWithoutStore(error, key);
    }
    const { decision, plan } = decided;
    switch (decision.kind) {
      case 'admitted':
        return new StoreLease(
          this.#options.store,
          plan,
          rateLimitHeaders(decision),
          this.#options.logger,
          this.#now,
          this.#completionCeiling(key, chat),
        );
      case 'rate-limited':
        this.#options.onRefusal?.(
          decision.requests !== null && decision.requests.remaining < 1 ? 'requests_per_minute' : 'tokens_per_minute',
        );
        throw rateLimitError(key, plan, decision, decision.retryAfterMs);
      case 'concurrency-limited':
        this.#options.onRefusal?.('concurrency');
        throw concurrencyError(key, plan, decision);
      case 'budget-exhausted':
        this.#options.onRefusal?.('budget');
        throw budgetError(key, plan, decision, this.#now());
      case 'budget-unknown':
        throw new Error('the limit store asked for a budget seed it was given');
      default:
        return assertNever(decision);
    }
  }

  /**
   * A budget reserves max_tokens (or the default) per choice; a request without max_tokens must then
   * not generate more than was reserved, or the budget could be overrun by a whole context.
   */
  #completionCeiling(key: ApiKeyRecord, chat: EstimatedRequest): number | null {
    return key.budget === null ? null : (chat.maxTokens ?? this.#options.defaultCompletionTokens);
  }

  #plan(key: ApiKeyRecord, chat: EstimatedRequest): AdmissionPlan {
    const nowMs = this.#now();
    const estimate = estimateRequestTokens(chat, this.#options.defaultCompletionTokens);
    return {
      keyId: key.id,
      nowMs,
      rpm: key.rpm,
      tpm: key.tpm,
      // A reservation larger than the whole bucket could never be admitted: cap it (the settlement
      // charges the real usage, so a large request still pays in full, as debt).
      tokens: key.tpm === null ? estimate : Math.min(estimate, key.tpm),
      maxConcurrent: key.maxConcurrent,
      leaseId: randomUUID(),
      leaseTtlMs: this.#options.leaseTtlMs,
      budget: budgetPlan(key, nowMs),
    };
  }

  /** Asks the store; a budget it has no counter for is seeded from the ledger and asked again. */
  async #decide(plan: AdmissionPlan): Promise<{ decision: StoreDecision; plan: AdmissionPlan }> {
    const decision = await this.#options.store.admit(plan);
    if (decision.kind !== 'budget-unknown' || plan.budget === null) return { decision, plan };
    const seeded = { ...plan, budget: await this.#seedBudget(plan.keyId, plan.budget) };
    return { decision: await this.#options.store.admit(seeded), plan: seeded };
  }

  /** The ledger's count for the period; without it (database down) this request skips the budget check. */
  async #seedBudget(keyId: string, budget: BudgetPlan): Promise<BudgetPlan | null> {
    try {
      return { ...budget, usedSeed: await this.#options.usedTokensSince(keyId, new Date(budget.periodStartMs)) };
    } catch (error) {
      this.#options.logger.warn(
        { err: error, keyId },
        'cannot read budget usage from the ledger; admitting without the budget check',
      );
      return null;
    }
  }

  /**
   * Fails open: a Redis outage must not take the whole API down with it. Limits are unenforced
   * until it is back (logged), which costs less than refusing every customer.
   */
  #admitWithoutStore(error: unknown, key: ApiKeyRecord): AdmissionLease {
    const now = this.#now();
    if (now - this.#lastFailureLogAt >= STORE_FAILURE_LOG_INTERVAL_MS) {
      this.#lastFailureLogAt = now;
      this.#options.logger.error(
        { err: error, keyId: key.id },
        'rate-limit store failed; admitting requests without limits until it recovers',
      );
    }
    return UNLIMITED_LEASE;
  }
}

function budgetPlan(key: ApiKeyRecord, nowMs: number): BudgetPlan | null {
  if (key.budget === null) return null;
  const period = periodWindow(key.budget.period, nowMs);
  return { tokens: key.budget.tokens, periodId: period.id, periodStartMs: period.startMs, periodEndMs: period.endMs };
}

function rateLimitError(key: ApiKeyRecord, plan: AdmissionPlan, views: LimitViews, retryAfterMs: number): GatewayError {
  const exhausted: string[] = [];
  if (views.requests !== null && views.requests.remaining < 1)
    exhausted.push(`requests per min (RPM): Limit ${views.requests.limit}, Requested 1`);
  if (views.tokens !== null && views.tokens.remaining < plan.tokens) {
    exhausted.push(
      `tokens per min (TPM): Limit ${views.tokens.limit}, Remaining ${views.tokens.remaining}, Requested ${plan.tokens}`,
    );
  }
  return new GatewayError(
    'rate_limit_exceeded',
    `Rate limit reached for API key ${key.id} on ${exhausted.join('; ') || 'requests'}. Please try again in ${formatResetDuration(retryAfterMs)}.`,
    { headers: { ...rateLimitHeaders(views), ...retryAfterHeaders(retryAfterMs) } },
  );
}

function concurrencyError(key: ApiKeyRecord, plan: AdmissionPlan, views: LimitViews): GatewayError {
  return new GatewayError(
    'rate_limit_exceeded',
    `Too many concurrent requests for API key ${key.id}: Limit ${plan.maxConcurrent}. Please try again when one of them has finished.`,
    { headers: { ...rateLimitHeaders(views), ...retryAfterHeaders(CONCURRENCY_RETRY_MS) } },
  );
}

/**
 * `x-should-retry: false`: the OpenAI SDKs otherwise retry every 429, and no retry helps before the
 * period ends (or before the request asks for less).
 */
function budgetError(
  key: ApiKeyRecord,
  plan: AdmissionPlan,
  decision: LimitViews & { usedTokens: number },
  nowMs: number,
): GatewayError {
  const budget = plan.budget;
  if (budget === null) throw new Error('the limit store refused a budget the request did not have');
  const untilReset = Math.max(0, budget.periodEndMs - nowMs);
  const period = key.budget?.period ?? 'period';
  const resets = `It resets at ${new Date(budget.periodEndMs).toISOString()}.`;
  const left = budget.tokens - decision.usedTokens;
  const message =
    left <= 0
      ? `API key ${key.id} used its token budget for this ${period} (${decision.usedTokens} of ${budget.tokens} tokens). ${resets}`
      : `API key ${key.id} has ${left} of its ${budget.tokens}-token budget for this ${period} left, and this request may use up to ${plan.tokens} tokens ` +
        `(its prompt, estimated, plus max_tokens for each choice). Lower max_tokens, or wait: ${resets}`;
  return new GatewayError('insufficient_quota', message, {
    headers: { ...rateLimitHeaders(decision), ...retryAfterHeaders(untilReset), 'x-should-retry': 'false' },
  });
}

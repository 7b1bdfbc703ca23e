import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionPlan, LimitStore, Settlement } from '../../src/limits/limit-store.js';
import { MemoryLimitStore } from '../../src/limits/memory-limit-store.js';
import { RedisLimitStore } from '../../src/limits/redis-limit-store.js';
import { openTestRedis } from './redis-test.js';

// The same scenarios on both stores, with the time passed in by hand: the Lua scripts must give
// exactly the numbers of bucket-math.ts, or replicas with Redis would limit differently than one without.

const T0 = Date.parse('2025-03-15T12:00:00Z');
let sequence = 0;

function plan(overrides: Partial<AdmissionPlan> = {}): AdmissionPlan {
  sequence += 1;
  return {
    keyId: `key_${sequence}`,
    nowMs: T0,
    rpm: null,
    tpm: null,
    tokens: 0,
    maxConcurrent: null,
    leaseId: `lease_${sequence}`,
    leaseTtlMs: 60_000,
    budget: null,
    ...overrides,
  };
}

function settlement(from: AdmissionPlan, actualTokens: number, nowMs = from.nowMs): Settlement {
  return {
    keyId: from.keyId,
    nowMs,
    tpm: from.tpm,
    reservedTokens: from.tokens,
    actualTokens,
    leaseId: from.maxConcurrent === null ? null : from.leaseId,
    budgetPeriodId: from.budget?.periodId ?? null,
  };
}

/** Redis expires a budget counter at the period's real end, so the period must lie ahead of the real clock. */
const budget = (tokens: number, usedSeed?: number) => ({
  tokens,
  periodId: 'day:2999-03-15',
  periodStartMs: Date.now(),
  periodEndMs: Date.now() + 86_400_000,
  ...(usedSeed === undefined ? {} : { usedSeed }),
});

const stores: Array<[string, () => Promise<{ store: LimitStore; dispose(): Promise<void> }>]> = [
  ['memory', async () => ({ store: new MemoryLimitStore(), dispose: () => Promise.resolve() })],
  [
    'redis',
    async () => {
      const redis = await openTestRedis();
      return { store: new RedisLimitStore(redis.connection), dispose: redis.dispose };
    },
  ],
];

describe.each(stores)('%s limit store', (_name, open) => {
  let store: LimitStore;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await open());
  });
  afterAll(() => dispose?.());

  it('admits rpm requests, then refuses with the wait until the next one', async () => {
    const first = plan({ rpm: 3 });
    const decisions = [];
    for (let index = 0; index < 4; index += 1) decisions.push(await store.admit({ ...first, leaseId: `l${index}` }));
    expect(decisions.map((decision) => decision.kind)).toEqual(['admitted', 'admitted', 'admitted', 'rate-limited']);
    expect(decisions[0]).toEqual({
      kind: 'admitted',
      requests: { limit: 3, remaining: 2, resetMs: 20_000 },
      tokens: null,
    });
    expect(decisions[3]).toEqual({
      kind: 'rate-limited',
      retryAfterMs: 20_000,
      requests: { limit: 3, remaining: 0, resetMs: 60_000 },
      tokens: null,
    });
    expect((await store.admit({ ...first, nowMs: T0 + 19_999 })).kind).toBe('rate-limited');
    expect(await store.admit({ ...first, nowMs: T0 + 20_000 })).toMatchObject({
      kind: 'admitted',
      requests: { remaining: 0, resetMs: 60_000 },
    });
  });

  it('reserves tokens, refuses a reservation that does not fit, and settles to the real usage', async () => {
    const first = plan({ tpm: 1_000, tokens: 600 });
    expect(await store.admit(first)).toMatchObject({
      kind: 'admitted',
      tokens: { limit: 1_000, remaining: 400, resetMs: 36_000 },
    });
    expect(await store.admit({ ...first, leaseId: 'second' })).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 12_000,
      tokens: { remaining: 400 },
    });
    await store.settle(settlement(first, 100));
    expect(await store.admit({ ...first, leaseId: 'third' })).toMatchObject({
      kind: 'admitted',
      tokens: { remaining: 300 },
    });
  });

  it('charges usage beyond the reservation as debt the refill pays first', async () => {
    const first = plan({ tpm: 1_000, tokens: 100 });
    await store.admit(first);
    await store.settle(settlement(first, 1_500));
    const refused = await store.admit({ ...first, leaseId: 'next', tokens: 10 });
    expect(refused).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 30_600,
      tokens: { remaining: 0, resetMs: 90_000 },
    });
  });

  it('limits concurrency, frees a slot on settlement, and expires slots that are never settled', async () => {
    const first = plan({ maxConcurrent: 2, leaseTtlMs: 10_000 });
    expect((await store.admit({ ...first, leaseId: 'a' })).kind).toBe('admitted');
    expect((await store.admit({ ...first, leaseId: 'b' })).kind).toBe('admitted');
    expect((await store.admit({ ...first, leaseId: 'c' })).kind).toBe('concurrency-limited');
    await store.settle(settlement({ ...first, leaseId: 'a' }, 0));
    expect((await store.admit({ ...first, leaseId: 'c' })).kind).toBe('admitted');
    // 'b' and 'c' were never settled (a crashed replica): their slots end with their TTL...
    expect((await store.admit({ ...first, leaseId: 'd', nowMs: T0 + 9_999 })).kind).toBe('concurrency-limited');
    // ...unless renewed, as a long stream does.
    await store.renewLease(first.keyId, 'c', T0 + 9_000, 10_000);
    expect((await store.admit({ ...first, leaseId: 'd', nowMs: T0 + 10_000 })).kind).toBe('admitted');
    expect((await store.admit({ ...first, leaseId: 'e', nowMs: T0 + 10_000 })).kind).toBe('concurrency-limited');
  });

  it('charges nothing when any limit refuses', async () => {
    const first = plan({ rpm: 5, tpm: 100, tokens: 80, maxConcurrent: 1 });
    expect(await store.admit(first)).toMatchObject({
      kind: 'admitted',
      requests: { remaining: 4 },
      tokens: { remaining: 20 },
    });
    expect((await store.admit({ ...first, leaseId: 'x' })).kind).toBe('rate-limited');
    expect((await store.admit({ ...first, leaseId: 'y', tokens: 0 })).kind).toBe('concurrency-limited');
    await store.settle(settlement(first, 80));
    // Neither refusal took a request unit nor tokens nor a slot.
    expect(await store.admit({ ...first, leaseId: 'z', tokens: 20 })).toMatchObject({
      kind: 'admitted',
      requests: { remaining: 3 },
      tokens: { remaining: 0 },
    });
  });

  it('asks for a budget seed once per period, then counts reservations and settlements', async () => {
    const first = plan({ tokens: 300, budget: budget(1_000) });
    expect(await store.admit(first)).toEqual({ kind: 'budget-unknown' });
    const seeded = { ...first, budget: budget(1_000, 500) };
    expect((await store.admit(seeded)).kind).toBe('admitted');
    // Seeded already: the seed of a second call is ignored, the counter (800) stands. A reservation
    // must fit whole in what is left: 300 does not (800 + 300 > 1000), 200 does, exactly.
    expect(await store.admit({ ...seeded, leaseId: 'second', budget: budget(1_000, 0) })).toMatchObject({
      kind: 'budget-exhausted',
      usedTokens: 800,
    });
    expect((await store.admit({ ...seeded, leaseId: 'second', tokens: 200, budget: budget(1_000, 0) })).kind).toBe(
      'admitted',
    );
    expect(await store.admit({ ...first, leaseId: 'third', tokens: 1 })).toMatchObject({
      kind: 'budget-exhausted',
      usedTokens: 1_000,
    });
    await store.settle(settlement(first, 50));
    await store.settle(settlement({ ...first, leaseId: 'second', tokens: 200 }, 50));
    expect(await store.admit({ ...first, leaseId: 'fourth' })).toMatchObject({ kind: 'admitted' });
    const nextDay = { ...first, leaseId: 'fifth', budget: { ...budget(1_000), periodId: 'day:2999-03-16' } };
    expect(await store.admit(nextDay)).toEqual({ kind: 'budget-unknown' });
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../src/auth/key-store.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { Admission } from '../../src/limits/admission.js';
import type { LimitStore } from '../../src/limits/limit-store.js';
import { MemoryLimitStore } from '../../src/limits/memory-limit-store.js';
import { ModelRegistry } from '../../src/router/model-registry.js';
import { parseChatRequest } from '../../src/validation/parse-chat-request.js';

const T0 = Date.parse('2025-03-15T12:00:00Z');

function keyRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: 'key_test',
    name: 't',
    prefix: 'oruel_abcd',
    models: null,
    rpm: null,
    tpm: null,
    maxConcurrent: null,
    budget: null,
    expiresAt: null,
    revokedAt: null,
    createdAt: new Date(0),
    updatedAt: null,
    ...overrides,
  };
}

const chat = (body: Record<string, unknown> = {}) =>
  parseChatRequest({ model: 'tiny', messages: [{ role: 'user', content: 'abcdefgh' }], max_tokens: 10, ...body });

interface Harness {
  admission: Admission;
  advance(ms: number): void;
  seedCalls: Array<{ keyId: string; since: Date }>;
  logs: string[];
}

function harness(options: { store?: LimitStore; usedTokens?: () => Promise<number> } = {}): Harness {
  let now = T0;
  const seedCalls: Harness['seedCalls'] = [];
  const logs: string[] = [];
  const admission = new Admission({
    store: options.store ?? new MemoryLimitStore(),
    usedTokensSince: (keyId, since) => {
      seedCalls.push({ keyId, since });
      return options.usedTokens?.() ?? Promise.resolve(0);
    },
    logger: { warn: (_obj, msg) => logs.push(msg ?? ''), error: (_obj, msg) => logs.push(msg ?? '') },
    defaultCompletionTokens: 100,
    leaseTtlMs: 60_000,
    now: () => now,
  });
  return { admission, advance: (ms) => (now += ms), seedCalls, logs };
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('Admission', () => {
  it('admits requests without a key or without limits, with no rate-limit headers', async () => {
    const { admission } = harness();
    expect((await admission.admit(null, chat())).headers).toEqual({});
    expect((await admission.admit(keyRecord(), chat())).headers).toEqual({});
  });

  it('refuses a model outside the allow-list exactly as an unknown model (404, same words)', async () => {
    const { admission } = harness();
    const refused = await refusal(admission.admit(keyRecord({ models: ['other'] }), chat()));
    const unknown = (() => {
      try {
        new ModelRegistry().resolve('tiny');
      } catch (error) {
        return error as GatewayError;
      }
      throw new Error('resolve did not throw');
    })();
    expect(refused.status).toBe(404);
    expect(refused.toWire()).toEqual(unknown.toWire());
    await expect(admission.admit(keyRecord({ models: ['tiny'] }), chat())).resolves.toBeDefined();
  });

  it('sends x-ratelimit-* on admission and a 429 with Retry-After and retry-after-ms from the same numbers', async () => {
    const { admission, advance } = harness();
    const key = keyRecord({ rpm: 2, tpm: 1_000 });
    const first = await admission.admit(key, chat());
    // Reservation: 2 (8 characters) + 4 (one message) + 10 (max_tokens) = 16 tokens.
    expect(first.headers).toEqual({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '984',
      'x-ratelimit-reset-tokens': '960ms',
    });
    await admission.admit(key, chat());
    advance(10_000);
    const error = await refusal(admission.admit(key, chat()));
    expect(error.status).toBe(429);
    expect(error.toWire()).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(error.message).toMatch(/requests per min \(RPM\): Limit 2.*try again in 20s/);
    expect(error.headers).toMatchObject({
      'retry-after': '20',
      'retry-after-ms': '20000',
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '50s',
      'x-ratelimit-remaining-tokens': '1000',
    });
  });

  it('settles with the real usage: the unused part of the reservation comes back', async () => {
    const { admission } = harness();
    const key = keyRecord({ tpm: 100 });
    const lease = await admission.admit(key, chat({ max_tokens: 80 }));
    expect(lease.headers['x-ratelimit-remaining-tokens']).toBe('14');
    await expect(admission.admit(key, chat({ max_tokens: 80 }))).rejects.toThrow(/tokens per min/);
    lease.settle(20);
    lease.settle(20);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await admission.admit(key, chat({ max_tokens: 10 }))).headers['x-ratelimit-remaining-tokens']).toBe('64');
  });

  it('caps a reservation larger than the whole tpm, so it is admitted once the bucket is full', async () => {
    const { admission } = harness();
    const lease = await admission.admit(keyRecord({ tpm: 50 }), chat({ max_tokens: 4_000 }));
    expect(lease.headers['x-ratelimit-remaining-tokens']).toBe('0');
  });

  it('refuses concurrent requests beyond the limit until one settles', async () => {
    const { admission } = harness();
    const key = keyRecord({ maxConcurrent: 1 });
    const lease = await admission.admit(key, chat());
    const error = await refusal(admission.admit(key, chat()));
    expect(error.toWire().code).toBe('rate_limit_exceeded');
    expect(error.headers).toMatchObject({ 'retry-after': '1', 'retry-after-ms': '1000' });
    lease.settle(0);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(admission.admit(key, chat())).resolves.toBeDefined();
  });

  it('starts a budget from the ledger once per period and refuses with insufficient_quota, x-should-retry: false', async () => {
    const { admission, seedCalls } = harness({ usedTokens: () => Promise.resolve(950) });
    const key = keyRecord({ rpm: 100, budget: { tokens: 1_000, period: 'month' } });
    const lease = await admission.admit(key, chat());
    expect(seedCalls).toEqual([{ keyId: 'key_test', since: new Date('2025-03-01T00:00:00Z') }]);
    lease.settle(60);
    await new Promise((resolve) => setImmediate(resolve));
    const error = await refusal(admission.admit(key, chat()));
    expect(seedCalls).toHaveLength(1);
    expect(error.status).toBe(429);
    expect(error.toWire()).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(error.message).toMatch(/1010 of 1000 tokens.*2025-04-01T00:00:00.000Z/);
    expect(error.headers).toMatchObject({
      'x-should-retry': 'false',
      'x-ratelimit-limit-requests': '100',
      'retry-after-ms': String(Date.parse('2025-04-01T00:00:00Z') - T0),
    });
  });

  it('admits without the budget check when the ledger cannot be read, and without limits when the store fails', async () => {
    const ledgerDown = harness({ usedTokens: () => Promise.reject(new Error('database down')) });
    await expect(
      ledgerDown.admission.admit(keyRecord({ budget: { tokens: 1, period: 'day' } }), chat()),
    ).resolves.toBeDefined();
    expect(ledgerDown.logs).toContain('cannot read budget usage from the ledger; admitting without the budget check');

    const failing: LimitStore = {
      admit: () => Promise.reject(new Error('redis down')),
      settle: () => Promise.reject(new Error('redis down')),
      renewLease: () => Promise.reject(new Error('redis down')),
      close: () => Promise.resolve(),
    };
    const storeDown = harness({ store: failing });
    const lease = await storeDown.admission.admit(keyRecord({ rpm: 1 }), chat());
    expect(lease.headers).toEqual({});
    await storeDown.admission.admit(keyRecord({ rpm: 1 }), chat());
    expect(storeDown.logs.filter((line) => line.startsWith('rate-limit store failed'))).toHaveLength(1);
  });
});

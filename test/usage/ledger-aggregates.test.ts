import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { SqlLedger } from '../../src/usage/sql-ledger.js';
import { DIALECTS, openTestDatabase } from '../storage/test-databases.js';

const silent = { warn: () => undefined, error: () => undefined };

let sequence = 0;
function record(overrides: Partial<LedgerRecord> & { startedAt: Date }): LedgerRecord {
  sequence += 1;
  return {
    requestId: `req_agg_${sequence.toString().padStart(6, '0')}`,
    keyId: 'key_a',
    model: 'tiny',
    engine: 'llama-cpp/tiny',
    stream: true,
    promptTokens: 10,
    completionTokens: 5,
    usageSource: 'engine',
    finishReason: 'stop',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: 10,
    durationMs: 100,
    finishedAt: new Date(overrides.startedAt.getTime() + 100),
    ...overrides,
  };
}

describe.each(DIALECTS)('ledger aggregates on %s', (dialect) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let ledger: SqlLedger;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(dialect));
  });
  afterAll(() => dispose());
  beforeEach(async () => {
    await database.db.deleteFrom('usage_ledger').execute();
    ledger = new SqlLedger(database.db, { logger: silent });
  });

  it('groups requests, tokens and outcomes per UTC hour or day, key and model', async () => {
    ledger.record(record({ startedAt: new Date('2025-03-01T10:05:00Z'), promptTokens: 1, completionTokens: 2 }));
    ledger.record(
      record({
        startedAt: new Date('2025-03-01T10:59:59.999Z'),
        outcome: 'cancelled',
        promptTokens: 3,
        completionTokens: 4,
      }),
    );
    ledger.record(
      record({ startedAt: new Date('2025-03-01T11:00:00Z'), outcome: 'error', promptTokens: 0, completionTokens: 0 }),
    );
    ledger.record(record({ startedAt: new Date('2025-03-01T11:30:00Z'), keyId: 'key_b', model: 'big' }));
    ledger.record(record({ startedAt: new Date('2025-03-02T00:00:00Z'), keyId: null }));
    await ledger.flush();

    const hourly = await ledger.series({}, 'hour');
    expect(hourly.map((row) => [row.start.toISOString(), row.keyId, row.model, row.requests])).toEqual([
      ['2025-03-01T10:00:00.000Z', 'key_a', 'tiny', 2],
      ['2025-03-01T11:00:00.000Z', 'key_a', 'tiny', 1],
      ['2025-03-01T11:00:00.000Z', 'key_b', 'big', 1],
      ['2025-03-02T00:00:00.000Z', null, 'tiny', 1],
    ]);
    expect(hourly[0]).toMatchObject({
      promptTokens: 4,
      completionTokens: 6,
      totalTokens: 10,
      completed: 1,
      cancelled: 1,
      errors: 0,
    });
    expect(hourly[1]).toMatchObject({ completed: 0, cancelled: 0, errors: 1 });

    const daily = await ledger.series(
      { since: new Date('2025-03-01T00:00:00Z'), until: new Date('2025-03-03T00:00:00Z') },
      'day',
    );
    expect(daily.map((row) => [row.start.toISOString(), row.keyId, row.model, row.requests])).toEqual([
      ['2025-03-01T00:00:00.000Z', 'key_a', 'tiny', 3],
      ['2025-03-01T00:00:00.000Z', 'key_b', 'big', 1],
      ['2025-03-02T00:00:00.000Z', null, 'tiny', 1],
    ]);
    expect(await ledger.series({ keyId: 'key_b' }, 'day')).toHaveLength(1);
    expect(
      await ledger.series({ since: new Date('2025-03-01T11:00:00Z'), until: new Date('2025-03-01T12:00:00Z') }, 'hour'),
    ).toHaveLength(2);
  });

  it('ranks TTFT and duration per model by nearest rank, over completed requests only', async () => {
    // tiny: TTFT 1..100 ms and duration 10 * that; the nearest-rank p50/p90/p99 of 1..100 are 50/90/99.
    const start = Date.parse('2025-04-01T00:00:00Z');
    for (let value = 100; value >= 1; value -= 1) {
      ledger.record(record({ startedAt: new Date(start + value * 1000), ttftMs: value, durationMs: value * 10 }));
    }
    // Not completed, or not streamed to a first token: left out of the figures they cannot describe.
    ledger.record(record({ startedAt: new Date(start), outcome: 'cancelled', ttftMs: 100_000, durationMs: 100_000 }));
    ledger.record(record({ startedAt: new Date(start), outcome: 'error', ttftMs: null, durationMs: 100_000 }));
    ledger.record(record({ startedAt: new Date(start), model: 'big', ttftMs: null, durationMs: 7 }));
    ledger.record(record({ startedAt: new Date(start), model: 'big', ttftMs: 3, durationMs: 9 }));
    await ledger.flush();

    const latency = await ledger.latency({});
    expect(latency).toEqual([
      {
        model: 'big',
        ttftMs: { samples: 1, p50: 3, p90: 3, p99: 3 },
        durationMs: { samples: 2, p50: 7, p90: 9, p99: 9 },
      },
      {
        model: 'tiny',
        ttftMs: { samples: 100, p50: 50, p90: 90, p99: 99 },
        durationMs: { samples: 100, p50: 500, p90: 900, p99: 990 },
      },
    ]);
    const filtered = await ledger.latency({ model: 'tiny', since: new Date(start + 91_000) });
    expect(filtered).toEqual([
      {
        model: 'tiny',
        ttftMs: { samples: 10, p50: 95, p90: 99, p99: 100 },
        durationMs: { samples: 10, p50: 950, p90: 990, p99: 1000 },
      },
    ]);
    expect(await ledger.latency({ keyId: 'nobody' })).toEqual([]);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database, SqliteHandle } from '../../src/storage/database.js';
import type { UsageLedgerTable } from '../../src/storage/schema.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { insertLedgerRows } from '../../src/usage/ledger-queries.js';
import { SqlLedger } from '../../src/usage/sql-ledger.js';
import { sqliteRowWriter, type LedgerRowWriter } from '../../src/usage/sqlite-row-writer.js';
import { openTestDatabase } from '../storage/test-databases.js';

const silent = { warn: () => undefined, error: () => undefined };

function record(index: number, overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  const startedAt = new Date(Date.UTC(2025, 0, 1, 0, 0, index));
  return {
    requestId: `req_${index.toString().padStart(6, '0')}`,
    keyId: index % 2 === 0 ? 'key_a' : null,
    model: 'tiny',
    engine: index % 3 === 0 ? null : 'llama-cpp/tiny',
    stream: index % 2 === 0,
    promptTokens: 10 + index,
    completionTokens: 5 + index,
    usageSource: 'engine',
    finishReason: index % 4 === 0 ? null : 'stop',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: index % 5 === 0 ? null : 12,
    durationMs: 340,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 340),
    ...overrides,
  };
}

describe('sqliteRowWriter', () => {
  let database: Database;
  let dispose: () => Promise<void>;
  let handle: SqliteHandle;
  let fallbackBatches: number;
  let writer: LedgerRowWriter;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase('sqlite'));
    if (database.sqliteHandle === null) throw new Error('a SQLite database exposes its handle');
    handle = database.sqliteHandle;
  });
  afterAll(() => dispose?.());
  beforeEach(async () => {
    await database.db.deleteFrom('usage_ledger').execute();
    fallbackBatches = 0;
    writer = sqliteRowWriter(handle, (rows) => {
      fallbackBatches += 1;
      return insertLedgerRows(database.db, rows);
    });
  });

  it('stores every field as the Kysely insert does, across batches, and skips ids already stored', async () => {
    const records = Array.from({ length: 25 }, (_, index) => record(index));
    const ledger = new SqlLedger(database.db, { logger: silent, batchSize: 7, writeRows: writer });
    for (const entry of records) ledger.record(entry);
    await ledger.close();
    const stored = await new SqlLedger(database.db, { logger: silent }).rows({});
    expect(stored).toEqual([...records].reverse());
    expect(fallbackBatches).toBe(0);

    const before = await database.db.selectFrom('usage_ledger').selectAll().orderBy('request_id').execute();
    await writer(before.slice(0, 5).map((row) => ({ ...row, model: 'changed' })));
    expect(await database.db.selectFrom('usage_ledger').selectAll().orderBy('request_id').execute()).toEqual(before);
  });

  it('stores a batch all or nothing, so a failed batch can be retried whole', async () => {
    const rows = (await ledgerRows([record(1), record(2), record(3)])).map((row, index): UsageLedgerTable =>
      index === 2 ? { ...row, model: null as unknown as string } : row,
    );
    await expect(writer(rows)).rejects.toThrow(/NOT NULL/);
    expect(await countRows()).toBe(0);
    await writer(rows.slice(0, 2));
    expect(await countRows()).toBe(2);
  });

  it('waits for an open Kysely transaction instead of joining it, so its rollback keeps the rows', async () => {
    const rows = await ledgerRows([record(1), record(2)]);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('api_keys').execute();
        const write = writer(rows);
        // The fallback insert queues behind this transaction's connection; it runs once it ends.
        expect(fallbackBatches).toBe(1);
        void write.catch(() => undefined);
        throw new Error('roll back (test)');
      }),
    ).rejects.toThrow('roll back (test)');
    await waitFor(async () => (await countRows()) === 2);
  });

  async function countRows(): Promise<number> {
    const result = await database.db
      .selectFrom('usage_ledger')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(result.n);
  }

  /** Rows exactly as the ledger builds them, taken back from the Kysely path. */
  async function ledgerRows(records: LedgerRecord[]): Promise<UsageLedgerTable[]> {
    const ledger = new SqlLedger(database.db, { logger: silent });
    for (const entry of records) ledger.record(entry);
    await ledger.close();
    const rows = await database.db.selectFrom('usage_ledger').selectAll().orderBy('request_id').execute();
    await database.db.deleteFrom('usage_ledger').execute();
    return rows;
  }
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

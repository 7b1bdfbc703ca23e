import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { postgresRowWriter } from '../../src/usage/postgres-row-writer.js';
import { SqlLedger } from '../../src/usage/sql-ledger.js';
import { openTestDatabase } from '../storage/test-databases.js';

const silent = { warn: () => undefined, error: () => undefined };

function record(index: number): LedgerRecord {
  const startedAt = new Date(Date.UTC(2025, 0, 1, 0, 0, index));
  return {
    requestId: `req_${index.toString().padStart(6, '0')}`,
    keyId: index % 2 === 0 ? 'key_"a",{b}\\c' : null,
    model: 'tiny',
    engine: index % 3 === 0 ? null : 'llama-cpp/tiny',
    stream: index % 2 === 0,
    promptTokens: 10 + index,
    completionTokens: 5 + index,
    usageSource: 'engine',
    finishReason: index % 4 === 0 ? null : 'NULL',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: index % 5 === 0 ? null : 12,
    durationMs: 340,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 4_000_000_000),
  };
}

describe('postgresRowWriter', () => {
  let database: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase('postgres'));
  });
  afterAll(() => dispose?.());
  beforeEach(async () => {
    await database.db.deleteFrom('usage_ledger').execute();
  });

  it('stores every field (nulls, quotes, braces, the text NULL, bigints) across batches and skips ids already stored', async () => {
    const records = Array.from({ length: 25 }, (_, index) => record(index));
    const writer = postgresRowWriter(database.db);
    const ledger = new SqlLedger(database.db, { logger: silent, batchSize: 7, writeRows: writer });
    for (const entry of records) ledger.record(entry);
    await ledger.close();
    expect(await new SqlLedger(database.db, { logger: silent }).rows({})).toEqual([...records].reverse());

    const before = await database.db.selectFrom('usage_ledger').selectAll().orderBy('request_id').execute();
    await writer(before.slice(0, 5).map((row) => ({ ...row, model: 'changed' })));
    expect(await database.db.selectFrom('usage_ledger').selectAll().orderBy('request_id').execute()).toEqual(before);
  });
});

import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { LedgerFlushError, SqlLedger, type Logger } from '../../src/usage/sql-ledger.js';
import { DIALECTS, openTestDatabase } from '../storage/test-databases.js';

/** Counts INSERT statements and fails them on demand, standing in for a database that goes away. */
class InsertSpy implements KyselyPlugin {
  inserts = 0;
  failuresLeft = 0;
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (node.kind !== 'InsertQueryNode') return node;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('database unavailable (test)');
    }
    this.inserts += 1;
    return node;
  }
  transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(result);
  }
}

class RecordingLogger implements Logger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  warn(_obj: object, msg?: string): void {
    this.warnings.push(msg ?? '');
  }
  error(_obj: object, msg?: string): void {
    this.errors.push(msg ?? '');
  }
}

let sequence = 0;
function ledgerRecord(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  sequence += 1;
  const startedAt = overrides.startedAt ?? new Date(Date.UTC(2025, 0, 1, 0, 0, sequence));
  return {
    requestId: `req_${sequence.toString().padStart(6, '0')}`,
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
    ttftMs: 12,
    durationMs: 340,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 340),
    ...overrides,
  };
}

describe.each(DIALECTS)('SqlLedger on %s', (dialect) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let spy: InsertSpy;
  let logger: RecordingLogger;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(dialect));
  });
  afterAll(() => dispose?.());
  beforeEach(async () => {
    await database.db.deleteFrom('usage_ledger').execute();
    spy = new InsertSpy();
    logger = new RecordingLogger();
  });

  const newLedger = (options: { batchSize?: number; maxQueued?: number; flushTimeoutMs?: number } = {}) =>
    new SqlLedger(database.db.withPlugin(spy), { logger, retryBaseMs: 5, retryMaxMs: 20, ...options });

  it('stores every field and returns rows newest first', async () => {
    const ledger = newLedger();
    const first = ledgerRecord({ stream: false, finishReason: null, ttftMs: null, usageSource: 'counted' });
    const second = ledgerRecord({
      keyId: null,
      engine: null,
      outcome: 'error',
      errorCode: 'model_not_found',
      status: 404,
      usageSource: 'none',
      promptTokens: 0,
      completionTokens: 0,
    });
    ledger.record(first);
    ledger.record(second);
    await ledger.flush();
    expect(await ledger.rows({})).toEqual([second, first]);
    expect(await ledger.rows({ limit: 1 })).toEqual([second]);
  });

  it('totals per key and model, with key, model and time filters', async () => {
    const ledger = newLedger();
    ledger.record(
      ledgerRecord({
        keyId: 'key_a',
        model: 'tiny',
        promptTokens: 1,
        completionTokens: 2,
        startedAt: new Date('2025-02-01T00:00:00Z'),
      }),
    );
    ledger.record(
      ledgerRecord({
        keyId: 'key_a',
        model: 'tiny',
        promptTokens: 10,
        completionTokens: 20,
        outcome: 'cancelled',
        startedAt: new Date('2025-02-02T00:00:00Z'),
      }),
    );
    ledger.record(
      ledgerRecord({
        keyId: 'key_a',
        model: 'big',
        promptTokens: 100,
        completionTokens: 200,
        outcome: 'error',
        startedAt: new Date('2025-02-03T00:00:00Z'),
      }),
    );
    ledger.record(
      ledgerRecord({
        keyId: 'key_b',
        model: 'tiny',
        promptTokens: 1000,
        completionTokens: 0,
        startedAt: new Date('2025-02-04T00:00:00Z'),
      }),
    );
    ledger.record(
      ledgerRecord({
        keyId: null,
        model: 'tiny',
        promptTokens: 7,
        completionTokens: 7,
        startedAt: new Date('2025-02-05T00:00:00Z'),
      }),
    );
    await ledger.flush();

    const all = await ledger.totals({});
    expect(all.map((row) => [row.keyId, row.model])).toEqual([
      ['key_a', 'big'],
      ['key_a', 'tiny'],
      ['key_b', 'tiny'],
      [null, 'tiny'],
    ]);
    expect(all[1]).toEqual({
      keyId: 'key_a',
      model: 'tiny',
      requests: 2,
      promptTokens: 11,
      completionTokens: 22,
      totalTokens: 33,
      completed: 1,
      cancelled: 1,
      errors: 0,
    });
    expect(all[0]).toMatchObject({ requests: 1, errors: 1, completed: 0 });

    expect((await ledger.totals({ keyId: 'key_b' })).map((row) => row.keyId)).toEqual(['key_b']);
    expect((await ledger.totals({ model: 'big' })).map((row) => row.model)).toEqual(['big']);
    const window = await ledger.totals({
      since: new Date('2025-02-02T00:00:00Z'),
      until: new Date('2025-02-04T00:00:00Z'),
    });
    expect(window.map((row) => [row.keyId, row.model, row.requests])).toEqual([
      ['key_a', 'big', 1],
      ['key_a', 'tiny', 1],
    ]);
    expect(await ledger.rows({ keyId: 'key_a', model: 'tiny', since: new Date('2025-02-02T00:00:00Z') })).toHaveLength(
      1,
    );
    expect(await ledger.totals({ keyId: 'nobody' })).toEqual([]);
  });

  it('writes many records in batches, off the caller, and one flush waits for them all', async () => {
    const ledger = newLedger({ batchSize: 100 });
    for (let index = 0; index < 250; index += 1) ledger.record(ledgerRecord());
    expect(spy.inserts).toBe(0);
    await ledger.flush();
    expect(spy.inserts).toBe(3);
    const [totals] = await ledger.totals({});
    expect(totals?.requests).toBe(250);
  });

  it('stores a record that arrives just as the writer finishes, without waiting for another record', async () => {
    // Each delay, in microtasks after a flush, lands the record at another point of the writer's
    // wind-down; one of them used to fall between its last look at the queue and its end.
    for (let ticks = 0; ticks < 8; ticks += 1) {
      const ledger = newLedger({ flushTimeoutMs: 1_000 });
      ledger.record(ledgerRecord());
      await ledger.flush();
      for (let tick = 0; tick < ticks; tick += 1) await Promise.resolve();
      ledger.record(ledgerRecord());
      await ledger.flush();
    }
    const [totals] = await newLedger().totals({});
    expect(totals?.requests).toBe(16);
  });

  it('keeps records through failed inserts and stores them once the database is back', async () => {
    spy.failuresLeft = 3;
    const ledger = newLedger();
    const records = [ledgerRecord(), ledgerRecord(), ledgerRecord()];
    for (const record of records) expect(() => ledger.record(record)).not.toThrow();
    await ledger.flush();
    expect(await ledger.rows({})).toEqual(records.reverse());
    expect(logger.warnings).toContain('usage ledger insert failed; will retry');
    expect(logger.warnings).toContain('usage ledger writes recovered');
  });

  it('rejects flush after its timeout while the database keeps failing, and still stores the records later', async () => {
    spy.failuresLeft = Number.POSITIVE_INFINITY;
    const ledger = newLedger({ flushTimeoutMs: 150 });
    ledger.record(ledgerRecord());
    const failure = await ledger.flush().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LedgerFlushError);
    expect((failure as LedgerFlushError).unsaved).toBe(1);
    expect((failure as Error).message).toMatch(/database unavailable/);
    spy.failuresLeft = 0;
    await ledger.flush();
    expect(await ledger.rows({})).toHaveLength(1);
  });

  it('holds at most maxQueued records while failing and reports what it dropped', async () => {
    spy.failuresLeft = Number.POSITIVE_INFINITY;
    const ledger = newLedger({ maxQueued: 3 });
    for (let index = 0; index < 5; index += 1) ledger.record(ledgerRecord());
    spy.failuresLeft = 0;
    await ledger.flush();
    expect(await ledger.rows({})).toHaveLength(3);
    expect(logger.errors).toEqual([
      'usage ledger queue is full; dropping new records until the database recovers',
      'usage ledger dropped records while its queue was full',
    ]);
  });

  it('ignores a request id it already stored', async () => {
    const ledger = newLedger();
    const record = ledgerRecord();
    ledger.record(record);
    ledger.record({ ...record, promptTokens: 999 });
    await ledger.flush();
    ledger.record({ ...record, promptTokens: 555 });
    await ledger.flush();
    expect(await ledger.rows({})).toEqual([record]);
  });

  it('stores awkward values instead of blocking the queue on them', async () => {
    const ledger = newLedger();
    ledger.record(
      ledgerRecord({
        requestId: 'req_awkward',
        model: 'bad\u0000name',
        promptTokens: Number.NaN,
        completionTokens: -3,
        durationMs: 1.6,
      }),
    );
    await ledger.flush();
    const [row] = await ledger.rows({});
    expect(row).toMatchObject({ model: 'badname', promptTokens: 0, completionTokens: 0, durationMs: 2 });
  });

  it('close() stores what is queued and refuses records after it', async () => {
    const ledger = newLedger();
    ledger.record(ledgerRecord());
    await ledger.close();
    expect(await ledger.rows({})).toHaveLength(1);
    ledger.record(ledgerRecord());
    expect(logger.errors).toEqual(['usage ledger is closed; record dropped']);
    await ledger.close();
  });
});

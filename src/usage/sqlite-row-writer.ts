import type { SqliteHandle, UsageLedgerTable } from '../storage/index.js';

/** Writes one batch of ledger rows; rejects if none of them was stored. */
export type LedgerRowWriter = (rows: UsageLedgerTable[]) => Promise<void>;

const COLUMNS = [
  'request_id',
  'key_id',
  'model',
  'engine',
  'stream',
  'prompt_tokens',
  'completion_tokens',
  'usage_source',
  'finish_reason',
  'outcome',
  'error_code',
  'status',
  'ttft_ms',
  'duration_ms',
  'started_at',
  'finished_at',
] as const satisfies readonly (keyof UsageLedgerTable)[];

/**
 * Inserts through better-sqlite3 directly: one statement prepared once and run per row inside one
 * transaction per batch. Kysely compiles a new multi-row INSERT per batch and its driver prepares it
 * each time, which profiling showed as a tenth of the gateway's CPU. A request id already stored is
 * skipped, as with the Kysely insert, so retrying a batch is harmless.
 * While a Kysely transaction holds the connection, better-sqlite3 would nest this batch inside it
 * (a savepoint that its rollback would undo), so then the batch goes through `fallback`, which waits
 * for the connection like any other Kysely query.
 */
export function sqliteRowWriter(handle: SqliteHandle, fallback: LedgerRowWriter): LedgerRowWriter {
  let insertAll: ((rows: UsageLedgerTable[]) => void) | null = null;
  const prepare = (): ((rows: UsageLedgerTable[]) => void) => {
    const statement = handle.prepare(
      `insert into usage_ledger (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) on conflict (request_id) do nothing`,
    );
    return handle.transaction((rows: UsageLedgerTable[]) => {
      for (const row of rows) statement.run(COLUMNS.map((column) => row[column]));
    });
  };
  return async (rows) => {
    if (handle.inTransaction) return fallback(rows);
    // Prepared on first use, so a failure (the database closed) is a failed write the ledger retries.
    insertAll ??= prepare();
    insertAll(rows);
  };
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect } from 'kysely';

export type SqliteHandle = SqliteDatabase.Database;

const IN_MEMORY = ':memory:';
/** Waits this long for another process (the CLI next to a running server) to release its write lock. */
const BUSY_TIMEOUT_MS = 5_000;

/** The dialect for Kysely, and the same better-sqlite3 handle for callers that reuse prepared statements. */
export function createSqliteDialect(path: string): { dialect: SqliteDialect; handle: SqliteHandle } {
  if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  try {
    // WAL lets readers (reports, key listings) run while the server writes the ledger.
    database.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only a power loss may drop the last commits.
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  return { dialect: new SqliteDialect({ database }), handle: database };
}

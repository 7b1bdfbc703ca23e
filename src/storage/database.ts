import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import { DatabaseConfigError, parseDatabaseUrl, redactDatabaseUrl, type DatabaseTarget } from './database-url.js';
import type { Logger } from '../logging/index.js';
import { migrationProvider } from './migrations/index.js';
import type { DatabaseSchema } from './schema.js';
import { createSqliteDialect, type SqliteHandle } from './sqlite.js';

export type { SqliteHandle } from './sqlite.js';

export interface Database {
  db: Kysely<DatabaseSchema>;
  dialect: 'sqlite' | 'postgres';
  /** The better-sqlite3 handle under `db` (SQLite only): for hot writes that reuse one prepared statement. */
  sqliteHandle: SqliteHandle | null;
  /** Closes the connection(s); safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Receives connection problems that happen outside any query (an idle Postgres client dropping). */
  logger?: Logger;
}

/**
 * Opens `sqlite:PATH` (creating the parent directory) or `postgres://...` and brings the schema up
 * to date. Failures are DatabaseConfigError, whose message names the database (password hidden).
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  const { dialect, sqliteHandle } = await createDialect(target, url, options.logger);
  const db = new Kysely<DatabaseSchema>({ dialect });
  try {
    await migrateToLatest(db, target.dialect);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new DatabaseConfigError(`Cannot open the database ${redactDatabaseUrl(url)}: ${describeError(error)}`, {
      cause: error,
    });
  }
  return { db, dialect: target.dialect, sqliteHandle, close: closeOnce(db) };
}

async function createDialect(
  target: DatabaseTarget,
  url: string,
  logger: Logger | undefined,
): Promise<{ dialect: Dialect; sqliteHandle: SqliteHandle | null }> {
  // pg is imported only for a Postgres URL: a SQLite install never loads it.
  if (target.dialect === 'postgres')
    return {
      dialect: (await import('./postgres.js')).createPostgresDialect(target.connectionString, logger),
      sqliteHandle: null,
    };
  try {
    const { dialect, handle } = createSqliteDialect(target.path);
    return { dialect, sqliteHandle: handle };
  } catch (error) {
    throw new DatabaseConfigError(`Cannot open the database ${redactDatabaseUrl(url)}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

async function migrateToLatest(db: Kysely<DatabaseSchema>, dialect: Database['dialect']): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    // Kysely looks for its bookkeeping tables in every Postgres schema unless told which one, so a
    // second application (or test run) in another schema of the same database would confuse it.
    migrationTableSchema: dialect === 'postgres' ? await currentPostgresSchema(db) : undefined,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw failed ? new Error(`migration ${failed} failed: ${describeError(error)}`, { cause: error }) : error;
  }
}

/** The schema unqualified table names resolve to: the first existing one on the search_path. */
async function currentPostgresSchema(db: Kysely<DatabaseSchema>): Promise<string> {
  const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = result.rows[0]?.schema;
  if (!schema) throw new Error('no schema on the search_path exists; create it or fix the search_path');
  return schema;
}

function closeOnce(db: Kysely<DatabaseSchema>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= db.destroy());
}

/** Connection failures to a host with several addresses arrive as an AggregateError with no message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeError).join('; ');
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

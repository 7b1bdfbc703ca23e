import { PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logging/index.js';

const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

export function createPostgresDialect(connectionString: string, logger: Logger | undefined): PostgresDialect {
  const pool = new pg.Pool({
    connectionString,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: numericBigintTypes(),
  });
  // An idle client losing its connection (a Postgres restart) emits 'error' on the pool; without a
  // listener Node would crash the process. The pool replaces the client on the next query.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle Postgres connection failed; it will be replaced'));
  // The pool listens only to idle clients. A client checked out (by a query or a transaction) that
  // loses its connection emits 'error' with no listener, which would crash the process on any
  // Postgres restart; its query fails on its own, and the pool drops the dead client on release.
  pool.on('connect', (client) => {
    client.on('error', (error) =>
      logger?.warn(
        { err: error },
        'Postgres connection lost while in use; the query fails and the connection is replaced',
      ),
    );
  });
  return new PostgresDialect({ pool });
}

/**
 * pg returns int8 (bigint columns, count(*), sum(integer)) as text so no precision is lost beyond
 * 2^53. Our bigints are millisecond timestamps and token counts, far below that, so they are parsed
 * as numbers: the same type SQLite returns. Scoped to this pool, not pg's global parsers.
 */
function numericBigintTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));
  return types;
}

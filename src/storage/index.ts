/** The public face of src/storage/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
export { openDatabase } from './database.js';
export type { Database, SqliteHandle } from './database.js';
export { MAX_INTEGER_COLUMN, toNumber } from './schema.js';
export type { ApiKeysTable, DatabaseSchema, UsageLedgerTable } from './schema.js';
export { withDatabase } from './with-database.js';

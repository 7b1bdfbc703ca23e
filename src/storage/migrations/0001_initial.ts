import type { Kysely } from 'kysely';

// Types stay portable (text, integer, bigint) so this one file runs unchanged on SQLite and
// Postgres; see ../schema.ts for how timestamps, booleans and lists are represented.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('prefix', 'text', (column) => column.notNull())
    .addColumn('key_hash', 'text', (column) => column.notNull())
    .addColumn('models', 'text')
    .addColumn('rpm', 'integer')
    .addColumn('tpm', 'integer')
    .addColumn('max_concurrent', 'integer')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addUniqueConstraint('api_keys_key_hash_unique', ['key_hash'])
    .execute();

  // No foreign key to api_keys: requests without a key (auth disabled) are recorded too, and the
  // ledger must keep accepting rows whatever happens to the keys table.
  await db.schema
    .createTable('usage_ledger')
    .addColumn('request_id', 'text', (column) => column.primaryKey())
    .addColumn('key_id', 'text')
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('engine', 'text')
    .addColumn('stream', 'integer', (column) => column.notNull())
    .addColumn('prompt_tokens', 'integer', (column) => column.notNull())
    .addColumn('completion_tokens', 'integer', (column) => column.notNull())
    .addColumn('usage_source', 'text', (column) => column.notNull())
    .addColumn('finish_reason', 'text')
    .addColumn('outcome', 'text', (column) => column.notNull())
    .addColumn('error_code', 'text')
    .addColumn('status', 'integer', (column) => column.notNull())
    .addColumn('ttft_ms', 'integer')
    .addColumn('duration_ms', 'integer', (column) => column.notNull())
    .addColumn('started_at', 'bigint', (column) => column.notNull())
    .addColumn('finished_at', 'bigint', (column) => column.notNull())
    .execute();

  await db.schema
    .createIndex('usage_ledger_key_started_idx')
    .on('usage_ledger')
    .columns(['key_id', 'started_at'])
    .execute();
  await db.schema
    .createIndex('usage_ledger_model_started_idx')
    .on('usage_ledger')
    .columns(['model', 'started_at'])
    .execute();
  // `oruel usage --since` without a key or model filter scans by time alone.
  await db.schema.createIndex('usage_ledger_started_idx').on('usage_ledger').column('started_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_ledger').execute();
  await db.schema.dropTable('api_keys').execute();
}

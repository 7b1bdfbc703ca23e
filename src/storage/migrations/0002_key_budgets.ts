import type { Kysely } from 'kysely';

// One ADD COLUMN per statement: SQLite accepts no more, and the file stays the same for Postgres.
// `budget_tokens` is bigint: a monthly budget of several billion tokens is plausible, and an
// `integer` column stops at 2^31 on Postgres.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('budget_tokens', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('budget_period', 'text').execute();
  // Rotation and updates are told apart from creation in listings and audits.
  await db.schema.alterTable('api_keys').addColumn('updated_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('updated_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('budget_period').execute();
  await db.schema.alterTable('api_keys').dropColumn('budget_tokens').execute();
}

import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, UsageLedgerTable } from '../storage/index.js';
import type { LedgerRowWriter } from './sqlite-row-writer.js';

/** Each column with its Postgres array type, in table order. */
const COLUMNS = [
  ['request_id', 'text'],
  ['key_id', 'text'],
  ['model', 'text'],
  ['engine', 'text'],
  ['stream', 'integer'],
  ['prompt_tokens', 'integer'],
  ['completion_tokens', 'integer'],
  ['usage_source', 'text'],
  ['finish_reason', 'text'],
  ['outcome', 'text'],
  ['error_code', 'text'],
  ['status', 'integer'],
  ['ttft_ms', 'integer'],
  ['duration_ms', 'integer'],
  ['started_at', 'bigint'],
  ['finished_at', 'bigint'],
] as const satisfies readonly (readonly [keyof UsageLedgerTable, string])[];

const INSERT_HEAD = sql.raw(
  `insert into usage_ledger (${COLUMNS.map(([name]) => name).join(', ')}) select * from unnest(`,
);
const INSERT_TAIL = sql.raw(') on conflict (request_id) do nothing');

/**
 * One INSERT of the same shape for any batch: each column goes as one array parameter, so Kysely
 * compiles 16 parameters instead of a node per value, and Postgres sees the same statement text every
 * time. A request id already stored is skipped, so retrying a batch is harmless.
 */
export function postgresRowWriter(db: Kysely<DatabaseSchema>): LedgerRowWriter {
  return async (rows) => {
    const arrays = COLUMNS.map(([name, type]) => sql`${rows.map((row) => row[name])}::${sql.raw(type)}[]`);
    await sql`${INSERT_HEAD}${sql.join(arrays)}${INSERT_TAIL}`.execute(db);
  };
}

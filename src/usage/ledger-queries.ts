import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { toNumber, type DatabaseSchema, type UsageLedgerTable } from '../storage/index.js';
import type { LedgerRecord, RequestOutcome, UsageQuery, UsageTotalsRow } from './ledger.js';
import { fromLedgerRow } from './ledger-row.js';

export type LedgerExpressions = ExpressionBuilder<DatabaseSchema, 'usage_ledger'>;

/** Inserts rows; a request id already stored is skipped, so retrying a batch is harmless. */
export async function insertLedgerRows(db: Kysely<DatabaseSchema>, rows: UsageLedgerTable[]): Promise<void> {
  await db
    .insertInto('usage_ledger')
    .values(rows)
    .onConflict((conflict) => conflict.column('request_id').doNothing())
    .execute();
}

/** Totals per key and model, ordered by key (requests without a key last) then model. */
export async function selectUsageTotals(db: Kysely<DatabaseSchema>, query: UsageQuery): Promise<UsageTotalsRow[]> {
  const rows = await db
    .selectFrom('usage_ledger')
    .where((eb) => matchesQuery(eb, query))
    .select((eb) => [
      'key_id',
      'model',
      eb.fn.countAll().as('requests'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
      countOutcome(eb, 'completed').as('completed'),
      countOutcome(eb, 'cancelled').as('cancelled'),
      countOutcome(eb, 'error').as('errors'),
    ])
    .groupBy(['key_id', 'model'])
    .execute();
  return rows.map(toTotalsRow).sort(compareTotals);
}

/** Records newest first; `limit` absent = all that match. */
export async function selectLedgerRecords(
  db: Kysely<DatabaseSchema>,
  query: UsageQuery & { limit?: number },
): Promise<LedgerRecord[]> {
  let select = db
    .selectFrom('usage_ledger')
    .selectAll()
    .where((eb) => matchesQuery(eb, query))
    .orderBy('started_at', 'desc')
    .orderBy('request_id', 'desc');
  if (query.limit !== undefined) select = select.limit(validLimit(query.limit));
  return (await select.execute()).map(fromLedgerRow);
}

/** `since` is inclusive, `until` exclusive, both on the request's start time. */
export function matchesQuery(eb: LedgerExpressions, query: UsageQuery): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (query.keyId !== undefined) conditions.push(eb('key_id', '=', query.keyId));
  if (query.model !== undefined) conditions.push(eb('model', '=', query.model));
  if (query.since !== undefined) conditions.push(eb('started_at', '>=', validTime(query.since, 'since')));
  if (query.until !== undefined) conditions.push(eb('started_at', '<', validTime(query.until, 'until')));
  return eb.and(conditions);
}

// Literals, not parameters: Postgres cannot infer a type for parameters inside CASE ... THEN, and sum() needs one.
export function countOutcome(eb: LedgerExpressions, outcome: RequestOutcome) {
  return eb.fn.sum(eb.case().when('outcome', '=', outcome).then(eb.lit(1)).else(eb.lit(0)).end());
}

type Aggregate = number | bigint | string | null;

interface TotalsQueryRow {
  key_id: string | null;
  model: string;
  requests: Aggregate;
  prompt_tokens: Aggregate;
  completion_tokens: Aggregate;
  completed: Aggregate;
  cancelled: Aggregate;
  errors: Aggregate;
}

/** One aggregated row of the ledger as the reports give it (also each bucket of the usage series). */
export function toTotalsRow(row: TotalsQueryRow): UsageTotalsRow {
  const promptTokens = toNumber(row.prompt_tokens);
  const completionTokens = toNumber(row.completion_tokens);
  return {
    keyId: row.key_id,
    model: row.model,
    requests: toNumber(row.requests),
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    completed: toNumber(row.completed),
    cancelled: toNumber(row.cancelled),
    errors: toNumber(row.errors),
  };
}

// Sorted here because SQLite and Postgres disagree on where NULL sorts.
function compareTotals(a: UsageTotalsRow, b: UsageTotalsRow): number {
  if (a.keyId !== b.keyId) {
    if (a.keyId === null) return 1;
    if (b.keyId === null) return -1;
    return a.keyId < b.keyId ? -1 : 1;
  }
  return a.model < b.model ? -1 : a.model > b.model ? 1 : 0;
}

function validTime(date: Date, name: string): number {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new RangeError(`Usage query: ${name} is not a valid date.`);
  return time;
}

function validLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`Usage query: limit must be a positive whole number, got ${limit}.`);
  return limit;
}

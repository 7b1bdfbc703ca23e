import { sql, type Kysely, type SqlBool } from 'kysely';
import { toNumber, type DatabaseSchema } from '../storage/index.js';
import { countOutcome, matchesQuery, toTotalsRow } from './ledger-queries.js';
import type { LatencyPercentiles, LatencyRow, SeriesBucket, UsageQuery, UsageSeriesRow } from './ledger.js';

export const BUCKET_MS: Record<SeriesBucket, number> = { hour: 3_600_000, day: 86_400_000 };
/** The percentiles reported, by nearest rank (a value that was really measured, never interpolated). */
const PERCENTILES = [50, 90, 99] as const;

/**
 * Requests, tokens and outcomes per UTC hour or day, key and model. Timestamps are integer
 * milliseconds in both dialects, so integer division gives the bucket with no date functions.
 */
export async function selectUsageSeries(
  db: Kysely<DatabaseSchema>,
  query: UsageQuery,
  bucket: SeriesBucket,
): Promise<UsageSeriesRow[]> {
  const width = BUCKET_MS[bucket];
  const bucketStart = sql<number>`(started_at / ${sql.lit(width)}) * ${sql.lit(width)}`;
  const rows = await db
    .selectFrom('usage_ledger')
    .where((eb) => matchesQuery(eb, query))
    .select((eb) => [
      bucketStart.as('bucket_start'),
      'key_id',
      'model',
      eb.fn.countAll().as('requests'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
      countOutcome(eb, 'completed').as('completed'),
      countOutcome(eb, 'cancelled').as('cancelled'),
      countOutcome(eb, 'error').as('errors'),
    ])
    .groupBy([bucketStart, 'key_id', 'model'])
    .execute();
  return rows
    .map((row) => ({ start: new Date(toNumber(row.bucket_start)), ...toTotalsRow(row) }))
    .sort(
      (a, b) => a.start.getTime() - b.start.getTime() || compareText(a.keyId, b.keyId) || compareText(a.model, b.model),
    );
}

/**
 * TTFT and total latency percentiles per model, computed by the database in one pass per metric:
 * each row is ranked within its model, and only the rows at the nearest ranks come back, so the
 * answer stays a few rows whatever the range holds. Latency counts completed requests only
 * (a cancelled or failed request's duration says nothing about the model's speed).
 */
export async function selectLatency(db: Kysely<DatabaseSchema>, query: UsageQuery): Promise<LatencyRow[]> {
  const [ttft, duration] = await Promise.all([
    rankedValues(db, query, 'ttft_ms'),
    rankedValues(db, query, 'duration_ms'),
  ]);
  const models = new Set([...ttft.keys(), ...duration.keys()]);
  return [...models].sort(compareText).map((model) => ({
    model,
    ttftMs: ttft.get(model) ?? emptyPercentiles(),
    durationMs: duration.get(model) ?? emptyPercentiles(),
  }));
}

async function rankedValues(
  db: Kysely<DatabaseSchema>,
  query: UsageQuery,
  column: 'ttft_ms' | 'duration_ms',
): Promise<Map<string, LatencyPercentiles>> {
  const ranked = db
    .selectFrom('usage_ledger')
    .where((eb) => eb.and([matchesQuery(eb, query), eb('outcome', '=', 'completed'), eb(column, 'is not', null)]))
    .select([
      'model',
      sql<number>`${sql.ref(column)}`.as('value'),
      sql<number>`row_number() over (partition by model order by ${sql.ref(column)})`.as('rank'),
      sql<number>`count(*) over (partition by model)`.as('samples'),
    ]);
  // Nearest rank: ceil(p/100 * n), in integer arithmetic both dialects agree on.
  const wanted = PERCENTILES.map((p) => sql<SqlBool>`rank = (samples * ${sql.lit(p)} + 99) / 100`);
  const rows = await db
    .selectFrom(ranked.as('ranked'))
    .selectAll()
    .where(sql<SqlBool>`${sql.join(wanted, sql` or `)}`)
    .execute();
  const byModel = new Map<string, LatencyPercentiles>();
  for (const row of rows) {
    const samples = toNumber(row.samples);
    const rank = toNumber(row.rank);
    const entry = byModel.get(row.model) ?? emptyPercentiles();
    entry.samples = samples;
    for (const p of PERCENTILES) {
      if (rank === Math.floor((samples * p + 99) / 100)) entry[`p${p}`] = toNumber(row.value);
    }
    byModel.set(row.model, entry);
  }
  return byModel;
}

function emptyPercentiles(): LatencyPercentiles {
  return { samples: 0, p50: null, p90: null, p99: null };
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

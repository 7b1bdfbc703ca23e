import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../errors/index.js';
import { BUCKET_MS, formatTotals, REPORT_FORMATS } from '../../usage/index.js';
import type { LatencyRow, Ledger, UsageQuery, UsageSeriesRow } from '../../usage/index.js';

const CONTENT_TYPES = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  table: 'text/plain; charset=utf-8',
} as const;

/** The CLI's wording for the same mistake: what is accepted, with examples (zod alone says "Invalid input"). */
const dateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error:
    'must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z (a date alone is midnight UTC)',
});
export const usageQuerySchema = z.object({
  keyId: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  since: dateTime.optional(),
  until: dateTime.optional(),
  format: z.enum(REPORT_FORMATS).default('json'),
});
const filterSchema = usageQuerySchema.omit({ format: true });
const seriesQuerySchema = filterSchema.extend({ bucket: z.enum(['hour', 'day']).default('hour') });

/** A series answers at most this many buckets (hourly: ~83 days; daily: ~5.5 years). */
const MAX_SERIES_BUCKETS = 2000;
/** Without `since`, a series covers this many buckets back from `until` (or now). */
const DEFAULT_SERIES_BUCKETS = { hour: 48, day: 30 } as const;

/**
 * GET /usage?keyId=&model=&since=&until=&format=json|csv|table: requests and tokens per key and
 * model over a time range (`since` inclusive, `until` exclusive, on the request's start time).
 * GET /usage/series?bucket=hour|day&...: the same per UTC hour or day. GET /usage/latency?...:
 * nearest-rank TTFT and duration percentiles per model, over completed requests.
 */
export function registerAdminUsageRoutes(app: FastifyInstance, ledger: Ledger): void {
  app.get('/usage', async (request, reply) => {
    const { format, ...filters } = parseQuery(usageQuerySchema, request.query);
    const query = usageQuery(filters);
    const totals = await ledger.totals(query);
    const body =
      format === 'json'
        ? JSON.stringify({ object: 'usage_report', ...rangeOf(query), data: totals })
        : formatTotals(totals, format);
    return reply.type(CONTENT_TYPES[format]).send(body);
  });

  // The aggregates the usage dashboard charts: the database groups and ranks, the browser only draws.
  app.get('/usage/series', async (request) => {
    const { bucket, ...filters } = parseQuery(seriesQuerySchema, request.query);
    const query = seriesRange(usageQuery(filters), BUCKET_MS[bucket], DEFAULT_SERIES_BUCKETS[bucket]);
    const rows = await ledger.series(query, bucket);
    return { object: 'usage_series', bucket, ...rangeOf(query), data: rows.map(seriesView) };
  });

  app.get('/usage/latency', async (request) => {
    const query = usageQuery(parseQuery(filterSchema, request.query));
    const rows: LatencyRow[] = await ledger.latency(query);
    return { object: 'usage_latency', ...rangeOf(query), data: rows };
  });
}

function parseQuery<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.map(String).join('.') || null;
  const given = param ? (input as Record<string, unknown>)[param] : undefined;
  const got = typeof given === 'string' ? `, got "${given.slice(0, 100)}"` : '';
  throw new GatewayError(
    'invalid_request',
    `Invalid ${param ? `'${param}'` : 'query'}: ${issue?.message ?? 'invalid'}${got}.`,
    { param },
  );
}

/** Fills in a missing end of the range and refuses one that would answer too many buckets. */
function seriesRange(query: UsageQuery, bucketMs: number, defaultBuckets: number): UsageQuery {
  const until = query.until ?? new Date();
  const since = query.since ?? new Date(until.getTime() - defaultBuckets * bucketMs);
  if (since.getTime() >= until.getTime())
    throw new GatewayError('invalid_request', "'since' must be earlier than 'until'.", { param: 'since' });
  const buckets = Math.ceil((until.getTime() - since.getTime()) / bucketMs);
  if (buckets > MAX_SERIES_BUCKETS) {
    throw new GatewayError(
      'invalid_request',
      `The range spans ${buckets} buckets; at most ${MAX_SERIES_BUCKETS} are allowed. Use a shorter range or bucket=day.`,
      {
        param: 'since',
      },
    );
  }
  return { ...query, since, until };
}

function seriesView({ start, ...totals }: UsageSeriesRow) {
  return { start: start.toISOString(), ...totals };
}

function usageQuery(filters: { keyId?: string; model?: string; since?: string; until?: string }): UsageQuery {
  const query: UsageQuery = {};
  if (filters.keyId !== undefined) query.keyId = filters.keyId;
  if (filters.model !== undefined) query.model = filters.model;
  if (filters.since !== undefined) query.since = toDate(filters.since);
  if (filters.until !== undefined) query.until = toDate(filters.until);
  if (query.since && query.until && query.since.getTime() >= query.until.getTime()) {
    throw new GatewayError('invalid_request', "'since' must be earlier than 'until'.", { param: 'since' });
  }
  return query;
}

function rangeOf(query: UsageQuery): {
  keyId: string | null;
  model: string | null;
  since: string | null;
  until: string | null;
} {
  return {
    keyId: query.keyId ?? null,
    model: query.model ?? null,
    since: query.since?.toISOString() ?? null,
    until: query.until?.toISOString() ?? null,
  };
}

function toDate(text: string): Date {
  return new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
}

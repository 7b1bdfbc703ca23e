import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Ledger, UsageQuery } from '../../usage/ledger.js';
import { formatTotals, REPORT_FORMATS } from '../../usage/report-format.js';

const CONTENT_TYPES = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', table: 'text/plain; charset=utf-8' } as const;

const dateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
export const usageQuerySchema = z.object({
  keyId: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  since: dateTime.optional(),
  until: dateTime.optional(),
  format: z.enum(REPORT_FORMATS).default('json'),
});

/**
 * GET /usage?keyId=&model=&since=&until=&format=json|csv|table: requests and tokens per key and
 * model over a time range (`since` inclusive, `until` exclusive, on the request's start time).
 */
export function registerAdminUsageRoutes(app: FastifyInstance, ledger: Ledger): void {
  app.get('/usage', async (request, reply) => {
    const parsed = usageQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.map(String).join('.') || null;
      throw new GatewayError('invalid_request', `Invalid ${param ? `'${param}'` : 'query'}: ${issue?.message ?? 'invalid'}.`, { param });
    }
    const { format, ...filters } = parsed.data;
    const query = usageQuery(filters);
    const totals = await ledger.totals(query);
    const body = format === 'json' ? JSON.stringify({ object: 'usage_report', ...rangeOf(query), data: totals }) : formatTotals(totals, format);
    return reply.type(CONTENT_TYPES[format]).send(body);
  });
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

function rangeOf(query: UsageQuery): { keyId: string | null; model: string | null; since: string | null; until: string | null } {
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

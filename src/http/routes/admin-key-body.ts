import { z } from 'zod';
import { BUDGET_PERIODS, type KeyPatch, type NewKeyInput } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import { formatPath } from '../../validation/index.js';

// Shapes only: ranges (rpm >= 1, name length, ...) are checked by the key store, one rule set for
// the API and the CLI. Unknown fields are refused, unlike on the public API: an admin typing
// `rmp` must learn that no limit was set.

const limit = z.number().nullable().optional();
/** The CLI's wording for the same mistake: what is accepted, with examples (zod alone says "Invalid input"). */
const dateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error:
    'must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z (a date alone is midnight UTC)',
});

const keyFields = {
  models: z.array(z.string()).nullable().optional(),
  rpm: limit,
  tpm: limit,
  maxConcurrent: limit,
  budget: z
    .strictObject({ tokens: z.number(), period: z.enum(BUDGET_PERIODS) })
    .nullable()
    .optional(),
  expiresAt: dateTime.nullable().optional(),
};

export const createKeyBodySchema = z.strictObject({ name: z.string(), ...keyFields });
export const patchKeyBodySchema = z.strictObject({ name: z.string().optional(), ...keyFields });

/** POST /v1/admin/keys body -> NewKeyInput; a key cannot be created already expired. */
export function parseCreateBody(body: unknown, now: Date): NewKeyInput {
  const parsed = parseOrThrow(createKeyBodySchema, body);
  const input: NewKeyInput = { ...parsed, expiresAt: toDate(parsed.expiresAt) };
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
    throw new GatewayError('invalid_request', `Invalid 'expiresAt': ${parsed.expiresAt} is not in the future.`, {
      param: 'expiresAt',
    });
  }
  return input;
}

/** PATCH /v1/admin/keys/{id} body -> KeyPatch (absent = unchanged, null = cleared). */
export function parsePatchBody(body: unknown): KeyPatch {
  const parsed = parseOrThrow(patchKeyBodySchema, body);
  return { ...parsed, expiresAt: toDate(parsed.expiresAt) };
}

function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue ? formatPath(issue.path) || null : null;
  const detail =
    issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
  return throwInvalid(param, detail);
}

function throwInvalid(param: string | null, detail: string): never {
  throw new GatewayError('invalid_request', `Invalid ${param ? `'${param}'` : 'request body'}: ${detail}.`, { param });
}

function toDate(text: string | null | undefined): Date | null | undefined {
  if (text === undefined || text === null) return text;
  return new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
}

/**
 * Narrowing helpers for upstream JSON. Upstream chunks are read field by field with these rather
 * than validated against a schema: a schema per chunk would cost more than the rest of the path,
 * and every dialect adds fields of its own that must simply be ignored.
 */
export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : null;
}

export function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function asCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

/** JSON.parse that answers null instead of throwing (a truncated or non-JSON body). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

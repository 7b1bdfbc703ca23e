/**
 * Column types as both dialects return them. Portable choices, made once in the migrations:
 * timestamps are integer milliseconds since the epoch (`bigint`; the Postgres pool parses int8 as a
 * number), booleans are 0/1 integers and lists are JSON text. Comparisons, ordering and indexes then
 * behave the same on SQLite and Postgres, with no time-zone or text-format ambiguity.
 */
export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  key_hash: string;
  /** JSON array of model names; null = all models. */
  models: string | null;
  rpm: number | null;
  tpm: number | null;
  max_concurrent: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
  /** Tokens allowed per budget period; null = no budget. */
  budget_tokens: number | null;
  /** `day`, `week` or `month` (UTC calendar periods); null when there is no budget. */
  budget_period: string | null;
  /** Last update or rotation; null until the first one. */
  updated_at: number | null;
}

export interface UsageLedgerTable {
  request_id: string;
  key_id: string | null;
  model: string;
  engine: string | null;
  /** 1 for a streamed response, 0 otherwise. */
  stream: number;
  prompt_tokens: number;
  completion_tokens: number;
  usage_source: string;
  finish_reason: string | null;
  outcome: string;
  error_code: string | null;
  status: number;
  ttft_ms: number | null;
  duration_ms: number;
  started_at: number;
  finished_at: number;
}

export interface DatabaseSchema {
  api_keys: ApiKeysTable;
  usage_ledger: UsageLedgerTable;
}

/** Postgres `integer` is 32-bit; values beyond it are refused, so writers clamp or validate. */
export const MAX_INTEGER_COLUMN = 2_147_483_647;

/** Aggregates come back as number, bigint or numeric text depending on dialect and driver. */
export function toNumber(value: number | bigint | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value);
}

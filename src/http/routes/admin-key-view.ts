import type { ApiKeyRecord, TokenBudget } from '../../auth/index.js';

/** A key as the admin API shows it: never the hash; the key itself only at creation and rotation. */
export interface KeyView {
  object: 'api_key';
  id: string;
  name: string;
  prefix: string;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  budget: TokenBudget | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string | null;
}

export function keyView(record: ApiKeyRecord): KeyView {
  return {
    object: 'api_key',
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    models: record.models,
    rpm: record.rpm,
    tpm: record.tpm,
    maxConcurrent: record.maxConcurrent,
    budget: record.budget,
    expiresAt: isoOrNull(record.expiresAt),
    revokedAt: isoOrNull(record.revokedAt),
    createdAt: record.createdAt.toISOString(),
    updatedAt: isoOrNull(record.updatedAt),
  };
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

import type { ApiKeysTable } from '../storage/index.js';
import { isBudgetPeriod } from './key-input.js';
import type { ApiKeyRecord, KeyPatch, TokenBudget } from './key-store.js';

export function toKeyRow(record: ApiKeyRecord, keyHash: string): ApiKeysTable {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    key_hash: keyHash,
    models: modelsColumn(record.models),
    rpm: record.rpm,
    tpm: record.tpm,
    max_concurrent: record.maxConcurrent,
    budget_tokens: record.budget?.tokens ?? null,
    budget_period: record.budget?.period ?? null,
    expires_at: record.expiresAt?.getTime() ?? null,
    revoked_at: record.revokedAt?.getTime() ?? null,
    created_at: record.createdAt.getTime(),
    updated_at: record.updatedAt?.getTime() ?? null,
  };
}

/** The columns a (validated) patch changes. */
export function patchColumns(patch: KeyPatch): Partial<ApiKeysTable> {
  const columns: Partial<ApiKeysTable> = {};
  if (patch.name !== undefined) columns.name = patch.name;
  if (patch.models !== undefined) columns.models = modelsColumn(patch.models);
  if (patch.rpm !== undefined) columns.rpm = patch.rpm;
  if (patch.tpm !== undefined) columns.tpm = patch.tpm;
  if (patch.maxConcurrent !== undefined) columns.max_concurrent = patch.maxConcurrent;
  if (patch.budget !== undefined) {
    columns.budget_tokens = patch.budget?.tokens ?? null;
    columns.budget_period = patch.budget?.period ?? null;
  }
  if (patch.expiresAt !== undefined) columns.expires_at = patch.expiresAt?.getTime() ?? null;
  return columns;
}

/** The record without its hash: the hash never leaves the store. */
export function fromKeyRow(row: ApiKeysTable): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    models: row.models === null ? null : parseModels(row.id, row.models),
    rpm: row.rpm,
    tpm: row.tpm,
    maxConcurrent: row.max_concurrent,
    budget: budgetFrom(row),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    createdAt: new Date(row.created_at),
    updatedAt: row.updated_at === null ? null : new Date(row.updated_at),
  };
}

function modelsColumn(models: string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

function budgetFrom(row: ApiKeysTable): TokenBudget | null {
  if (row.budget_tokens === null || row.budget_period === null) return null;
  if (!isBudgetPeriod(row.budget_period))
    throw new Error(`api_keys.budget_period of key ${row.id} is unknown: "${row.budget_period}"`);
  return { tokens: Number(row.budget_tokens), period: row.budget_period };
}

function parseModels(id: string, text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((model) => typeof model === 'string')) {
    throw new Error(`api_keys.models of key ${id} is not a JSON array of strings`);
  }
  return value;
}

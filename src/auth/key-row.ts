import type { ApiKeysTable } from '../storage/schema.js';
import type { ApiKeyRecord } from './key-store.js';

export function toKeyRow(record: ApiKeyRecord, keyHash: string): ApiKeysTable {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    key_hash: keyHash,
    models: record.models === null ? null : JSON.stringify(record.models),
    rpm: record.rpm,
    tpm: record.tpm,
    max_concurrent: record.maxConcurrent,
    expires_at: record.expiresAt?.getTime() ?? null,
    revoked_at: record.revokedAt?.getTime() ?? null,
    created_at: record.createdAt.getTime(),
  };
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
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    createdAt: new Date(row.created_at),
  };
}

function parseModels(id: string, text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((model) => typeof model === 'string')) {
    throw new Error(`api_keys.models of key ${id} is not a JSON array of strings`);
  }
  return value;
}

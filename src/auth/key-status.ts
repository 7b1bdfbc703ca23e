import type { ApiKeyRecord } from './key-store.js';

/** Neither revoked nor past its expiry (a key expires at `expiresAt`, not after it). */
export function isKeyActive(record: ApiKeyRecord, now: Date): boolean {
  if (record.revokedAt !== null) return false;
  return record.expiresAt === null || record.expiresAt.getTime() > now.getTime();
}

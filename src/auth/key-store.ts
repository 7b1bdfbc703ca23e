import { OperatorError } from '../errors/index.js';

/** Calendar periods (UTC) a token budget can cover; the budget starts afresh at each period's start. */
export const BUDGET_PERIODS = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

export interface TokenBudget {
  /** Prompt plus completion tokens allowed per period. */
  tokens: number;
  period: BudgetPeriod;
}

/** An API key as stored: never the key itself, only its hash (kept inside the store). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** First characters of the key (`oruel_AbCd`), safe to show in listings. */
  prefix: string;
  /** Models the key may use; null = all. */
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  budget: TokenBudget | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  /** Last update or rotation; null until the first one. */
  updatedAt: Date | null;
}

export interface NewKeyInput {
  name: string;
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  maxConcurrent?: number | null;
  budget?: TokenBudget | null;
  expiresAt?: Date | null;
}

/** Fields to change; absent = unchanged, null = cleared (no limit, all models, never expires). */
export type KeyPatch = Partial<NewKeyInput>;

export interface KeyStore {
  /** Creates a key; the plain key is returned this once and never stored. */
  create(input: NewKeyInput): Promise<{ record: ApiKeyRecord; key: string }>;
  /** The active (not revoked, not expired) key whose hash matches, or null. */
  verify(presentedKey: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  /** Any key by id, revoked and expired ones included; null when none has it. */
  get(id: string): Promise<ApiKeyRecord | null>;
  /** The updated record; null when no such key exists. Throws InvalidKeyInputError on bad values. */
  update(id: string, patch: KeyPatch): Promise<ApiKeyRecord | null>;
  /**
   * Gives the key a new secret (same id and settings); the old one stops working. Null when no such
   * key exists; throws KeyRevokedError for a revoked key, which stays revoked.
   */
  rotate(id: string): Promise<{ record: ApiKeyRecord; key: string } | null>;
  /** False when no such key exists. */
  revoke(id: string): Promise<boolean>;
  /** Number of keys that are neither revoked nor expired. */
  countActive(): Promise<number>;
}

/** A revoked key cannot be rotated back to life: create a new key instead. */
export class KeyRevokedError extends OperatorError {
  constructor(readonly keyId: string) {
    super(`The API key ${keyId} is revoked; a revoked key cannot be rotated. Create a new key instead.`);
  }
}

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
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface NewKeyInput {
  name: string;
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  maxConcurrent?: number | null;
  expiresAt?: Date | null;
}

export interface KeyStore {
  /** Creates a key; the plain key is returned this once and never stored. */
  create(input: NewKeyInput): Promise<{ record: ApiKeyRecord; key: string }>;
  /** The active (not revoked, not expired) key whose hash matches, or null. */
  verify(presentedKey: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  /** False when no such key exists. */
  revoke(id: string): Promise<boolean>;
  /** Number of keys that are neither revoked nor expired. */
  countActive(): Promise<number>;
}

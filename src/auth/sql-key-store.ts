import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { toNumber, type DatabaseSchema } from '../storage/index.js';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from './api-key.js';
import { randomBase62 } from '../ids/index.js';
import { validateKeyInput, validateKeyPatch } from './key-input.js';
import { fromKeyRow, patchColumns, toKeyRow } from './key-row.js';
import { isKeyActive } from './key-status.js';
import { KeyRevokedError, type ApiKeyRecord, type KeyPatch, type KeyStore, type NewKeyInput } from './key-store.js';

export interface SqlKeyStoreOptions {
  /** The clock deciding expiry; tests pass a fixed one. */
  now?: () => Date;
}

/** Keys in the `api_keys` table. Only SHA-256 hashes are stored; plain keys are never logged. */
export class SqlKeyStore implements KeyStore {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #now: () => Date;

  constructor(db: Kysely<DatabaseSchema>, options: SqlKeyStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
  }

  /** Throws InvalidKeyInputError when a field is out of range. */
  async create(input: NewKeyInput): Promise<{ record: ApiKeyRecord; key: string }> {
    const valid = validateKeyInput(input);
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      id: newKeyId(),
      prefix: apiKeyDisplayPrefix(key),
      ...valid,
      revokedAt: null,
      createdAt: this.#now(),
      updatedAt: null,
    };
    await this.#db
      .insertInto('api_keys')
      .values(toKeyRow(record, hashApiKey(key)))
      .execute();
    return { record, key };
  }

  async verify(presentedKey: string): Promise<ApiKeyRecord | null> {
    // Every presented value is hashed and looked up, well-formed or not, so the time to fail does
    // not depend on what was wrong with it.
    const presentedHash = hashApiKey(presentedKey);
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', presentedHash)
      .executeTakeFirst();
    if (row === undefined || !hashesEqual(row.key_hash, presentedHash)) return null;
    const record = fromKeyRow(row);
    return isKeyActive(record, this.#now()) ? record : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(fromKeyRow);
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : fromKeyRow(row);
  }

  /** Throws InvalidKeyInputError when a field is out of range; an empty patch only reads the key. */
  async update(id: string, patch: KeyPatch): Promise<ApiKeyRecord | null> {
    const columns = patchColumns(validateKeyPatch(patch));
    if (Object.keys(columns).length > 0) {
      await this.#db
        .updateTable('api_keys')
        .set({ ...columns, updated_at: this.#now().getTime() })
        .where('id', '=', id)
        .execute();
    }
    return this.get(id);
  }

  async rotate(id: string): Promise<{ record: ApiKeyRecord; key: string } | null> {
    const key = generateApiKey();
    // `revoked_at is null` in the same statement: a revocation racing the rotation wins.
    const result = await this.#db
      .updateTable('api_keys')
      .set({ key_hash: hashApiKey(key), prefix: apiKeyDisplayPrefix(key), updated_at: this.#now().getTime() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const record = await this.get(id);
    if (record === null) return null;
    if (result.numUpdatedRows === 0n) throw new KeyRevokedError(id);
    return { record, key };
  }

  /** Revoking a key twice keeps the first revocation time and still returns true. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: this.#now().getTime() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return true;
    const existing = await this.#db.selectFrom('api_keys').select('id').where('id', '=', id).executeTakeFirst();
    return existing !== undefined;
  }

  async countActive(): Promise<number> {
    const now = this.#now().getTime();
    const result = await this.#db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll().as('active'))
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow();
    return toNumber(result.active);
  }
}

function newKeyId(): string {
  return `key_${randomBase62(16)}`;
}

/** The index found the row; this comparison is constant-time so it adds no timing signal of its own. */
function hashesEqual(storedHex: string, presentedHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const presented = Buffer.from(presentedHex, 'hex');
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}

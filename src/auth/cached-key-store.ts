import type { Logger } from '../logging/index.js';
import { hashApiKey } from './api-key.js';
import type { KeyChangeFeed } from './key-change-feed.js';
import { isKeyActive } from './key-status.js';
import type { ApiKeyRecord, KeyPatch, KeyStore, NewKeyInput } from './key-store.js';

export interface CachedKeyStoreOptions {
  feed: KeyChangeFeed;
  logger: Logger;
  /** How long a verification is trusted without asking the database again (bounds revocation delay without a feed). */
  ttlMs?: number;
  /** How long a known answer may still be used while the database fails, so an outage does not refuse every request. */
  staleIfErrorMs?: number;
  /** A database check slower than this counts as failed (and may fall back to the stale answer). */
  lookupTimeoutMs?: number;
  /** Entries kept; the oldest go first. Bounds memory under a flood of random keys. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  /** null: no active key has this hash. */
  record: ApiKeyRecord | null;
  freshUntil: number;
  staleUntil: number;
}

const DEFAULTS = { ttlMs: 2_000, staleIfErrorMs: 10 * 60_000, lookupTimeoutMs: 2_000, maxEntries: 10_000 };

/**
 * A KeyStore that remembers verifications for `ttlMs`, by key hash (the plain key is never kept),
 * and forgets a key at once when the feed says it changed on any replica. The answer for a hash
 * does not depend on which characters of a key are wrong, so the cache adds no timing signal
 * about the key's content: a hit only says that this exact value was presented moments ago.
 */
export class CachedKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #feed: KeyChangeFeed;
  readonly #logger: Logger;
  readonly #settings: typeof DEFAULTS;
  readonly #now: () => number;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #unsubscribe: () => void;
  /** Bumped by every invalidation: a lookup that started before one must not cache its (maybe stale) answer. */
  #generation = 0;

  constructor(inner: KeyStore, options: CachedKeyStoreOptions) {
    this.#inner = inner;
    this.#feed = options.feed;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#settings = {
      ttlMs: options.ttlMs ?? DEFAULTS.ttlMs,
      staleIfErrorMs: options.staleIfErrorMs ?? DEFAULTS.staleIfErrorMs,
      lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULTS.lookupTimeoutMs,
      maxEntries: options.maxEntries ?? DEFAULTS.maxEntries,
    };
    this.#unsubscribe = this.#feed.subscribe((keyId) => this.#forget(keyId));
  }

  async verify(presentedKey: string): Promise<ApiKeyRecord | null> {
    const hash = hashApiKey(presentedKey);
    const cached = this.#entries.get(hash);
    const now = this.#now();
    if (cached !== undefined && now < cached.freshUntil) return activeOrNull(cached.record, now);
    const generation = this.#generation;
    let record: ApiKeyRecord | null;
    try {
      record = await withTimeout(this.#inner.verify(presentedKey), this.#settings.lookupTimeoutMs);
    } catch (error) {
      if (cached === undefined || this.#now() >= cached.staleUntil) throw error;
      this.#logger.warn(
        { err: error, keyId: cached.record?.id },
        'key lookup failed; using the answer cached before the failure',
      );
      return activeOrNull(cached.record, this.#now());
    }
    if (generation === this.#generation) this.#remember(hash, record);
    return record;
  }

  create(input: NewKeyInput): Promise<{ record: ApiKeyRecord; key: string }> {
    // A new key's hash cannot be in the cache: nobody could present the key before it existed.
    return this.#inner.create(input);
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.#inner.list();
  }

  get(id: string): Promise<ApiKeyRecord | null> {
    return this.#inner.get(id);
  }

  countActive(): Promise<number> {
    return this.#inner.countActive();
  }

  async update(id: string, patch: KeyPatch): Promise<ApiKeyRecord | null> {
    const record = await this.#inner.update(id, patch);
    if (record !== null) await this.#announce(id);
    return record;
  }

  async rotate(id: string): Promise<{ record: ApiKeyRecord; key: string } | null> {
    const rotated = await this.#inner.rotate(id);
    if (rotated !== null) await this.#announce(id);
    return rotated;
  }

  async revoke(id: string): Promise<boolean> {
    const revoked = await this.#inner.revoke(id);
    if (revoked) await this.#announce(id);
    return revoked;
  }

  /** Stops listening to the feed; the feed itself belongs to the caller. */
  close(): void {
    this.#unsubscribe();
    this.#entries.clear();
  }

  /** Forgets the key here at once, then tells the other replicas; if that fails, their TTL still bounds the delay. */
  async #announce(id: string): Promise<void> {
    this.#forget(id);
    try {
      await this.#feed.publish(id);
    } catch (error) {
      this.#logger.warn(
        { err: error, keyId: id },
        'could not announce a key change; other replicas see it when their cache expires',
      );
    }
  }

  /** Drops the entries of one key, and every "no such key" entry (a changed key may now match one); null drops all. */
  #forget(keyId: string | null): void {
    this.#generation += 1;
    if (keyId === null) {
      this.#entries.clear();
      return;
    }
    for (const [hash, entry] of this.#entries) {
      if (entry.record === null || entry.record.id === keyId) this.#entries.delete(hash);
    }
  }

  #remember(hash: string, record: ApiKeyRecord | null): void {
    const now = this.#now();
    this.#entries.delete(hash);
    if (this.#entries.size >= this.#settings.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(hash, {
      record,
      freshUntil: now + this.#settings.ttlMs,
      staleUntil: now + this.#settings.staleIfErrorMs,
    });
  }
}

/** A cached record may have expired since it was cached. */
function activeOrNull(record: ApiKeyRecord | null, now: number): ApiKeyRecord | null {
  return record !== null && isKeyActive(record, new Date(now)) ? record : null;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`key lookup took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

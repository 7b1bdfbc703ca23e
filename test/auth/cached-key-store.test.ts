import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedKeyStore } from '../../src/auth/cached-key-store.js';
import { LocalKeyChangeFeed, type KeyChangeFeed } from '../../src/auth/key-change-feed.js';
import type { ApiKeyRecord, KeyStore } from '../../src/auth/key-store.js';
import { RedisKeyChangeFeed } from '../../src/auth/redis-key-change-feed.js';
import { SqlKeyStore } from '../../src/auth/sql-key-store.js';
import type { Database } from '../../src/storage/database.js';
import { openTestRedis } from '../limits/redis-test.js';
import { openTestDatabase } from '../storage/test-databases.js';

const silent = { warn: () => undefined, error: () => undefined };

/** Counts lookups and fails them on demand (a database outage). */
class CountingStore implements KeyStore {
  lookups = 0;
  failing = false;
  delayMs = 0;
  constructor(private readonly inner: KeyStore) {}
  async verify(key: string): Promise<ApiKeyRecord | null> {
    this.lookups += 1;
    if (this.failing) throw new Error('database unavailable (test)');
    // The answer is read first and delivered late: what a slow database round trip looks like.
    const answer = await this.inner.verify(key);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return answer;
  }
  create = (...args: Parameters<KeyStore['create']>) => this.inner.create(...args);
  list = () => this.inner.list();
  get = (id: string) => this.inner.get(id);
  update = (...args: Parameters<KeyStore['update']>) => this.inner.update(...args);
  rotate = (id: string) => this.inner.rotate(id);
  revoke = (id: string) => this.inner.revoke(id);
  countActive = () => this.inner.countActive();
}

describe('CachedKeyStore', () => {
  let database: Database;
  let dispose: () => Promise<void>;
  let now: number;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase('sqlite'));
  });
  afterAll(() => dispose?.());

  function replica(feed: KeyChangeFeed, options: { ttlMs?: number; maxEntries?: number } = {}) {
    const counting = new CountingStore(new SqlKeyStore(database.db, { now: () => new Date(now) }));
    const store = new CachedKeyStore(counting, {
      feed,
      logger: silent,
      now: () => now,
      ttlMs: options.ttlMs ?? 2_000,
      staleIfErrorMs: 60_000,
      lookupTimeoutMs: 200,
      maxEntries: options.maxEntries,
    });
    return { counting, store };
  }

  it('answers from the cache for ttlMs, then asks the database again', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const { counting, store } = replica(new LocalKeyChangeFeed());
    const { record, key } = await store.create({ name: 'cached' });
    expect(await store.verify(key)).toEqual(record);
    expect(await store.verify(key)).toEqual(record);
    expect(await store.verify('oruel_wrong')).toBeNull();
    expect(await store.verify('oruel_wrong')).toBeNull();
    expect(counting.lookups).toBe(2);
    now += 2_000;
    await store.verify(key);
    expect(counting.lookups).toBe(3);
  });

  it('forgets a key revoked, rotated or updated on another replica the moment the feed says so', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const feed = new LocalKeyChangeFeed();
    const a = replica(feed, { ttlMs: 60_000 });
    const b = replica(feed, { ttlMs: 60_000 });
    const { record, key } = await a.store.create({ name: 'shared' });
    expect(await b.store.verify(key)).not.toBeNull();
    await a.store.update(record.id, { rpm: 7 });
    expect((await b.store.verify(key))?.rpm).toBe(7);
    const rotated = await a.store.rotate(record.id);
    expect(await b.store.verify(key)).toBeNull();
    expect(await b.store.verify(rotated!.key)).not.toBeNull();
    await a.store.revoke(record.id);
    expect(await b.store.verify(rotated!.key)).toBeNull();
  });

  it('does not cache an answer whose lookup started before an invalidation', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const feed = new LocalKeyChangeFeed();
    const { counting, store } = replica(feed, { ttlMs: 60_000 });
    const { record, key } = await store.create({ name: 'racing' });
    counting.delayMs = 50;
    const slow = store.verify(key);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await new SqlKeyStore(database.db).revoke(record.id);
    await feed.publish(record.id);
    expect(await slow).not.toBeNull();
    counting.delayMs = 0;
    expect(await store.verify(key)).toBeNull();
  });

  it('keeps serving known keys while the database is down, within staleIfErrorMs; unknown ones fail', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const { counting, store } = replica(new LocalKeyChangeFeed());
    const { record, key } = await store.create({ name: 'outage' });
    await store.verify(key);
    counting.failing = true;
    now += 30_000;
    expect(await store.verify(key)).toEqual(record);
    await expect(store.verify('oruel_never_seen')).rejects.toThrow(/database unavailable/);
    now += 31_000;
    await expect(store.verify(key)).rejects.toThrow(/database unavailable/);
    counting.failing = false;
  });

  it('gives up on a lookup slower than lookupTimeoutMs and falls back to the cached answer', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const { counting, store } = replica(new LocalKeyChangeFeed());
    const { key } = await store.create({ name: 'slow' });
    await store.verify(key);
    now += 5_000;
    counting.delayMs = 1_000;
    const started = Date.now();
    expect(await store.verify(key)).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(900);
    counting.delayMs = 0;
  });

  it('honours an expiry that passes while the key is cached, and stays within maxEntries', async () => {
    now = Date.parse('2030-01-01T00:00:00Z');
    const { counting, store } = replica(new LocalKeyChangeFeed(), { ttlMs: 60_000, maxEntries: 2 });
    const { key } = await store.create({ name: 'expiring', expiresAt: new Date(now + 1_000) });
    expect(await store.verify(key)).not.toBeNull();
    now += 1_000;
    expect(await store.verify(key)).toBeNull();
    const lookups = counting.lookups;
    await store.verify('oruel_a');
    await store.verify('oruel_b');
    await store.verify(key);
    expect(counting.lookups).toBe(lookups + 3);
  });
});

describe('RedisKeyChangeFeed', () => {
  it('carries a change from one replica to another within milliseconds', async () => {
    const redis = await openTestRedis();
    const [a, b] = await Promise.all([
      RedisKeyChangeFeed.open(redis.connection, silent),
      RedisKeyChangeFeed.open(redis.connection, silent),
    ]);
    try {
      const received = new Promise<{ keyId: string | null; at: number }>((resolve) =>
        b.subscribe((keyId) => resolve({ keyId, at: performance.now() })),
      );
      const sentAt = performance.now();
      await a.publish('key_abc');
      const { keyId, at } = await received;
      expect(keyId).toBe('key_abc');
      expect(at - sentAt).toBeLessThan(1_000);
    } finally {
      await a.close();
      await b.close();
      await redis.dispose();
    }
  });
});

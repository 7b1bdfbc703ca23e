import { dirname, join } from 'node:path';
import { CachedKeyStore } from '../auth/cached-key-store.js';
import { LocalKeyChangeFeed, type KeyChangeFeed } from '../auth/key-change-feed.js';
import { RedisKeyChangeFeed } from '../auth/redis-key-change-feed.js';
import { SqlKeyStore } from '../auth/sql-key-store.js';
import type { Config } from '../config/schema.js';
import { Admission } from '../limits/admission.js';
import type { LimitStore } from '../limits/limit-store.js';
import { MemoryLimitStore } from '../limits/memory-limit-store.js';
import { RedisLimitStore } from '../limits/redis-limit-store.js';
import { SqlLedger } from '../usage/sql-ledger.js';
import type { Database } from '../storage/database.js';
import { parseDatabaseUrl } from '../storage/database-url.js';
import type { Logger } from '../logging/logger.js';
import { openRedis, type RedisConnection } from '../storage/redis.js';

/**
 * What replicas share, built from the configuration: keys (cached, dropped on change through the
 * feed), rate limits and the ledger. With ORUEL_REDIS_URL the feed and the limits live in Redis,
 * so any number of replicas agree; without it, in this process (one replica).
 */
export interface SharedState {
  keyStore: CachedKeyStore;
  ledger: SqlLedger;
  admission: Admission;
  /** Call after the HTTP server closed: stores the ledger (or spills it to disk), then disconnects. */
  close(): Promise<void>;
}

export async function openSharedState(config: Config, database: Database, logger: Logger): Promise<SharedState> {
  const redis = config.redis.url === null ? null : await openRedis(config.redis.url, { keyPrefix: config.redis.keyPrefix, logger });
  const feed: KeyChangeFeed = redis === null ? new LocalKeyChangeFeed() : await RedisKeyChangeFeed.open(redis, logger);
  const keyStore = new CachedKeyStore(new SqlKeyStore(database.db), { feed, logger, ttlMs: config.limits.keyCacheTtlMs });
  const ledger = new SqlLedger(database.db, {
    logger,
    maxQueued: config.ledger.maxQueued,
    spillDir: ledgerSpillDir(config),
    spillAfterMs: config.ledger.spillAfterMs,
    flushTimeoutMs: config.ledger.flushTimeoutMs,
  });
  const store: LimitStore = redis === null ? new MemoryLimitStore() : new RedisLimitStore(redis);
  const admission = new Admission({
    store,
    usedTokensSince: async (keyId, since) => (await ledger.totals({ keyId, since })).reduce((sum, row) => sum + row.totalTokens, 0),
    logger,
    defaultCompletionTokens: config.limits.defaultCompletionTokens,
    leaseTtlMs: config.limits.leaseTtlMs,
  });
  return { keyStore, ledger, admission, close: () => closeAll(ledger, keyStore, store, feed, redis) };
}

/** The configured directory, else `ledger-spill` beside the SQLite file, else ./data/ledger-spill. */
export function ledgerSpillDir(config: Config): string {
  if (config.ledger.spillDir !== null) return config.ledger.spillDir;
  const target = parseDatabaseUrl(config.database.url);
  if (target.dialect === 'sqlite' && target.path !== ':memory:') return join(dirname(target.path), 'ledger-spill');
  return join('data', 'ledger-spill');
}

async function closeAll(ledger: SqlLedger, keyStore: CachedKeyStore, store: LimitStore, feed: KeyChangeFeed, redis: RedisConnection | null): Promise<void> {
  try {
    await ledger.close();
  } finally {
    keyStore.close();
    await store.close();
    await feed.close();
    await redis?.close();
  }
}

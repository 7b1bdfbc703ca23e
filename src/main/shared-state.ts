import { dirname, join } from 'node:path';
import { CachedKeyStore, LocalKeyChangeFeed, type KeyChangeFeed, SqlKeyStore } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { Admission, type RefusalReason, MemoryLimitStore } from '../limits/index.js';
import type { LimitStore } from '../limits/index.js';
import type { EventLog, EventLogLimits } from '../sse/index.js';
import { MemoryEventLog } from '../sse/index.js';
import {
  SqlLedger,
  insertLedgerRows,
  postgresRowWriter,
  sqliteRowWriter,
  type LedgerRowWriter,
} from '../usage/index.js';
import type { Database } from '../storage/index.js';
import { parseDatabaseUrl } from '../storage/index.js';
import type { Logger } from '../logging/index.js';
import type { RedisConnection } from '../storage/redis.js';

/**
 * What replicas share, built from the configuration: keys (cached, dropped on change through the
 * feed), rate limits and the ledger. With ORUEL_REDIS_URL the feed and the limits live in Redis,
 * so any number of replicas agree; without it, in this process (one replica).
 */
export interface SharedState {
  keyStore: CachedKeyStore;
  ledger: SqlLedger;
  admission: Admission;
  /** The events of resumable streams: in Redis when configured (any replica resumes), else in memory. */
  streamLog: EventLog;
  /** Call after the HTTP server closed: stores the ledger (or spills it to disk), then disconnects. */
  close(): Promise<void>;
}

export interface SharedStateHooks {
  /** Told why admission refused a request (metrics). */
  onRefusal?: (reason: RefusalReason) => void;
}

export async function openSharedState(
  config: Config,
  database: Database,
  logger: Logger,
  hooks: SharedStateHooks = {},
): Promise<SharedState> {
  // ioredis and the Redis-backed parts are imported only with a Redis URL: one replica never loads them.
  const shared =
    config.redis.url === null ? null : await openRedisShared(config.redis.url, config.redis.keyPrefix, logger);
  const redis = shared?.redis ?? null;
  const feed: KeyChangeFeed = shared?.feed ?? new LocalKeyChangeFeed();
  const keyStore = new CachedKeyStore(new SqlKeyStore(database.db), {
    feed,
    logger,
    ttlMs: config.limits.keyCacheTtlMs,
  });
  const ledger = new SqlLedger(database.db, {
    logger,
    writeRows: ledgerRowWriter(database),
    maxQueued: config.ledger.maxQueued,
    spillDir: ledgerSpillDir(config),
    spillAfterMs: config.ledger.spillAfterMs,
    flushTimeoutMs: config.ledger.flushTimeoutMs,
  });
  const store: LimitStore = shared?.store ?? new MemoryLimitStore();
  const admission = new Admission({
    store,
    usedTokensSince: async (keyId, since) =>
      (await ledger.totals({ keyId, since })).reduce((sum, row) => sum + row.totalTokens, 0),
    logger,
    defaultCompletionTokens: config.limits.defaultCompletionTokens,
    leaseTtlMs: config.limits.leaseTtlMs,
    ...(hooks.onRefusal ? { onRefusal: hooks.onRefusal } : {}),
  });
  const { maxEvents, graceMs, retentionMs } = config.resumableStreams;
  const logLimits = { maxEvents, retentionMs: Math.max(retentionMs, 2 * graceMs) };
  const streamLog: EventLog = shared?.openEventLog(logLimits) ?? new MemoryEventLog(logLimits);
  return {
    keyStore,
    ledger,
    admission,
    streamLog,
    close: async () => {
      await streamLog.close();
      await closeAll(ledger, keyStore, store, feed, redis);
    },
  };
}

interface RedisShared {
  redis: RedisConnection;
  feed: KeyChangeFeed;
  store: LimitStore;
  openEventLog(limits: EventLogLimits): EventLog;
}

async function openRedisShared(url: string, keyPrefix: string, logger: Logger): Promise<RedisShared> {
  const [{ openRedis }, { RedisKeyChangeFeed }, { RedisLimitStore }, { RedisEventLog }] = await Promise.all([
    import('../storage/redis.js'),
    import('../auth/redis-key-change-feed.js'),
    import('../limits/redis-limit-store.js'),
    import('../sse/resume/redis-event-log.js'),
  ]);
  const redis = await openRedis(url, { keyPrefix, logger });
  return {
    redis,
    feed: await RedisKeyChangeFeed.open(redis, logger),
    store: new RedisLimitStore(redis),
    openEventLog: (limits) => new RedisEventLog(redis, limits),
  };
}

/** The configured directory, else `ledger-spill` beside the SQLite file, else ./data/ledger-spill. */
function ledgerSpillDir(config: Config): string {
  if (config.ledger.spillDir !== null) return config.ledger.spillDir;
  const target = parseDatabaseUrl(config.database.url);
  if (target.dialect === 'sqlite' && target.path !== ':memory:') return join(dirname(target.path), 'ledger-spill');
  return join('data', 'ledger-spill');
}

async function closeAll(
  ledger: SqlLedger,
  keyStore: CachedKeyStore,
  store: LimitStore,
  feed: KeyChangeFeed,
  redis: RedisConnection | null,
): Promise<void> {
  try {
    await ledger.close();
  } finally {
    keyStore.close();
    await store.close();
    await feed.close();
    await redis?.close();
  }
}

/** SQLite reuses one prepared INSERT per batch; Postgres sends one fixed-shape INSERT of column arrays. */
function ledgerRowWriter(database: Database): LedgerRowWriter {
  if (database.sqliteHandle === null) return postgresRowWriter(database.db);
  return sqliteRowWriter(database.sqliteHandle, (rows) => insertLedgerRows(database.db, rows));
}

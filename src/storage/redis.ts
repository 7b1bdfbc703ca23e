import { OperatorError } from '../errors/index.js';
import { Redis } from 'ioredis';
import { redactDatabaseUrl } from './database-url.js';
import type { Logger } from '../logging/index.js';

export interface RedisConnection {
  /** Commands and scripts. Fails fast while disconnected (no offline queue): callers decide what a failure means. */
  client: Redis;
  /** Prepended to every key and channel, so several deployments (or test runs) can share one server. */
  keyPrefix: string;
  /** A second connection in subscriber mode (a subscribed connection cannot run other commands). */
  subscriber(): Promise<Redis>;
  close(): Promise<void>;
}

export interface OpenRedisOptions {
  keyPrefix: string;
  logger: Logger;
  /** A command without a reply within this time fails, so a stuck Redis cannot hold up requests. */
  commandTimeoutMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 5_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

/** A Redis the operator named but that cannot be reached at start; the message names it, password hidden. */
export class RedisConfigError extends OperatorError {}

/** Connects to `redis://...` and waits until it answers; reconnects by itself afterwards. */
export async function openRedis(url: string, options: OpenRedisOptions): Promise<RedisConnection> {
  const client = createClient(url, options);
  const subscribers: Redis[] = [];
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new RedisConfigError(`Cannot connect to Redis at ${redactDatabaseUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    client,
    keyPrefix: options.keyPrefix,
    subscriber: async () => {
      const subscriber = createClient(url, options);
      subscribers.push(subscriber);
      await subscriber.connect();
      return subscriber;
    },
    close: async () => {
      await Promise.allSettled([client, ...subscribers].map((connection) => connection.quit()));
    },
  };
}

function createClient(url: string, options: OpenRedisOptions): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    // Queued commands would wait for a reconnect while a request waits for them; failing at once lets
    // the limiter fall back (see limiter.ts) instead.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  let failing = false;
  // Without a listener ioredis reports every failed reconnect on stderr; one line per outage is enough.
  client.on('error', (error: Error) => {
    if (!failing) options.logger.warn({ err: error }, 'Redis connection failed; reconnecting');
    failing = true;
  });
  client.on('ready', () => {
    if (failing) options.logger.warn({}, 'Redis connection restored');
    failing = false;
  });
  return client;
}

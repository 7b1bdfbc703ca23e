import type { Redis } from 'ioredis';
import type { Logger } from '../logging/index.js';
import { openRedis, type RedisConnection } from '../storage/redis.js';
import type { KeyChangeFeed } from './key-change-feed.js';

/** Every replica subscribed to one Redis channel; a publish reaches all of them (the sender too). */
export class RedisKeyChangeFeed implements KeyChangeFeed {
  readonly #connection: RedisConnection;
  readonly #channel: string;
  readonly #listeners = new Set<(keyId: string | null) => void>();

  private constructor(connection: RedisConnection, subscriber: Redis, logger: Logger) {
    this.#connection = connection;
    this.#channel = keyChangeChannel(connection.keyPrefix);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#notify(message);
    });
    // Registered after the first connection is up, so every 'ready' here is a reconnection: changes
    // published while the connection was down were missed, and everything cached is suspect.
    subscriber.on('ready', () => {
      logger.warn({}, 'key change feed reconnected; dropping every cached key');
      this.#notify(null);
    });
  }

  static async open(connection: RedisConnection, logger: Logger): Promise<RedisKeyChangeFeed> {
    const subscriber = await connection.subscriber();
    const feed = new RedisKeyChangeFeed(connection, subscriber, logger);
    await subscriber.subscribe(feed.#channel);
    return feed;
  }

  async publish(keyId: string): Promise<void> {
    await this.#connection.client.publish(this.#channel, keyId);
  }

  subscribe(listener: (keyId: string | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The subscriber connection belongs to the RedisConnection, which closes it. */
  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }

  #notify(keyId: string | null): void {
    for (const listener of this.#listeners) listener(keyId);
  }
}

function keyChangeChannel(keyPrefix: string): string {
  return `${keyPrefix}key-changes`;
}

/** One announcement from a process that is no replica (the CLI): connect, publish, disconnect. */
export async function publishKeyChange(
  redisUrl: string,
  keyPrefix: string,
  keyId: string,
  logger: Logger,
): Promise<void> {
  const connection = await openRedis(redisUrl, { keyPrefix, logger });
  try {
    await connection.client.publish(keyChangeChannel(keyPrefix), keyId);
  } finally {
    await connection.close();
  }
}

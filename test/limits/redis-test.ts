import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { openRedis, type RedisConnection } from '../../src/storage/redis.js';

/** The server the Redis half of the suites runs against; it must be up (the tests never skip). */
export const REDIS_TEST_URL = process.env.ORUEL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const silent = { warn: () => undefined, error: () => undefined };

/** A prefix no other test run uses: runs share the server, never keys. */
export function uniqueRedisPrefix(): string {
  return `oruel-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** A connection under a fresh prefix, and the function that deletes every key under it. */
export async function openTestRedis(): Promise<{
  connection: RedisConnection;
  prefix: string;
  dispose(): Promise<void>;
}> {
  const prefix = uniqueRedisPrefix();
  const connection = await openRedis(REDIS_TEST_URL, { keyPrefix: prefix, logger: silent });
  return {
    connection,
    prefix,
    dispose: async () => {
      await deleteRedisPrefix(prefix);
      await connection.close();
    },
  };
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const client = new Redis(REDIS_TEST_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

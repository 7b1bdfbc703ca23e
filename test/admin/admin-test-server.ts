import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema, type Config } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { storiesModel } from '../helpers/test-server.js';
import { deleteRedisPrefix, REDIS_TEST_URL, uniqueRedisPrefix } from '../limits/redis-test.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const MODEL = storiesModel.name;

export interface AdminTestServer {
  server: RunningServer;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** `http://127.0.0.1:PORT/v1/inference` */
  baseURL: string;
  /** Calls the admin API with the admin token. */
  admin<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: T }>;
  /** Creates a key through the admin API; returns its id and the key. */
  createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

export interface AdminTestServerOptions {
  /** Limits and key-change feed in Redis under a fresh prefix (deleted on close). */
  redis?: boolean;
  /** Another address for that Redis (a proxy in front of it). */
  redisUrl?: string;
  databaseUrl?: string;
  adminToken?: string | null;
  limits?: Partial<Config['limits']>;
  /** Merged into the `server` section. */
  server?: Record<string, unknown>;
  /** Served beside stories260K (e.g. an `openai` model in front of a fake upstream). */
  extraModels?: Record<string, unknown>[];
}

/** A real server (stories260K) with the admin API enabled, on its own SQLite file unless told otherwise. */
export async function startAdminTestServer(options: AdminTestServerOptions = {}): Promise<AdminTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-admin-test-'));
  const redisPrefix = options.redis ? uniqueRedisPrefix() : null;
  const config = configSchema.parse({
    server: { port: 0, logLevel: 'silent', ...options.server },
    database: { url: options.databaseUrl ?? `sqlite:${join(dataDir, 'oruel.db')}` },
    redis: {
      url: redisPrefix === null ? null : (options.redisUrl ?? REDIS_TEST_URL),
      keyPrefix: redisPrefix ?? 'oruel:',
    },
    admin: { token: options.adminToken === undefined ? ADMIN_TOKEN : options.adminToken },
    limits: options.limits ?? {},
    modelsDir: join(dataDir, 'models'),
    threads: 1,
    models: [storiesModel, ...(options.extraModels ?? [])],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
  await server.ready;
  const admin: AdminTestServer['admin'] = async (method, path, body) => {
    const response = await fetch(`${server.url}/v1/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      json: (text === '' ? null : JSON.parse(text)) as never,
    };
  };
  return {
    server,
    origin: server.url,
    baseURL: `${server.url}/v1/inference`,
    admin,
    createKey: async (body) => {
      const created = await admin<{ id: string; key: string }>('POST', '/keys', body);
      if (created.status !== 201)
        throw new Error(`creating a key failed: ${created.status} ${JSON.stringify(created.json)}`);
      return { id: created.json.id, key: created.json.key };
    },
    close: async () => {
      await server.close();
      if (redisPrefix !== null) await deleteRedisPrefix(redisPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POST /chat/completions with a key; the response read whole. */
export async function chat(
  baseURL: string,
  key: string,
  body: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 2,
      ...body,
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

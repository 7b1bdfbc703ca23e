import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema, type Config, type ModelConfig } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { STORIES_MODEL } from './paths.js';

export interface TestServer {
  server: RunningServer;
  /** `http://127.0.0.1:PORT/v1/inference` */
  baseURL: string;
  /** An active `oruel_` key. */
  apiKey: string;
  config: Config;
  close(): Promise<void>;
}

export interface TestServerOptions {
  models?: Partial<ModelConfig>[];
  /** Merged into the `server` section (keepAliveMs, bodyLimitBytes, auth, ...). */
  server?: Partial<Config['server']>;
  databaseUrl?: string;
  /** Merged into the `limits` section (defaultCompletionTokens, ...). */
  limits?: Partial<Config['limits']>;
  /** Further top-level config sections (resumableStreams, redis, ...). */
  extra?: Record<string, unknown>;
}

/** The stories260K model with 2 sequences: the default fixture. */
export const storiesModel = {
  name: 'stories260K',
  engine: 'llama-cpp' as const,
  path: STORIES_MODEL,
  sequences: 2,
  contextSize: 512,
};

/** A real server on an ephemeral port with its own SQLite file, waiting until models are loaded. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-test-'));
  const config = configSchema.parse({
    ...options.extra,
    server: { port: 0, logLevel: 'silent', ...options.server },
    ...(options.limits ? { limits: options.limits } : {}),
    database: { url: options.databaseUrl ?? `sqlite:${join(dataDir, 'oruel.db')}` },
    modelsDir: join(dataDir, 'models'),
    threads: 1,
    models: options.models ?? [storiesModel],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
  await server.ready;
  const { key } = await server.keyStore.create({ name: 'test' });
  return {
    server,
    baseURL: `${server.url}/v1/inference`,
    apiKey: key,
    config,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

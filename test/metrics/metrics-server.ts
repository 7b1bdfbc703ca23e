import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { storiesModel } from '../helpers/test-server.js';

export const ADMIN_TOKEN = 'metrics-test-admin-token-0123456789';

export interface MetricsTestServer {
  server: RunningServer;
  baseURL: string;
  apiKey: string;
  close(): Promise<void>;
}

/** A real server whose whole configuration the test chooses (metrics, admin token, models), on an ephemeral port. */
export async function startConfiguredServer(
  config: Record<string, unknown> = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<MetricsTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-metrics-'));
  const parsed = configSchema.parse({
    modelsDir: join(dataDir, 'models'),
    threads: 1,
    models: [storiesModel],
    ...config,
    server: { port: 0, logLevel: 'info', ...(config.server as object | undefined) },
    database: { url: `sqlite:${join(dataDir, 'oruel.db')}` },
  });
  const server = await startServer(parsed, { logger, announce: () => undefined });
  await server.ready;
  const { key } = await server.keyStore.create({ name: 'metrics-test' });
  return {
    server,
    baseURL: `${server.url}/v1/inference`,
    apiKey: key,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample line (`name{labels} value`) in a Prometheus text exposition; null when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return null;
}

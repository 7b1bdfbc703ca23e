/**
 * Oru-el under test, in a process of its own so its CPU and memory are its own: auth on, the SQLite
 * ledger on (the real path), three gateway models over the fake upstreams. argv[2]: GatewayChildConfig.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { startServer } from '../../src/main.js';
import type { FakeUrls } from './fake-child.js';
import { failChild, serveChild } from './ipc.js';

export interface GatewayChildConfig {
  upstreams: FakeUrls;
  /** On unless a diagnosis wants the cost of auth alone. */
  auth?: boolean;
  /** /metrics bookkeeping; on unless measuring its cost (`--no-metrics`). */
  metrics?: boolean;
}

export interface GatewayTarget {
  /** `http://127.0.0.1:PORT/v1/inference` */
  baseURL: string;
  apiKey: string;
}

async function main(): Promise<void> {
  const { upstreams, auth = true, metrics = true } = JSON.parse(process.argv[2] ?? '{}') as GatewayChildConfig;
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-gateway-bench-'));
  const model = (name: string, url: string) => ({
    name,
    engine: 'openai',
    deployments: [{ url, model: 'bench-upstream' }],
  });
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0, logLevel: 'silent', auth },
    database: { url: `sqlite:${join(dataDir, 'oruel.db')}` },
    modelsDir: join(dataDir, 'models'),
    metrics: { enabled: metrics },
    models: [model('instant', upstreams.instant), model('slow', upstreams.slow), model('idle', upstreams.idle)],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
  await server.ready;
  const { key } = await server.keyStore.create({ name: 'bench' });
  serveChild<GatewayTarget>({ baseURL: `${server.url}/v1/inference`, apiKey: key }, async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
}

main().catch(failChild);

import OpenAI from 'openai';
import { expect } from 'vitest';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/test-server.js';

/** One upstream deployment as the config file writes it (defaults filled by the schema). */
interface DeploymentConfig {
  url: string;
  model?: string;
  apiKey?: string;
  weight?: number;
  headers?: Record<string, string>;
  maxConcurrent?: number;
  firstTokenTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface GatewayModelConfig {
  name: string;
  deployments: DeploymentConfig[];
  embeddedDeployments?: Record<string, unknown>[];
  routing?: Record<string, number>;
}

/** A real Oru-el server whose models are gateway models (engine `openai`). */
export function startGateway(
  models: GatewayModelConfig[],
  server: TestServerOptions['server'] = {},
): Promise<TestServer> {
  const configs = models.map((model) => ({
    engine: 'openai' as const,
    name: model.name,
    deployments: model.deployments.map((deployment) => ({ model: 'upstream-model', ...deployment })),
    embeddedDeployments: model.embeddedDeployments ?? [],
    routing: model.routing ?? {},
  }));
  return startTestServer({ models: configs as unknown as TestServerOptions['models'], server });
}

/** The official SDK pointed at the harness; no retries of its own, so what the fakes see is Oru-el's doing. */
export function sdk(harness: TestServer): OpenAI {
  return new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
}

/** The ledger row of one request, once stored. */
export async function ledgerRow(harness: TestServer, requestId: string): Promise<LedgerRecord> {
  await harness.server.ledger.flush();
  const rows = await harness.server.ledger.rows({ limit: 200 });
  const row = rows.find((candidate) => candidate.requestId === requestId);
  expect(row, `ledger row for ${requestId}`).toBeDefined();
  return row!;
}

/** The newest ledger row (for requests whose id the client could not read). */
export async function latestLedgerRow(harness: TestServer): Promise<LedgerRecord> {
  await harness.server.ledger.flush();
  const [row] = await harness.server.ledger.rows({ limit: 1 });
  expect(row).toBeDefined();
  return row!;
}

export function postInit(harness: TestServer, body: unknown, signal?: AbortSignal): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  };
}

export const USER_PROMPT = [{ role: 'user' as const, content: 'Say hello' }];

export const WEATHER_TOOLS = [
  {
    type: 'function' as const,
    function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
  },
  {
    type: 'function' as const,
    function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
  },
];

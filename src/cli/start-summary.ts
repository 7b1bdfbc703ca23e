import type { Config } from '../config/index.js';
import type { PublicModel } from '../router/index.js';
import { maskUrlPassword } from '../logging/index.js';

export interface StartFacts {
  config: Config;
  /** `http://host:port` */
  url: string;
  metricsUrl: string | null;
  models: readonly PublicModel[];
  keySource: { kind: 'created' } | { kind: 'existing'; active: number } | { kind: 'auth-disabled' };
}

/** The one readable summary logged when the server is ready: where to point clients and what runs. */
export function startSummary(facts: StartFacts): { text: string; fields: Record<string, unknown> } {
  const { config } = facts;
  const api = `${facts.url}/v1/inference`;
  const lines = [
    `Oru-el is ready at ${api}`,
    ...facts.models.map((model) => `  model ${describeModel(model)}`),
    `  database: ${maskUrlPassword(config.database.url)}`,
    `  redis: ${config.redis.url === null ? 'off (limits and key changes kept in this process)' : maskUrlPassword(config.redis.url)}`,
    `  admin API: ${config.admin.token === null ? 'off (set ORUEL_ADMIN_TOKEN to enable)' : `on at ${facts.url}/v1/admin`}`,
    `  metrics: ${describeMetrics(facts)}`,
    `  API reference: ${api}/reference/ (OpenAPI: ${api}/openapi.json)`,
    `  API keys: ${describeKeys(facts.keySource)}`,
  ];
  return {
    text: lines.join('\n'),
    // `event: ready` is what scripts and tests wait for (the text is for people and may change).
    fields: {
      event: 'ready',
      url: api,
      models: facts.models.map((model) => model.name),
      database: maskUrlPassword(config.database.url),
      redis: config.redis.url === null ? null : maskUrlPassword(config.redis.url),
      adminApi: config.admin.token !== null,
      metrics: facts.metricsUrl,
      keys: facts.keySource.kind,
    },
  };
}

function describeModel(model: PublicModel): string {
  const engines = model.engines;
  const first = engines[0];
  if (engines.length === 1 && first?.kind === 'llama-cpp') {
    const snapshot = first.snapshot();
    const context =
      first.capabilities.contextSize === null ? 'context pending' : `context ${first.capabilities.contextSize}`;
    return `${model.name}: llama-cpp, ${context}, ${snapshot.sequences?.total ?? '?'} sequences${snapshot.loaded ? '' : ' (loading)'}`;
  }
  const deployments = engines.map(
    (engine) =>
      `${engine.id}${engine.kind === 'llama-cpp' ? ` (${engine.snapshot().sequences?.total ?? '?'} sequences)` : ''}`,
  );
  return `${model.name}: openai gateway, ${engines.length} deployment${engines.length === 1 ? '' : 's'}: ${deployments.join(', ')}`;
}

function describeMetrics(facts: StartFacts): string {
  if (facts.metricsUrl === null) return 'off';
  return `${facts.metricsUrl}${facts.config.metrics.requireAdminToken ? ' (admin token required)' : ''}`;
}

function describeKeys(source: StartFacts['keySource']): string {
  switch (source.kind) {
    case 'created':
      return 'none existed, so one was created at this start (printed above, once)';
    case 'existing':
      return `${source.active} active key${source.active === 1 ? '' : 's'} in the database (npx oruel keys list)`;
    case 'auth-disabled':
      return 'authentication is off (--no-auth)';
  }
}

import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { Engine } from '../../src/engines/engine.js';
import { startSummary } from '../../src/cli/start-summary.js';
import { Deployment } from '../../src/router/deployment.js';
import { SINGLE_ENGINE_POLICY } from '../../src/router/routing-policy.js';

/** A model's engines are deployments; each wraps one engine. */
function engine(id: string, kind: Engine['kind'], contextSize: number | null, sequences: number | null): Deployment {
  const inner: Engine = {
    id,
    kind,
    capabilities: { tools: false, jsonSchema: true, maxChoices: 1, contextSize },
    snapshot: () => ({ loaded: true, sequences: sequences === null ? null : { busy: 0, total: sequences, queued: 0 } }),
    startChat: () => Promise.reject(new Error('not used')),
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return new Deployment(inner, 1, SINGLE_ENGINE_POLICY);
}

describe('the start summary', () => {
  it('names the URL, each model, the database and Redis with passwords masked, admin API, metrics and the key source', () => {
    const config = configSchema.parse({
      modelsDir: '/tmp/models',
      database: { url: 'postgres://oruel:hunter2@db.internal:5432/oruel' },
      redis: { url: 'redis://:s3cretpw@cache:6379' },
      admin: { token: 'an-admin-token-long-enough' },
    });
    const { text, fields } = startSummary({
      config,
      url: 'http://0.0.0.0:8080',
      metricsUrl: 'http://0.0.0.0:8080/metrics',
      keySource: { kind: 'existing', active: 3 },
      models: [
        { name: 'small', engines: [engine('llama-cpp/small', 'llama-cpp', 4096, 4)], created: 0, ownedBy: 'oruel' },
        {
          name: 'big',
          engines: [
            engine('openai/big/a:8000', 'openai', null, null),
            engine('openai/big/b:8000', 'openai', null, null),
          ],
          created: 0,
          ownedBy: 'oruel',
        },
      ],
    });
    expect(text).toBe(
      [
        'Oru-el is ready at http://0.0.0.0:8080/v1/inference',
        '  model small: llama-cpp, context 4096, 4 sequences',
        '  model big: openai gateway, 2 deployments: openai/big/a:8000, openai/big/b:8000',
        '  database: postgres://oruel:****@db.internal:5432/oruel',
        '  redis: redis://:****@cache:6379',
        '  admin API: on at http://0.0.0.0:8080/v1/admin',
        '  metrics: http://0.0.0.0:8080/metrics',
        '  API reference: http://0.0.0.0:8080/v1/inference/reference/ (OpenAPI: http://0.0.0.0:8080/v1/inference/openapi.json)',
        '  API keys: 3 active keys in the database (npx oruel keys list)',
      ].join('\n'),
    );
    expect(JSON.stringify(fields)).not.toMatch(/hunter2|s3cretpw|an-admin-token/);
    expect(text).not.toMatch(/hunter2|s3cretpw|an-admin-token/);
  });
});

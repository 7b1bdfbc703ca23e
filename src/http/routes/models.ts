import type { FastifyInstance } from 'fastify';
import type { EngineKind } from '../../engines/index.js';
import { isModelAllowed } from '../../limits/index.js';
import { modelNotFound } from '../../errors/index.js';
import type { ModelRegistry, PublicModel } from '../../router/index.js';

/**
 * OpenAI's four fields, then what a client needs to pick and use a model (the SDKs ignore fields they
 * do not know). Over several deployments: the smallest known context and the capabilities all share,
 * since the router may send a request to any of them.
 */
function toWireModel(model: PublicModel): WireModel {
  const engines = model.engines;
  const contexts = engines
    .map((engine) => engine.capabilities.contextSize)
    .filter((size): size is number => size !== null);
  return {
    id: model.name,
    object: 'model',
    created: model.created,
    owned_by: model.ownedBy,
    context_length: contexts.length > 0 ? Math.min(...contexts) : null,
    capabilities: {
      tools: engines.length > 0 && engines.every((engine) => engine.capabilities.tools),
      json_schema: engines.length > 0 && engines.every((engine) => engine.capabilities.jsonSchema),
    },
    engine: engines.length > 0 && engines.every((engine) => engine.kind === 'llama-cpp') ? 'llama-cpp' : 'openai',
    status: engines.some((engine) => engine.snapshot().loaded) ? 'loaded' : 'loading',
  };
}

export interface WireModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  context_length: number | null;
  capabilities: { tools: boolean; json_schema: boolean };
  engine: EngineKind;
  status: 'loaded' | 'loading';
}

/**
 * GET /models and /models/{id}: public names only, never the deployments behind them, and only the
 * models the caller's key may use (one outside its allow-list is as unknown as one that does not exist).
 */
export function registerModelRoutes(app: FastifyInstance, registry: ModelRegistry): void {
  app.get('/models', async (request) => ({
    object: 'list',
    data: registry
      .list()
      .filter((model) => isModelAllowed(request.apiKey, model.name))
      .map(toWireModel),
  }));
  // `*`: model ids may contain slashes ("org/model"). The router has already decoded it: decoding
  // again would read `a%2525b` as `a%b`, and `%25` ("%") would not decode at all.
  app.get<{ Params: { '*': string } }>('/models/*', async (request) => {
    const name = request.params['*'];
    if (!isModelAllowed(request.apiKey, name)) throw modelNotFound(name);
    return toWireModel(registry.resolve(name));
  });
}

import type { FastifyInstance } from 'fastify';
import { isModelAllowed } from '../../limits/model-access.js';
import { modelNotFound } from '../../errors/model-not-found.js';
import type { ModelRegistry, PublicModel } from '../../router/model-registry.js';

function toWireModel(model: PublicModel) {
  return { id: model.name, object: 'model' as const, created: model.created, owned_by: model.ownedBy };
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

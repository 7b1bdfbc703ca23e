import type { FastifyInstance } from 'fastify';
import type { ModelRegistry, PublicModel } from '../../router/model-registry.js';

function toWireModel(model: PublicModel) {
  return { id: model.name, object: 'model' as const, created: model.created, owned_by: model.ownedBy };
}

/** GET /models and /models/{id}: public names only, never the deployments behind them. */
export function registerModelRoutes(app: FastifyInstance, registry: ModelRegistry): void {
  app.get('/models', async () => ({ object: 'list', data: registry.list().map(toWireModel) }));
  // `*`: model ids may contain slashes ("org/model").
  app.get<{ Params: { '*': string } }>('/models/*', async (request) => toWireModel(registry.resolve(decodeURIComponent(request.params['*']))));
}

import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/index.js';
import { requireAdminToken } from '../admin-auth.js';

/** GET /metrics (Prometheus text format); behind the admin token when `adminToken` is given. */
export async function registerMetricsRoute(
  app: FastifyInstance,
  metrics: Metrics,
  adminToken: string | null,
): Promise<void> {
  await app.register(async (scope) => {
    if (adminToken !== null) scope.addHook('onRequest', requireAdminToken(adminToken));
    scope.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics.exposition();
      return reply.type(contentType).send(body);
    });
  });
}

import type { FastifyInstance } from 'fastify';

/** Liveness (the process answers) and readiness (every model is loaded and can serve). */
export function registerHealthRoutes(app: FastifyInstance, isReady: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (isReady()) return { status: 'ready' };
    return reply.code(503).send({ status: 'loading' });
  });
}

import type { FastifyInstance } from 'fastify';

export type Readiness = 'ready' | 'loading' | 'draining';

/** Liveness (the process answers) and readiness (every model is loaded and the server is not shutting down). */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const status = readiness();
    if (status === 'ready') return { status };
    return reply.code(503).send({ status });
  });
}

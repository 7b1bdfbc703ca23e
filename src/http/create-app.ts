import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { KeyStore } from '../auth/key-store.js';
import type { Config } from '../config/schema.js';
import { newRequestId } from '../engines/random-id.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Admission } from '../limits/admission.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ModelRegistry } from '../router/model-registry.js';
import type { Ledger } from '../usage/ledger.js';
import { requireApiKey } from './auth-hook.js';
import { fromFastifyError, sendError } from './error-response.js';
import { registerAdminApi } from './routes/admin-api.js';
import { registerApiReference } from './routes/api-reference.js';
import { registerChatRoute } from './routes/chat-completions.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRequestLog } from './request-log.js';

export interface AppDependencies {
  config: Config;
  logger: Logger;
  registry: ModelRegistry;
  keyStore: KeyStore;
  ledger: Ledger;
  /** Step 4: allow-list and rate limits, per key. */
  admission: Admission;
  isReady: () => boolean;
  /** Null when metrics are off. */
  metrics: Metrics | null;
}

/** Response headers browsers may read: the request id, rate-limit state, retry hints. */
const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'retry-after',
  'retry-after-ms',
];

/** The public API base and its `/v1` alias. */
export const API_PREFIXES = ['/v1/inference', '/v1'] as const;

/** Builds the HTTP app; hooks are registered in lifecycle order (request id, CORS, auth per route). */
export async function createApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app: FastifyInstance = Fastify({
    // pino's own types are newer than the ones Fastify pins; the runtime objects are the same.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: () => newRequestId(),
    return503OnClosing: true,
    // One line per finished request is written by request-log.ts (redacted, with the key's id and name).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
  });
  registerRequestLog(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(cors, {
    origin: config.server.corsOrigins === '*' ? '*' : config.server.corsOrigins,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 86_400,
    // allowedHeaders unset: the preflight echoes Access-Control-Request-Headers (X-Stainless-* and friends).
  });
  acceptAnyContentTypeAsJson(app);

  app.setErrorHandler((error, request, reply) => {
    const gatewayError = fromFastifyError(error as FastifyError);
    if (gatewayError.kind === 'internal_error') request.log.error({ err: error }, 'request failed');
    return sendError(reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new GatewayError('not_found', `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`)),
  );

  registerHealthRoutes(app, deps.isReady);
  // Outside the API prefix's auth hook: the reference is public, like documentation.
  await registerApiReference(app);
  for (const prefix of API_PREFIXES) {
    await app.register(
      async (api) => {
        api.decorateRequest('apiKey', null);
        api.addHook('preHandler', requireApiKey(deps.keyStore, config.server.auth));
        registerModelRoutes(api, deps.registry);
        registerChatRoute(api, { registry: deps.registry, ledger: deps.ledger, admission: deps.admission, keepAliveMs: config.server.keepAliveMs, metrics: deps.metrics });
      },
      { prefix },
    );
  }
  // On its own port when configured (main.ts serves it there).
  if (deps.metrics && config.metrics.port === null) await registerMetricsRoute(app, deps.metrics, config.metrics.requireAdminToken ? config.admin.token : null);
  await registerAdminApi(app, { keyStore: deps.keyStore, ledger: deps.ledger, adminToken: config.admin.token });
  return app;
}

/**
 * curl's `-d` sends `application/x-www-form-urlencoded` unless told otherwise; the API only speaks JSON,
 * so any body is parsed as JSON rather than refused for its label.
 */
function acceptAnyContentTypeAsJson(app: FastifyInstance): void {
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

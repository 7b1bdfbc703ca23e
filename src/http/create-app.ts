import { isUtf8 } from 'node:buffer';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { KeyStore } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { newRequestId } from '../ids/index.js';
import { GatewayError } from '../errors/index.js';
import type { Admission } from '../limits/index.js';
import type { Metrics } from '../metrics/index.js';
import type { ModelRegistry } from '../router/index.js';
import type { EventLog } from '../sse/index.js';
import type { Ledger } from '../usage/index.js';
import { requireApiKey } from './auth-hook.js';
import { clientErrorHandler } from './client-error.js';
import { shuttingDownError, type Drain } from './drain.js';
import { fromFastifyError, sendError } from './error-response.js';
import { registerAdminApi } from './routes/admin-api.js';
import { registerApiReference } from './routes/api-reference.js';
import { registerChatRoute } from './routes/chat-completions.js';
import { registerCompletionsRoute } from './routes/completions.js';
import { registerEmbeddingsRoute } from './routes/embeddings.js';
import { registerStreamResumeRoute } from './routes/stream-resume.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { DEFAULT_WEB_ROOT, registerWebPages } from './routes/web-pages.js';
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
  /** Shutdown state: new requests refused while draining, running ones counted. */
  drain: Drain;
  /** The built web pages (playground, usage dashboard); default dist/web. */
  webRoot?: string;
  /** Where resumable streams keep their events; absent = the Oruel-Resumable header is ignored. */
  streamLog?: EventLog;
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
  'oruel-stream-id',
];

/** Answered while draining too: an orchestrator reads readiness from them. */
const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

/** The public API base and its `/v1` alias. */
const API_PREFIXES = ['/v1/inference', '/v1'] as const;

/** Builds the HTTP app; hooks are registered in lifecycle order (request id, CORS, auth per route). */
export async function createApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app: FastifyInstance = Fastify({
    // pino's own types are newer than the ones Fastify pins; the runtime objects are the same.
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: () => newRequestId(),
    return503OnClosing: true,
    ...connectionTimeouts(config),
    // Called only after the drain: whatever is still connected then (a client that stopped reading) is cut.
    forceCloseConnections: true,
    clientErrorHandler: clientErrorHandler(config.server),
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
  // After CORS, so a browser can read the 503 of a draining server.
  app.addHook('onRequest', async (request, reply) => {
    if (deps.drain.draining && !HEALTH_PATHS.has(request.url)) {
      reply.header('connection', 'close');
      return sendError(reply, shuttingDownError());
    }
    reply.raw.once('close', deps.drain.enter());
    return undefined;
  });
  parseEveryBodyAsJson(app);

  app.setErrorHandler((error, request, reply) => {
    const gatewayError = fromFastifyError(error as FastifyError);
    if (gatewayError.kind === 'internal_error') request.log.error({ err: error }, 'request failed');
    return sendError(reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new GatewayError('not_found', `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  registerHealthRoutes(app, () => (deps.drain.draining ? 'draining' : deps.isReady() ? 'ready' : 'loading'));
  registerWebPages(app, deps.webRoot ?? DEFAULT_WEB_ROOT);
  // Outside the API prefix's auth hook: the reference is public, like documentation.
  registerApiReference(app);
  for (const prefix of API_PREFIXES) {
    await app.register(
      async (api) => {
        api.decorateRequest('apiKey', null);
        // onRequest: a stranger's body is never read into JSON (401 before parsing, whatever the body).
        api.addHook('onRequest', requireApiKey(deps.keyStore, config.server.auth));
        registerModelRoutes(api, deps.registry);
        const inference = {
          registry: deps.registry,
          ledger: deps.ledger,
          admission: deps.admission,
          drain: deps.drain,
          metrics: deps.metrics,
        };
        const keepAliveMs = config.server.keepAliveMs;
        const graceMs = config.resumableStreams.graceMs;
        const resumable = deps.streamLog ? { log: deps.streamLog, graceMs, logger: deps.logger } : undefined;
        registerChatRoute(api, { ...inference, keepAliveMs, ...(resumable ? { resumable } : {}) });
        if (deps.streamLog)
          registerStreamResumeRoute(api, {
            log: deps.streamLog,
            keepAliveMs,
            graceMs,
            shutdown: deps.drain.deadlineSignal,
          });
        registerCompletionsRoute(api, { ...inference, keepAliveMs });
        registerEmbeddingsRoute(api, inference);
      },
      { prefix },
    );
  }
  // On its own port when configured (main.ts serves it there).
  if (deps.metrics && config.metrics.port === null)
    await registerMetricsRoute(app, deps.metrics, config.metrics.requireAdminToken ? config.admin.token : null);
  await registerAdminApi(app, { keyStore: deps.keyStore, ledger: deps.ledger, adminToken: config.admin.token });
  return app;
}

/**
 * Node's own timers close connections that never finish a request (a trickled body or header); the
 * check runs often enough that a timeout is honoured within a fraction of itself, not Node's 30 s.
 */
function connectionTimeouts(config: Config) {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.server;
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4)));
  return {
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: checkEveryMs,
    },
  };
}

/**
 * Every body is read as JSON, whatever its Content-Type says (`text/plain`, curl's default
 * `application/x-www-form-urlencoded`, none at all), as OpenAI's API does: the API only speaks JSON,
 * so refusing a label would only break clients. The bytes must be valid UTF-8 (JSON text is; a
 * decoder would silently turn bad bytes into U+FFFD), and prototype-poisoning keys are refused.
 */
function parseEveryBodyAsJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  const parseBody: Parameters<typeof app.addContentTypeParser>[2] = (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    if (!isUtf8(bytes))
      return done(
        new GatewayError('invalid_json', 'The request body is not valid UTF-8; JSON text must be encoded as UTF-8.'),
        undefined,
      );
    parseJson(request, bytes.toString('utf8'), done);
  };
  app.addContentTypeParser('*', { parseAs: 'buffer' }, parseBody);
  // The same parser under the usual label: Fastify caches the parser of a named type per header value,
  // while the catch-all is looked up anew (the Content-Type header parsed again) on every request.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseBody);
}

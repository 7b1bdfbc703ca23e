import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { OperatorError } from './errors/index.js';
import type { KeyStore } from './auth/index.js';
import { DEFAULT_MODEL, type Config, type LlamaCppModelConfig, type ModelConfig } from './config/index.js';
import { createApp, Drain, ensurePortFree, listenError, registerMetricsRoute } from './http/index.js';
import { createLogger, LiveLineGuard } from './logging/index.js';
import { Metrics } from './metrics/index.js';
import { isHfUri, resolveModelPath } from './models/index.js';
import { ModelRegistry } from './router/index.js';
import { openDatabase, type Database } from './storage/index.js';
import { openSharedState, type SharedState } from './main/shared-state.js';
import { buildEngines, loadEmbeddedRuntime, needsLlamaRuntime, type EngineBuild } from './main/build-engines.js';
import type { SqlLedger } from './usage/index.js';

export interface ServerOptions {
  /** Where the first key of a fresh install is shown (once). Default: stdout. */
  announce?: (text: string) => void;
  /** Tests pass a silent logger. */
  logger?: Logger;
  /** The built web pages; default dist/web (tests build their own). */
  webRoot?: string;
}

/** Where the API key(s) this server accepts came from, for the start summary. */
export type KeySource = { kind: 'created' } | { kind: 'existing'; active: number } | { kind: 'auth-disabled' };

export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** Resolves when every model is loaded; rejects with a message for the operator when one fails. */
  ready: Promise<void>;
  registry: ModelRegistry;
  keyStore: SharedState['keyStore'];
  ledger: SqlLedger;
  /** Null when metrics are off. */
  metrics: Metrics | null;
  /** `http://host:port/metrics` (its own port when configured), null when metrics are off. */
  metricsUrl: string | null;
  keySource: KeySource;
  config: Config;
  /**
   * Shuts down within `server.drainTimeoutMs` plus the ledger flush: new requests get 503, running
   * ones may finish until the deadline, then end with an error (event); every ledger row is stored,
   * upstream connections are destroyed and the models freed. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Stops waiting for running requests now (a second signal); the ledger is still stored. */
  hurry(): void;
}

/** After the drain deadline: how long streams still being read get to deliver their error event. */
const ERROR_EVENT_GRACE_MS = 1_000;
/** After the connections are cut: how long request handlers get to record their ledger rows. */
const LEDGER_RECORD_GRACE_MS = 2_000;

/** Builds every dependency from a validated Config and starts listening. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const liveLine = new LiveLineGuard();
  const logger =
    options.logger ?? createLogger({ level: config.server.logLevel, format: config.server.logFormat, liveLine });
  const models = config.models.length > 0 ? config.models : [defaultModel(config)];
  // What the operator can get wrong is checked before anything is created: no database, key or model yet.
  await checkLocalModelFiles(models, config);
  await ensurePortFree(config.server.host, config.server.port);
  const registry = new ModelRegistry();
  const metrics = config.metrics.enabled ? new Metrics(registry, { perKeyTokens: config.metrics.perKeyTokens }) : null;
  const database = await openDatabase(config.database.url, { logger });
  const shared = await openSharedState(
    config,
    database,
    logger,
    metrics ? { onRefusal: (reason) => metrics.limitRefused(reason) } : {},
  );
  const { keyStore, ledger, admission, streamLog } = shared;
  metrics?.watchLedger(() => ledger.stats);

  const llama = models.some(needsLlamaRuntime) ? await loadEmbeddedRuntime(logger) : null;
  const build: EngineBuild = { config, llama, logger, metrics, liveLine };
  const created = Math.floor(Date.now() / 1000);
  for (const model of models)
    registry.add({ name: model.name, engines: buildEngines(model, build), created, ownedBy: 'oruel' });

  let loaded = false;
  const ready = waitForModels(registry, logger).then(() => {
    loaded = true;
  });
  ready.catch(() => undefined);
  const drain = new Drain();
  const app = await createApp({
    config,
    logger,
    registry,
    keyStore,
    ledger,
    admission,
    streamLog,
    isReady: () => loaded,
    drain,
    metrics,
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  });
  let metricsApp: Awaited<ReturnType<typeof serveMetricsApart>> | null = null;
  const parts: ServerParts = {
    app,
    drain,
    registry,
    shared,
    database,
    logger,
    closeMetrics: async () => metricsApp?.app.close(),
  };
  let url: string;
  try {
    url = await app.listen({ host: config.server.host, port: config.server.port });
    metricsApp = metrics && config.metrics.port !== null ? await serveMetricsApart(metrics, config, logger) : null;
  } catch (error) {
    await closeParts(parts);
    throw listenError(error, config.server.host, config.server.port);
  }
  const metricsUrl = metrics === null ? null : `${metricsApp?.url ?? url}/metrics`;
  // Only once the port is ours: a failed start never leaves a key nobody saw working.
  let keySource: KeySource = { kind: 'auth-disabled' };
  if (config.server.auth)
    keySource = await ensureFirstKey(keyStore, options.announce ?? ((text) => process.stdout.write(text)));
  else logger.warn('authentication is disabled (--no-auth): anyone who can reach this port can use it');

  let hurry!: () => void;
  const hurried = new Promise<void>((resolve) => (hurry = resolve));
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= shutdown(parts, config.server.drainTimeoutMs, hurried));
  return { app, url, ready, registry, keyStore, ledger, metrics, metricsUrl, keySource, config, close, hurry };
}

/** A missing or unreadable local model file is one line at start, before anything listens or is created. */
async function checkLocalModelFiles(models: ModelConfig[], config: Config): Promise<void> {
  for (const model of models) {
    const paths =
      model.engine === 'llama-cpp' ? [model.path] : model.embeddedDeployments.map((deployment) => deployment.path);
    for (const path of paths.filter((candidate) => !isHfUri(candidate))) {
      try {
        await resolveModelPath(path, { modelsDir: config.modelsDir, hfEndpoint: config.hfEndpoint });
      } catch (error) {
        throw new ModelLoadError(`Model "${model.name}" failed to load: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}

/** /metrics alone on its own port (scrapers on a private network, the API on a public one). */
async function serveMetricsApart(metrics: Metrics, config: Config, logger: Logger) {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await registerMetricsRoute(app, metrics, config.metrics.requireAdminToken ? config.admin.token : null);
  const url = await app.listen({ host: config.server.host, port: config.metrics.port ?? 0 });
  return { app, url };
}

async function ensureFirstKey(keyStore: KeyStore, announce: (text: string) => void): Promise<KeySource> {
  const active = await keyStore.countActive();
  if (active > 0) return { kind: 'existing', active };
  const { key } = await keyStore.create({ name: 'default' });
  announce(
    `\nNo API key existed, so one was created. It is shown this once; store it now:\n\n  ${key}\n\n` +
      `Use it as: Authorization: Bearer ${key.slice(0, 10)}...  (more keys: npx oruel keys create)\n\n`,
  );
  return { kind: 'created' };
}

function defaultModel(config: Config): LlamaCppModelConfig {
  return {
    name: DEFAULT_MODEL.name,
    engine: 'llama-cpp',
    path: DEFAULT_MODEL.uri,
    sequences: 2,
    contextSize: 0,
    threads: config.threads,
    gpuLayers: 'auto',
    maxQueue: 64,
    reusePrefix: true,
    embeddings: false,
  };
}

/** A model that fails to load is a failed start: the message names the model and the reason. */
async function waitForModels(registry: ModelRegistry, logger: Logger): Promise<void> {
  for (const model of registry.list()) {
    for (const engine of model.engines) {
      try {
        await engine.ready();
      } catch (error) {
        throw new ModelLoadError(`Model "${model.name}" failed to load: ${(error as Error).message}`, { cause: error });
      }
    }
    logger.info({ model: model.name }, 'model ready');
  }
}

export class ModelLoadError extends OperatorError {}

interface ServerParts {
  app: FastifyInstance;
  drain: Drain;
  registry: ModelRegistry;
  shared: SharedState;
  database: Database;
  logger: Logger;
  /** The /metrics server on its own port, when there is one. */
  closeMetrics: () => Promise<void>;
}

/**
 * The drain, bounded: refuse new requests, wait for running ones up to the deadline (or a second
 * signal), then cut them off with an error, close every connection, and store the ledger.
 */
async function shutdown(parts: ServerParts, drainTimeoutMs: number, hurried: Promise<void>): Promise<void> {
  const { drain, logger } = parts;
  drain.begin();
  const drained = await drain.whenIdle(drainTimeoutMs, hurried);
  if (!drained) {
    logger.warn({ running: drain.running }, 'drain deadline reached: ending the running requests with an error');
    drain.expire();
    // Clients still reading get the error event; those that stopped reading are cut off by app.close().
    await drain.whenIdle(ERROR_EVENT_GRACE_MS, hurried);
  }
  await closeParts(parts);
}

async function closeParts({ app, drain, registry, shared, database, closeMetrics }: ServerParts): Promise<void> {
  // forceCloseConnections: the sockets still open now (a client that stopped reading) are destroyed.
  await app.close();
  await closeMetrics();
  // Their handlers see the close and record their ledger rows before the ledger is closed.
  await drain.whenIdle(LEDGER_RECORD_GRACE_MS);
  await Promise.allSettled(registry.engines().map((engine) => engine.close()));
  await shared.close();
  await database.close();
}

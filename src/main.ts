import { OperatorError } from './errors/operator-error.js';
import type { FastifyInstance } from 'fastify';
import type { Llama } from 'node-llama-cpp';
import { pino, type Logger } from 'pino';
import type { KeyStore } from './auth/key-store.js';
import { DEFAULT_MODEL, type Config, type LlamaCppModelConfig, type ModelConfig, type OpenAIModelConfig, type UpstreamDeploymentConfig } from './config/schema.js';
import type { Engine } from './engines/engine.js';
import { LlamaCppEngine } from './engines/llama-cpp/llama-cpp-engine.js';
import { createLlamaRuntime } from './engines/llama-cpp/runtime.js';
import { OpenAIUpstreamEngine } from './engines/openai-upstream/openai-upstream-engine.js';
import { createApp } from './http/create-app.js';
import { createProgressDisplay } from './models/progress.js';
import { resolveModelPath } from './models/resolve-model.js';
import { Deployment } from './router/deployment.js';
import { ModelRegistry } from './router/model-registry.js';
import { DEFAULT_ROUTING_POLICY, SINGLE_ENGINE_POLICY, type RoutingPolicy } from './router/routing-policy.js';
import { openDatabase, type Database } from './storage/database.js';
import { openSharedState, type SharedState } from './main/shared-state.js';
import type { SqlLedger } from './usage/sql-ledger.js';

export interface ServerOptions {
  /** Where the first key of a fresh install is shown (once). Default: stdout. */
  announce?: (text: string) => void;
  /** Tests pass a silent logger. */
  logger?: Logger;
}

export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** Resolves when every model is loaded; rejects with a message for the operator when one fails. */
  ready: Promise<void>;
  registry: ModelRegistry;
  keyStore: SharedState['keyStore'];
  ledger: SqlLedger;
  /** Stops accepting requests, lets streams finish, stores every ledger row, frees the models. */
  close(): Promise<void>;
}

/** Builds every dependency from a validated Config and starts listening. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.server.logLevel });
  const database = await openDatabase(config.database.url, { logger });
  const shared = await openSharedState(config, database, logger);
  const { keyStore, ledger, admission } = shared;
  if (config.server.auth) await ensureFirstKey(keyStore, options.announce ?? ((text) => process.stdout.write(text)));
  else logger.warn('authentication is disabled (--no-auth): anyone who can reach this port can use it');

  const models = config.models.length > 0 ? config.models : [defaultModel(config)];
  const llama = models.some(needsLlamaRuntime) ? await createLlamaRuntime({ gpu: false, log: (level, message) => logger[level]({ source: 'llama.cpp' }, message) }) : null;
  const registry = new ModelRegistry();
  const created = Math.floor(Date.now() / 1000);
  for (const model of models) registry.add({ name: model.name, engines: buildEngines(model, config, llama, logger), created, ownedBy: 'oruel' });

  let loaded = false;
  const ready = waitForModels(registry, logger).then(() => {
    loaded = true;
  });
  ready.catch(() => undefined);
  const app = await createApp({ config, logger, registry, keyStore, ledger, admission, isReady: () => loaded });
  const url = await app.listen({ host: config.server.host, port: config.server.port });
  return { app, url, ready, registry, keyStore, ledger, close: () => shutdown(app, registry, shared, database) };
}

async function ensureFirstKey(keyStore: KeyStore, announce: (text: string) => void): Promise<void> {
  if ((await keyStore.countActive()) > 0) return;
  const { key } = await keyStore.create({ name: 'default' });
  announce(
    `\nNo API key existed, so one was created. It is shown this once; store it now:\n\n  ${key}\n\n` +
      `Use it as: Authorization: Bearer ${key.slice(0, 10)}...  (more keys: npx oruel keys create)\n\n`,
  );
}

function defaultModel(config: Config): LlamaCppModelConfig {
  return { name: DEFAULT_MODEL.name, engine: 'llama-cpp', path: DEFAULT_MODEL.uri, sequences: 2, contextSize: 0, threads: config.threads, gpuLayers: 'auto', maxQueue: 64 };
}

function needsLlamaRuntime(model: ModelConfig): boolean {
  return model.engine === 'llama-cpp' || model.embeddedDeployments.length > 0;
}

/** The engines behind one public model: one embedded engine, or a gateway model's deployments (upstream and embedded). */
function buildEngines(model: ModelConfig, config: Config, llama: Llama | null, logger: Logger): Deployment[] {
  if (model.engine === 'llama-cpp') return [new Deployment(buildLlamaCppEngine(model, config, llama, logger), 1, SINGLE_ENGINE_POLICY)];
  const policy: RoutingPolicy = { ...DEFAULT_ROUTING_POLICY, ...model.routing };
  const upstream = model.deployments.map(
    (deployment, index) => new Deployment(new OpenAIUpstreamEngine(upstreamOptions(model, deployment, index)), deployment.weight, policy),
  );
  const embedded = model.embeddedDeployments.map(
    ({ weight, ...deployment }) => new Deployment(buildLlamaCppEngine({ ...deployment, name: model.name }, config, llama, logger), weight, policy),
  );
  return [...upstream, ...embedded];
}

function upstreamOptions(model: OpenAIModelConfig, deployment: UpstreamDeploymentConfig, index: number): ConstructorParameters<typeof OpenAIUpstreamEngine>[0] {
  const host = new URL(deployment.url).host;
  const sharesHost = model.deployments.filter((other) => new URL(other.url).host === host).length > 1;
  return {
    publicName: model.name,
    url: deployment.url,
    apiKey: deployment.apiKey ?? null,
    upstreamModel: deployment.model,
    headers: deployment.headers,
    maxConcurrent: deployment.maxConcurrent ?? null,
    connectTimeoutMs: deployment.connectTimeoutMs,
    firstTokenTimeoutMs: deployment.firstTokenTimeoutMs,
    idleTimeoutMs: deployment.idleTimeoutMs,
    responseTimeoutMs: deployment.responseTimeoutMs,
    maxTokensField: deployment.maxTokensField,
    ...(sharesHost ? { idSuffix: `#${index}` } : {}),
  };
}

function buildLlamaCppEngine(model: LlamaCppModelConfig, config: Config, llama: Llama | null, logger: Logger): Engine {
  if (!llama) throw new Error('llama.cpp runtime missing');
  return new LlamaCppEngine({
    llama,
    name: model.name,
    modelPath: () => resolveModelFile(model, config, logger),
    sequences: model.sequences,
    contextSize: model.contextSize,
    threads: model.threads ?? config.threads,
    gpuLayers: model.gpuLayers,
    maxQueue: model.maxQueue,
  });
}

async function resolveModelFile(model: LlamaCppModelConfig, config: Config, logger: Logger): Promise<string> {
  const progress = model.path.startsWith('hf:') ? createProgressDisplay({ label: model.path }) : null;
  try {
    const path = await resolveModelPath(model.path, {
      modelsDir: config.modelsDir,
      hfEndpoint: config.hfEndpoint,
      ...(config.hfToken ? { token: config.hfToken } : {}),
      ...(progress ? { onProgress: progress.onProgress } : {}),
    });
    logger.info({ model: model.name, path }, 'loading model');
    return path;
  } finally {
    progress?.stop();
  }
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

async function shutdown(app: FastifyInstance, registry: ModelRegistry, shared: SharedState, database: Database): Promise<void> {
  await app.close();
  await Promise.allSettled(registry.engines().map((engine) => engine.close()));
  await shared.close();
  await database.close();
}

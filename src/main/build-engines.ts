import type { Llama } from 'node-llama-cpp';
import type { Logger } from 'pino';
import type {
  Config,
  LlamaCppModelConfig,
  ModelConfig,
  OpenAIModelConfig,
  UpstreamDeploymentConfig,
} from '../config/index.js';
import type { Engine } from '../engines/index.js';
// Types only: the modules themselves are imported when a config has an embedded model.
import type { LlamaCppEngine } from '../engines/llama-cpp/llama-cpp-engine.js';
import { OpenAIUpstreamEngine } from '../engines/openai-upstream/index.js';
import type { LiveLineGuard } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import { resolveModelPath } from '../models/index.js';
import { Deployment, DEFAULT_ROUTING_POLICY, SINGLE_ENGINE_POLICY, type RoutingPolicy } from '../router/index.js';

/** Building each public model's engines from its configuration (part of the composition root). */

/** What building an engine needs besides its own configuration. */
export interface EngineBuild {
  config: Config;
  llama: EmbeddedRuntime | null;
  logger: Logger;
  metrics: Metrics | null;
  liveLine: LiveLineGuard;
}

export function needsLlamaRuntime(model: ModelConfig): boolean {
  return model.engine === 'llama-cpp' || model.embeddedDeployments.length > 0;
}

/** llama.cpp's bindings and the embedded engine, with the one runtime they share. */
interface EmbeddedRuntime {
  llama: Llama;
  LlamaCppEngine: typeof LlamaCppEngine;
}

/**
 * Imported only when a config has an embedded model: node-llama-cpp and its native addon are most of
 * a gateway-only process's memory (about 100 MiB resident) and start-up time.
 */
export async function loadEmbeddedRuntime(logger: Logger): Promise<EmbeddedRuntime> {
  const [{ createLlamaRuntime }, { LlamaCppEngine }] = await Promise.all([
    import('../engines/llama-cpp/runtime.js'),
    import('../engines/llama-cpp/llama-cpp-engine.js'),
  ]);
  const llama = await createLlamaRuntime({
    gpu: false,
    log: (level, message) => logger[level]({ source: 'llama.cpp' }, message),
  });
  return { llama, LlamaCppEngine };
}

/** The engines behind one public model: one embedded engine, or a gateway model's deployments (upstream and embedded). */
export function buildEngines(model: ModelConfig, build: EngineBuild): Deployment[] {
  if (model.engine === 'llama-cpp')
    return [
      new Deployment(
        buildLlamaCppEngine(model, build),
        1,
        SINGLE_ENGINE_POLICY,
        build.metrics?.deploymentObserver(model.name),
      ),
    ];
  const policy: RoutingPolicy = { ...DEFAULT_ROUTING_POLICY, ...model.routing };
  const observer = build.metrics?.deploymentObserver(model.name);
  const upstream = model.deployments.map(
    (deployment, index) =>
      new Deployment(
        new OpenAIUpstreamEngine(upstreamOptions(model, deployment, index)),
        deployment.weight,
        policy,
        observer,
      ),
  );
  const embedded = model.embeddedDeployments.map(
    ({ weight, ...deployment }) =>
      new Deployment(buildLlamaCppEngine({ ...deployment, name: model.name }, build), weight, policy, observer),
  );
  return [...upstream, ...embedded];
}

function upstreamOptions(
  model: OpenAIModelConfig,
  deployment: UpstreamDeploymentConfig,
  index: number,
): ConstructorParameters<typeof OpenAIUpstreamEngine>[0] {
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

function buildLlamaCppEngine(model: LlamaCppModelConfig, build: EngineBuild): Engine {
  const { config, llama: embedded, metrics } = build;
  if (!embedded) throw new Error('llama.cpp runtime missing');
  return new embedded.LlamaCppEngine({
    llama: embedded.llama,
    name: model.name,
    modelPath: () => resolveModelFile(model, build),
    sequences: model.sequences,
    contextSize: model.contextSize,
    threads: model.threads ?? config.threads,
    gpuLayers: model.gpuLayers,
    maxQueue: model.maxQueue,
    reusePrefix: model.reusePrefix,
    embeddings: model.embeddings,
    ...(metrics ? { onQueueWait: metrics.queueWaitObserver(model.name) } : {}),
  });
}

async function resolveModelFile(
  model: LlamaCppModelConfig,
  { config, logger, liveLine }: EngineBuild,
): Promise<string> {
  // The progress bar (cli-progress) only for a download.
  const progress = model.path.startsWith('hf:')
    ? (await import('../models/progress.js')).createProgressDisplay({ label: model.path, liveLine })
    : null;
  try {
    const path = await resolveModelPath(model.path, {
      modelsDir: config.modelsDir,
      hfEndpoint: config.hfEndpoint,
      ...(config.hfToken ? { token: config.hfToken } : {}),
      ...(progress ? { onProgress: progress.onProgress } : {}),
      onDownloadStart: (url) =>
        logger.info({ model: model.name, uri: model.path, url }, `downloading ${model.path} from ${url}`),
    });
    logger.info({ model: model.name, path }, 'loading model');
    return path;
  } finally {
    progress?.stop();
  }
}

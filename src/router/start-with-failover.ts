import type { ChatRequest, Engine, PartQueue } from '../engines/index.js';
import { EngineError } from '../engines/index.js';
import { abortableSleep } from './abortable-sleep.js';
import { pickDeployment } from './balancer.js';
import type { Deployment } from './deployment.js';
import type { RoutingPolicy } from './routing-policy.js';

export interface StartedChat {
  engine: Engine;
  parts: PartQueue;
}

/**
 * Starts the chat on a deployment that accepts it: the one failover algorithm, for every model (a
 * model with one embedded engine has one deployment under SINGLE_ENGINE_POLICY). Only failures before
 * the stream began (rejections of startChat) move on, and only retryable ones: a request refused as
 * invalid would be refused everywhere. Once startChat resolved, the request belongs to that
 * deployment for good.
 *
 * `startWithFailover` is chat's use of it; `startAnyWork` takes any kind of work (text completion,
 * embeddings): `start` is what one deployment is asked to do, and its rejections decide, as for chat,
 * whether the next is tried.
 */
export async function startWithFailover(
  deployments: readonly Deployment[],
  request: ChatRequest,
  signal: AbortSignal,
): Promise<StartedChat> {
  const started = await startAnyWork(deployments, request.model, signal, (deployment) =>
    deployment.startChat(request, signal),
  );
  return { engine: started.engine, parts: started.value };
}

/**
 * Each attempt takes the least loaded deployment (weighted) that is neither cooling down nor already
 * tried for this request. When none is free now, it waits for the first one that will be within
 * `maxRetryWaitMs` (a deployment in cooldown, or one that failed with a short `retry-after`) rather
 * than sleeping while another could serve. At most `maxAttempts` attempts.
 */
export async function startAnyWork<T>(
  deployments: readonly Deployment[],
  model: string,
  signal: AbortSignal,
  start: (deployment: Deployment) => Promise<T>,
): Promise<{ engine: Deployment; value: T }> {
  const policy = deployments[0]?.policy;
  if (!policy) throw new EngineError('unavailable', `No engine serves model "${model}".`);
  /** Deployments tried for this request -> when they asked to be retried (null: not within this request). */
  const tried = new Map<Deployment, number | null>();
  let lastError: EngineError | null = null;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt += 1) {
    if (signal.aborted) throw signal.reason;
    const now = policy.now();
    let deployment = pickDeployment(
      deployments.filter((candidate) => !tried.has(candidate) && candidate.health.availableAt <= now),
    );
    if (!deployment) {
      const next = soonestRetry(deployments, tried, policy, now);
      if (!next) break;
      await abortableSleep(next.at - now, signal);
      deployment = next.deployment;
    }
    if (attempt > 0) deployment.observer.retried(deployment);
    try {
      const value = await start(deployment);
      if (lastError !== null) deployment.observer.failedOver(deployment);
      return { engine: deployment, value };
    } catch (error) {
      if (!(error instanceof EngineError) || !error.retryable || signal.aborted) throw error;
      lastError = error;
      tried.set(
        deployment,
        error.retryAfterMs === undefined ? null : policy.now() + Math.min(error.retryAfterMs, policy.maxRetryAfterMs),
      );
    }
  }
  if (lastError) throw exhausted(model, lastError, tried.size);
  throw allCoolingDown(model, deployments, policy);
}

/** The deployment that becomes usable first, if that is soon enough to wait for. */
function soonestRetry(
  deployments: readonly Deployment[],
  tried: Map<Deployment, number | null>,
  policy: RoutingPolicy,
  now: number,
): { deployment: Deployment; at: number } | null {
  let best: { deployment: Deployment; at: number } | null = null;
  for (const deployment of deployments) {
    const retryAt = tried.has(deployment) ? tried.get(deployment) : deployment.health.availableAt;
    if (retryAt === null || retryAt === undefined) continue;
    const at = Math.max(retryAt, deployment.health.availableAt);
    if (!best || at < best.at) best = { deployment, at };
  }
  return best && best.at - now <= policy.maxRetryWaitMs ? best : null;
}

/** Every attempt failed: the last failure's status and code, and a message that says so. */
function exhausted(model: string, last: EngineError, attempts: number): EngineError {
  if (attempts <= 1) return last;
  return new EngineError(
    last.code,
    `No deployment of model "${model}" could take the request (${attempts} tried); the last one said: ${last.message}`,
    {
      retryable: last.retryable,
      param: last.param,
      status: last.status,
      retryAfterMs: last.retryAfterMs,
      cause: last,
    },
  );
}

/** Nothing was tried: every deployment is cooling down. The client learns when to come back. */
function allCoolingDown(model: string, deployments: readonly Deployment[], policy: RoutingPolicy): EngineError {
  const now = policy.now();
  const first = deployments.reduce((soonest, deployment) =>
    deployment.health.availableAt < soonest.health.availableAt ? deployment : soonest,
  );
  const retryAfterMs = Math.max(0, Math.ceil(first.health.availableAt - now));
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (first.health.cause?.code === 'rate_limited') {
    return new EngineError(
      'rate_limited',
      `Every deployment of model "${model}" asked to slow down; retry in ${seconds} s.`,
      { retryAfterMs },
    );
  }
  return new EngineError(
    'unavailable',
    `Every deployment of model "${model}" is cooling down after repeated failures; retry in ${seconds} s.`,
    { retryAfterMs },
  );
}

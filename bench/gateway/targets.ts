import type { Label, Target } from './client.js';
import type { FakeUrls } from './fake-child.js';
import type { GatewayTarget } from './gateway-child.js';
import type { PipeTarget } from './pipe-child.js';

/** The three upstream behaviours, as each label reaches them. */
export interface TargetSet {
  instant: Target;
  slow: Target;
  idle: Target;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export function directTargets(fakes: FakeUrls): TargetSet {
  const direct = (url: string): Target => ({
    label: 'direct',
    url: `${url}/chat/completions`,
    headers: JSON_HEADERS,
    model: 'bench-upstream',
  });
  return { instant: direct(fakes.instant), slow: direct(fakes.slow), idle: direct(fakes.idle) };
}

export function pipeTargets(pipe: PipeTarget): TargetSet {
  const headers = { ...JSON_HEADERS, authorization: `Bearer ${pipe.apiKey}` };
  const through = (name: keyof TargetSet): Target => ({
    label: 'pipe',
    url: `${pipe.baseURL}/${name}/chat/completions`,
    headers,
    model: 'bench-upstream',
  });
  return { instant: through('instant'), slow: through('slow'), idle: through('idle') };
}

export function gatewayTargets(gateway: GatewayTarget): TargetSet {
  const headers = { ...JSON_HEADERS, authorization: `Bearer ${gateway.apiKey}` };
  const through = (model: keyof TargetSet): Target => ({
    label: 'gateway',
    url: `${gateway.baseURL}/chat/completions`,
    headers,
    model,
  });
  return { instant: through('instant'), slow: through('slow'), idle: through('idle') };
}

export type Targets = Record<Label, TargetSet>;

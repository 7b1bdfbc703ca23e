import type { FastifyInstance } from 'fastify';
import { TextChunkAssembler, TextCompletionAssembler } from '../../assembly/index.js';
import type { TextCompletionRequest, PartQueue } from '../../engines/index.js';
import { EngineError } from '../../engines/index.js';
import { newTextCompletionId } from '../../ids/index.js';
import type { Deployment, ModelRegistry } from '../../router/index.js';
import { startAnyWork } from '../../router/index.js';
import { SseWriter } from '../../sse/index.js';
import { parseCompletionRequest } from '../../validation/index.js';
import { collectParts } from '../chat/json-response.js';
import { streamParts } from '../chat/stream-response.js';
import {
  runInference,
  type AdmissionView,
  type InferenceDependencies,
  type InferenceScope,
} from '../inference/inference-request.js';
import { usageModeFor } from './chat-completions.js';

export interface CompletionsRouteDependencies extends InferenceDependencies {
  registry: ModelRegistry;
  keepAliveMs: number;
}

/**
 * POST /completions: OpenAI's legacy text completions. The same lifecycle (admission, cancellation,
 * one ledger row), the same stream and collect paths as chat; only the assembler differs.
 */
export function registerCompletionsRoute(app: FastifyInstance, deps: CompletionsRouteDependencies): void {
  app.post('/completions', (request, reply) =>
    runInference(request, reply, deps, 'completions', async (scope) => {
      const { request: completion, echo } = parseCompletionRequest(request.body);
      const model = deps.registry.resolve(completion.model);
      await scope.admit(admissionView(completion));
      const identity = { id: newTextCompletionId(), created: Math.floor(Date.now() / 1000), model: completion.model };
      const choices = completion.prompts.length * completion.n;
      const echoes = echo
        ? Array.from({ length: choices }, (_, choice) => completion.prompts[Math.floor(choice / completion.n)] ?? '')
        : null;
      const start = () => startText(model.engines, completion, scope);
      if (completion.stream) {
        reply.hijack();
        const assembler = new TextChunkAssembler(identity, choices, usageModeFor(completion.includeUsage), echoes);
        const job = {
          start,
          assembler,
          errorEvent: assembler.errorEvent.bind(assembler),
          meter: scope.meter,
          signal: scope.signal,
          cutOffByShutdown: scope.cutOffByShutdown,
          headers: reply.getHeaders() as Record<string, string>,
        };
        // The request's signal also ends a wait for `drain`: a reader that stopped reading cannot hold a shutdown.
        return streamParts(job, new SseWriter(reply.raw, deps.keepAliveMs, scope.signal), reply.raw);
      }
      const assembler = new TextCompletionAssembler(identity, choices, echoes);
      if (!(await collectParts(start, assembler, scope.meter, scope.signal))) return scope.stoppedBeforeAnswer();
      await reply.send(assembler.result());
      return { outcome: 'completed', status: 200, errorCode: null };
    }),
  );
}

async function startText(
  engines: readonly Deployment[],
  request: TextCompletionRequest,
  scope: InferenceScope,
): Promise<PartQueue> {
  const started = await startAnyWork(engines, request.model, scope.signal, (engine) => {
    if (!engine.startTextCompletion)
      throw new EngineError('invalid_request', `Model "${request.model}" does not serve text completions.`, {
        param: 'model',
      });
    return engine.startTextCompletion(request, scope.signal);
  });
  scope.onEngine(started.engine);
  return started.value;
}

/** Limits read prompts as user messages: the same estimate and reservation as a chat of those prompts. */
function admissionView(request: TextCompletionRequest): AdmissionView {
  return {
    model: request.model,
    messages: request.prompts.map((content) => ({ role: 'user', content })),
    tools: [],
    maxTokens: request.maxTokens,
    n: request.n * request.prompts.length,
  };
}

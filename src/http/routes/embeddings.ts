import type { FastifyInstance } from 'fastify';
import { toEmbeddingList } from '../../assembly/index.js';
import type { EmbeddingRequest } from '../../engines/index.js';
import { EngineError } from '../../engines/index.js';
import type { ModelRegistry } from '../../router/index.js';
import { startAnyWork } from '../../router/index.js';
import { parseEmbeddingRequest } from '../../validation/index.js';
import { runInference, type AdmissionView, type InferenceDependencies } from '../inference/inference-request.js';

export interface EmbeddingsRouteDependencies extends InferenceDependencies {
  registry: ModelRegistry;
}

/** POST /embeddings: the chat lifecycle (admission, cancellation, one ledger row), one JSON answer. */
export function registerEmbeddingsRoute(app: FastifyInstance, deps: EmbeddingsRouteDependencies): void {
  app.post('/embeddings', (request, reply) =>
    runInference(request, reply, deps, 'embeddings', async (scope) => {
      const { request: embedding, encoding } = parseEmbeddingRequest(request.body);
      const model = deps.registry.resolve(embedding.model);
      await scope.admit(admissionView(embedding));
      const started = await startAnyWork(model.engines, embedding.model, scope.signal, (engine) => {
        if (!engine.embed)
          throw new EngineError('invalid_request', `Model "${embedding.model}" does not serve embeddings.`, {
            param: 'model',
          });
        return engine.embed(embedding, scope.signal);
      });
      scope.onEngine(started.engine);
      const result = started.value;
      scope.meter.observe({
        type: 'usage',
        usage: { promptTokens: result.promptTokens, completionTokens: 0, source: result.source },
      });
      if (scope.signal.aborted) return scope.stoppedBeforeAnswer();
      await reply.send(toEmbeddingList(embedding.model, result, encoding));
      return { outcome: 'completed', status: 200, errorCode: null };
    }),
  );
}

/** Inputs read as messages for the token estimate (token arrays at about four characters a token); nothing is generated. */
function admissionView(request: EmbeddingRequest): AdmissionView {
  const messages = request.input.map((input) => ({
    role: 'user' as const,
    content: typeof input === 'string' ? input : ' '.repeat(input.length * 4),
  }));
  return { model: request.model, messages, tools: [], maxTokens: 0, n: 1 };
}

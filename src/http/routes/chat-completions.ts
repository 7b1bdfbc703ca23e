import type { FastifyInstance } from 'fastify';
import type { StreamUsageMode } from '../../assembly/index.js';
import { newCompletionId } from '../../ids/index.js';
import { GatewayError } from '../../errors/index.js';
import type { ModelRegistry } from '../../router/index.js';
import { SseWriter } from '../../sse/index.js';
import { parseChatRequest } from '../../validation/index.js';
import type { ChatContext } from '../chat/chat-context.js';
import { completeChat } from '../chat/json-response.js';
import { streamResumably, wantsResumable, type ResumableDependencies } from '../chat/resumable.js';
import { streamChat } from '../chat/stream-response.js';
import { runInference, type InferenceDependencies } from '../inference/inference-request.js';

export interface ChatRouteDependencies extends InferenceDependencies {
  registry: ModelRegistry;
  keepAliveMs: number;
  /** Streams that survive a dropped connection (opt-in per request); absent = never resumable. */
  resumable?: ResumableDependencies;
}

/** POST /chat/completions. Whatever happens, the ledger gets exactly one row (see runInference). */
export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDependencies): void {
  app.post('/chat/completions', (request, reply) =>
    runInference(request, reply, deps, 'chat.completions', async (scope) => {
      const parsed = parseChatRequest(request.body);
      const model = deps.registry.resolve(parsed.model);
      const lease = await scope.admit(parsed);
      // A budget without max_tokens: generation stops where the reservation ends.
      const chat =
        lease.maxCompletionTokens === null ? parsed : { ...parsed, serverMaxTokens: lease.maxCompletionTokens };
      const context: ChatContext = {
        request: chat,
        model,
        identity: { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: chat.model },
        meter: scope.meter,
        signal: scope.signal,
        cutOffByShutdown: scope.cutOffByShutdown,
        headers: reply.getHeaders() as ChatContext['headers'],
        onEngine: scope.onEngine,
      };
      if (chat.stream) {
        const usageMode = usageModeFor(chat.includeUsage);
        const resumable = deps.resumable && wantsResumable(request.headers) ? deps.resumable : null;
        // Registered before the first byte: a store that cannot take it is a real status, not a broken stream.
        if (resumable) {
          await resumable.log
            .create(context.identity.id, { keyId: request.apiKey?.id ?? null })
            .catch((error: unknown) => {
              throw new GatewayError(
                'unavailable',
                'Resumable streams are unavailable right now (their store failed); retry, or stream without Oruel-Resumable.',
                { cause: error },
              );
            });
        }
        reply.hijack();
        // The request's signal also ends a wait for `drain`: a reader that stopped reading cannot hold a shutdown.
        const writer = new SseWriter(reply.raw, deps.keepAliveMs, scope.signal);
        if (!resumable) return streamChat(context, writer, reply.raw, usageMode);
        const stream = { id: context.identity.id, keyId: request.apiKey?.id ?? null, writer, response: reply.raw };
        return streamResumably(resumable, scope, stream, (sink) => streamChat(context, sink, reply.raw, usageMode));
      }
      const completion = await completeChat(context);
      if (!completion) return scope.stoppedBeforeAnswer();
      await reply.send(completion);
      return { outcome: 'completed', status: 200, errorCode: null };
    }),
  );
}

/** The contract's default puts usage on the final chunk; an explicit include_usage speaks OpenAI's dialect. */
export function usageModeFor(includeUsage: boolean | undefined): StreamUsageMode {
  if (includeUsage === undefined) return 'final-chunk';
  return includeUsage ? 'separate-chunk' : 'none';
}

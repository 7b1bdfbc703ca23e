import type { FastifyInstance } from 'fastify';
import type { StreamUsageMode } from '../../assembly/chunk-assembler.js';
import { newCompletionId } from '../../engines/random-id.js';
import type { ModelRegistry } from '../../router/model-registry.js';
import { SseWriter } from '../../sse/sse-writer.js';
import { explicitIncludeUsage, parseChatRequest } from '../../validation/parse-chat-request.js';
import type { ChatContext } from '../chat/chat-context.js';
import { completeChat } from '../chat/json-response.js';
import { streamChat } from '../chat/stream-response.js';
import { runInference, type InferenceDependencies } from '../inference/inference-request.js';

export interface ChatRouteDependencies extends InferenceDependencies {
  registry: ModelRegistry;
  keepAliveMs: number;
}

/** POST /chat/completions. Whatever happens, the ledger gets exactly one row (see runInference). */
export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDependencies): void {
  app.post('/chat/completions', (request, reply) =>
    runInference(request, reply, deps, async (scope) => {
      const chat = parseChatRequest(request.body);
      const model = deps.registry.resolve(chat.model);
      await scope.admit(chat);
      const context: ChatContext = {
        request: chat,
        model,
        identity: { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: chat.model },
        meter: scope.meter,
        signal: scope.signal,
        headers: reply.getHeaders() as ChatContext['headers'],
        onEngine: scope.onEngine,
      };
      if (chat.stream) {
        reply.hijack();
        return streamChat(context, new SseWriter(reply.raw, deps.keepAliveMs), reply.raw, usageModeFor(request.body));
      }
      const completion = await completeChat(context);
      if (!completion) return { outcome: 'cancelled', status: 499, errorCode: null };
      await reply.send(completion);
      return { outcome: 'completed', status: 200, errorCode: null };
    }),
  );
}

/** The contract's default puts usage on the final chunk; an explicit include_usage speaks OpenAI's dialect. */
export function usageModeFor(body: unknown): StreamUsageMode {
  const explicit = explicitIncludeUsage(body);
  if (explicit === undefined) return 'final-chunk';
  return explicit ? 'separate-chunk' : 'none';
}

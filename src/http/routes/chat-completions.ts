import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StreamUsageMode } from '../../assembly/chunk-assembler.js';
import type { Engine } from '../../engines/engine.js';
import { newCompletionId } from '../../engines/random-id.js';
import { toGatewayError } from '../../errors/gateway-error.js';
import type { Admission, AdmissionLease } from '../../limits/admission.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { ModelRegistry } from '../../router/model-registry.js';
import type { Ledger, LedgerRecord } from '../../usage/ledger.js';
import { UsageMeter } from '../../usage/usage-meter.js';
import { explicitIncludeUsage, parseChatRequest } from '../../validation/parse-chat-request.js';
import { REQUEST_LIMITS } from '../../validation/request-limits.js';
import type { ChatContext, ChatOutcome } from '../chat/chat-context.js';
import { completeChat } from '../chat/json-response.js';
import { streamChat } from '../chat/stream-response.js';
import { RequestCancellation } from '../chat/request-cancellation.js';
import { shuttingDownError, type Drain } from '../drain.js';
import { sendError } from '../error-response.js';
import { logFinishedRequest } from '../request-log.js';

export interface ChatRouteDependencies {
  registry: ModelRegistry;
  ledger: Ledger;
  admission: Admission;
  keepAliveMs: number;
  /** The shutdown drain: each request counts as running until its ledger row is recorded. */
  drain: Drain;
  /** Null when metrics are off. */
  metrics: Metrics | null;
}

const ENDPOINT = 'chat.completions';

/** POST /chat/completions. Whatever happens, the ledger gets exactly one row (written in `finally`). */
export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDependencies): void {
  app.post('/chat/completions', async (request, reply) => {
    const startedAt = new Date();
    deps.metrics?.requestStarted(ENDPOINT);
    const meter = new UsageMeter();
    const leave = deps.drain.enter();
    const cancellation = new RequestCancellation(reply, deps.drain.deadlineSignal);
    let engine: Engine | null = null;
    let lease: AdmissionLease | null = null;
    let result: ChatOutcome = { outcome: 'error', status: 500, errorCode: 'internal_error' };
    const body = request.body as { model?: unknown; stream?: unknown } | null;
    try {
      result = await respond(request, reply, deps, meter, cancellation, (chosen) => (engine = chosen), (admitted) => (lease = admitted));
    } catch (error) {
      const gatewayError = cancellation.byShutdown ? shuttingDownError() : toGatewayError(error);
      // Only the unexpected deserves a stack; a 503 while loading or a 429 is in the request's own line.
      if (gatewayError.kind === 'internal_error' && !cancellation.byShutdown) request.log.error({ err: error }, 'chat request failed');
      result = cancellation.clientGone
        ? { outcome: 'cancelled', status: 499, errorCode: null }
        : { outcome: 'error', status: gatewayError.status, errorCode: gatewayError.toWire().code ?? gatewayError.kind };
      if (!reply.sent && !cancellation.clientGone) return sendError(reply, gatewayError);
    } finally {
      cancellation.dispose();
      const totals = meter.totals;
      // Frees the concurrency slot and turns the token reservation into the real count.
      (lease as AdmissionLease | null)?.settle(totals.promptTokens + totals.completionTokens);
      const record: LedgerRecord = {
        requestId: request.id,
        keyId: request.apiKey?.id ?? null,
        // Cut to the longest valid name: a refused request's megabyte-long name must not reach the ledger.
        model: typeof body?.model === 'string' ? body.model.slice(0, REQUEST_LIMITS.maxModelNameLength) : '',
        engine: (engine as Engine | null)?.id ?? null,
        stream: body?.stream === true,
        promptTokens: totals.promptTokens,
        completionTokens: totals.completionTokens,
        usageSource: totals.source,
        finishReason: meter.finish,
        outcome: result.outcome,
        errorCode: result.errorCode,
        status: result.status,
        ttftMs: meter.ttftMs,
        durationMs: Date.now() - startedAt.getTime(),
        startedAt,
        finishedAt: new Date(),
      };
      deps.ledger.record(record);
      // A 429 before admission let the request in is a key limit's refusal, not an engine's.
      const refused = lease === null && result.status === 429;
      deps.metrics?.requestFinished({ ...record, endpoint: ENDPOINT, outcome: refused ? 'refused' : record.outcome });
      logFinishedRequest(request, { ...record, outcome: refused ? 'refused' : record.outcome });
      leave();
    }
    return reply;
  });
}

async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ChatRouteDependencies,
  meter: UsageMeter,
  cancellation: RequestCancellation,
  onEngine: (engine: Engine) => void,
  onAdmitted: (lease: AdmissionLease) => void,
): Promise<ChatOutcome> {
  const parsed = parseChatRequest(request.body);
  const model = deps.registry.resolve(parsed.model);
  const lease = await deps.admission.admit(request.apiKey, parsed);
  const chat = lease.maxCompletionTokens === null ? parsed : { ...parsed, serverMaxTokens: lease.maxCompletionTokens };
  onAdmitted(lease);
  // On the reply before the context copies its headers: a stream commits them at its start.
  reply.headers(lease.headers);
  const context: ChatContext = {
    request: chat,
    model,
    identity: { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: chat.model },
    meter,
    signal: cancellation.signal,
    cutOffByShutdown: () => cancellation.byShutdown,
    headers: reply.getHeaders() as ChatContext['headers'],
    onEngine,
  };
  if (chat.stream) {
    reply.hijack();
    return streamChat(context, reply.raw, deps.keepAliveMs, usageModeFor(request.body));
  }
  const completion = await completeChat(context);
  if (!completion) {
    if (cancellation.byShutdown) throw shuttingDownError();
    return { outcome: 'cancelled', status: 499, errorCode: null };
  }
  await reply.send(completion);
  return { outcome: 'completed', status: 200, errorCode: null };
}

/** The contract's default puts usage on the final chunk; an explicit include_usage speaks OpenAI's dialect. */
function usageModeFor(body: unknown): StreamUsageMode {
  const explicit = explicitIncludeUsage(body);
  if (explicit === undefined) return 'final-chunk';
  return explicit ? 'separate-chunk' : 'none';
}

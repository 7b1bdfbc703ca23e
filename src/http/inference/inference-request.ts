import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../engines/engine.js';
import { toGatewayError } from '../../errors/gateway-error.js';
import type { Admission, AdmissionLease } from '../../limits/admission.js';
import type { Ledger } from '../../usage/ledger.js';
import { UsageMeter } from '../../usage/usage-meter.js';
import type { ChatOutcome } from '../chat/chat-context.js';
import { sendError } from '../error-response.js';

export interface InferenceDependencies {
  ledger: Ledger;
  admission: Admission;
}

/** What admission reads of a request (chat, or the prompts of another endpoint seen as messages). */
export type AdmissionView = Parameters<Admission['admit']>[1];

/** One inference request's own state, handed to the endpoint's handler. */
export interface InferenceScope {
  meter: UsageMeter;
  /** Aborted when the client goes away (or, once detached, when the owner of the work cancels it). */
  signal: AbortSignal;
  onEngine(engine: Engine): void;
  /** Step 4: the key's limits for this request; the lease's headers go on the reply. */
  admit(view: AdmissionView): Promise<AdmissionLease>;
  /**
   * From now on a client disconnect no longer cancels the work (resumable streams): the caller
   * cancels through `cancel` instead.
   */
  detachFromClient(): void;
  cancel(reason: Error): void;
}

/**
 * The lifecycle every inference endpoint shares: cancellation on disconnect, admission, and exactly
 * one ledger row with the tokens actually produced, written in `finally` whatever happened.
 */
export async function runInference(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: InferenceDependencies,
  handler: (scope: InferenceScope) => Promise<ChatOutcome>,
): Promise<FastifyReply> {
  const startedAt = new Date();
  const meter = new UsageMeter();
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  };
  reply.raw.once('close', onClose);
  let engine: Engine | null = null;
  let lease: AdmissionLease | null = null;
  let result: ChatOutcome = { outcome: 'error', status: 500, errorCode: 'internal_error' };
  const body = request.body as { model?: unknown; stream?: unknown } | null;
  const scope: InferenceScope = {
    meter,
    signal: controller.signal,
    onEngine: (chosen) => (engine = chosen),
    admit: async (view) => {
      lease = await deps.admission.admit(request.apiKey, view);
      // On the reply before a stream copies its headers: a stream commits them at its start.
      reply.headers(lease.headers);
      return lease;
    },
    detachFromClient: () => reply.raw.off('close', onClose),
    cancel: (reason) => controller.abort(reason),
  };
  try {
    result = await handler(scope);
  } catch (error) {
    const gatewayError = toGatewayError(error);
    if (gatewayError.status >= 500) request.log.error({ err: error }, 'inference request failed');
    result = controller.signal.aborted
      ? { outcome: 'cancelled', status: 499, errorCode: null }
      : { outcome: 'error', status: gatewayError.status, errorCode: gatewayError.toWire().code ?? gatewayError.kind };
    if (!reply.sent && !controller.signal.aborted) return sendError(reply, gatewayError);
  } finally {
    reply.raw.off('close', onClose);
    const totals = meter.totals;
    // Frees the concurrency slot and turns the token reservation into the real count.
    (lease as AdmissionLease | null)?.settle(totals.promptTokens + totals.completionTokens);
    deps.ledger.record({
      requestId: request.id,
      keyId: request.apiKey?.id ?? null,
      model: typeof body?.model === 'string' ? body.model : '',
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
    });
  }
  return reply;
}

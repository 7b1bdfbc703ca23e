import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../engines/index.js';
import { toGatewayError } from '../../errors/index.js';
import type { Admission, AdmissionLease } from '../../limits/index.js';
import type { Metrics } from '../../metrics/index.js';
import type { Ledger, LedgerRecord } from '../../usage/index.js';
import { UsageMeter } from '../../usage/index.js';
import { REQUEST_LIMITS } from '../../validation/index.js';
import type { ChatOutcome } from '../chat/chat-context.js';
import { RequestCancellation } from '../chat/request-cancellation.js';
import { shuttingDownError, type Drain } from '../drain.js';
import { sendError } from '../error-response.js';
import { logFinishedRequest } from '../request-log.js';

export interface InferenceDependencies {
  ledger: Ledger;
  admission: Admission;
  /** The shutdown drain: each request counts as running until its ledger row is recorded. */
  drain: Drain;
  /** Null when metrics are off. */
  metrics: Metrics | null;
}

/** What admission reads of a request (chat, or the prompts of another endpoint seen as messages). */
export type AdmissionView = Parameters<Admission['admit']>[1];

/** One inference request's own state, handed to the endpoint's handler. */
export interface InferenceScope {
  meter: UsageMeter;
  /** Aborted when the client goes away (until detached), or when the server's drain deadline passes. */
  signal: AbortSignal;
  /** True when the signal fired for the shutdown while the client is still there: it gets an error, not silence. */
  cutOffByShutdown: () => boolean;
  onEngine(engine: Engine): void;
  /** Step 4: the key's limits for this request; the lease's headers go on the reply. */
  admit(view: AdmissionView): Promise<AdmissionLease>;
  /**
   * From now on a client disconnect no longer cancels the work (resumable streams): the caller
   * cancels through `cancel` instead. The drain deadline still cancels it.
   */
  detachFromClient(): void;
  cancel(reason: Error): void;
  /**
   * A JSON answer that was stopped before it was ready: cancelled when the client left; when the
   * shutdown cut it off, throws the shutting-down error (the client is still there to read it).
   */
  stoppedBeforeAnswer(): ChatOutcome;
}

/**
 * The lifecycle every inference endpoint shares: cancellation on disconnect or at the drain deadline,
 * admission, and exactly one ledger row with the tokens actually produced, written in `finally`
 * whatever happened, with its metrics and its one log line. `endpoint` labels both
 * (`chat.completions`, `completions`, `embeddings`).
 */
export async function runInference(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: InferenceDependencies,
  endpoint: string,
  handler: (scope: InferenceScope) => Promise<ChatOutcome>,
): Promise<FastifyReply> {
  const startedAt = new Date();
  deps.metrics?.requestStarted(endpoint);
  const meter = new UsageMeter();
  const leave = deps.drain.enter();
  const cancellation = new RequestCancellation(reply, deps.drain.deadlineSignal);
  let engine: Engine | null = null;
  let lease: AdmissionLease | null = null;
  let result: ChatOutcome = { outcome: 'error', status: 500, errorCode: 'internal_error' };
  const body = request.body as { model?: unknown; stream?: unknown } | null;
  const scope: InferenceScope = {
    meter,
    signal: cancellation.signal,
    cutOffByShutdown: () => cancellation.byShutdown,
    onEngine: (chosen) => (engine = chosen),
    admit: async (view) => {
      lease = await deps.admission.admit(request.apiKey, view);
      // On the reply before a stream copies its headers: a stream commits them at its start.
      reply.headers(lease.headers);
      return lease;
    },
    detachFromClient: () => cancellation.detachFromClient(),
    cancel: (reason) => cancellation.cancel(reason),
    stoppedBeforeAnswer: () => {
      if (cancellation.byShutdown) throw shuttingDownError();
      return { outcome: 'cancelled', status: 499, errorCode: null };
    },
  };
  try {
    result = await handler(scope);
  } catch (error) {
    const gatewayError = cancellation.byShutdown ? shuttingDownError() : toGatewayError(error);
    // Only the unexpected deserves a stack; a 503 while loading or a 429 is in the request's own line.
    if (gatewayError.kind === 'internal_error' && !cancellation.byShutdown)
      request.log.error({ err: error }, 'inference request failed');
    result = cancellation.clientGone
      ? { outcome: 'cancelled', status: 499, errorCode: null }
      : { outcome: 'error', status: gatewayError.status, errorCode: gatewayError.toWire().code ?? gatewayError.kind };
    if (!reply.sent && !cancellation.clientGone) return sendError(reply, gatewayError);
  } finally {
    cancellation.dispose();
    const totals = meter.totals;
    // Frees the concurrency slot and turns the token reservation into the real count.
    (lease as AdmissionLease | null)?.settle(totals.promptTokens + totals.completionTokens);
    const finishedAt = new Date();
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
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      startedAt,
      finishedAt,
    };
    deps.ledger.record(record);
    // One object for the metrics and the log line (they read the same fields).
    const finished = {
      endpoint,
      model: record.model,
      engine: record.engine,
      keyId: record.keyId,
      stream: record.stream,
      status: record.status,
      // A 429 before admission let the request in is a key limit's refusal, not an engine's.
      outcome: lease === null && result.status === 429 ? ('refused' as const) : record.outcome,
      errorCode: record.errorCode,
      finishReason: record.finishReason,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      ttftMs: record.ttftMs,
      durationMs: record.durationMs,
    };
    deps.metrics?.requestFinished(finished);
    logFinishedRequest(request, finished);
    leave();
  }
  return reply;
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { toGatewayError, GatewayError } from '../../errors/index.js';
import {
  StreamGoneError,
  type EventLog,
  type LoggedEvent,
  STREAM_ID_HEADER,
  sseEvent,
  SseWriter,
} from '../../sse/index.js';
import { shuttingDownError } from '../drain.js';
import { writeRawError } from '../error-response.js';

export interface StreamResumeDependencies {
  log: EventLog;
  keepAliveMs: number;
  graceMs: number;
  /** The drain deadline: a reader still attached then is cut off, as a generating stream is. */
  shutdown: AbortSignal;
}

/**
 * GET /chat/completions/{id}/stream with `Last-Event-ID`: the events after that id, each once, then the
 * rest as they are generated, ending as the stream ends (final chunk and `[DONE]`, or its error event).
 * Only the key that started the stream may resume it; any other sees the same 404 as an unknown id.
 * While a reader is attached it says so through the log, so the owner (on whichever replica) keeps generating.
 */
export function registerStreamResumeRoute(app: FastifyInstance, deps: StreamResumeDependencies): void {
  app.get('/chat/completions/:id/stream', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const afterSeq = lastEventId(request);
    const owner = await deps.log.owner(id);
    if (!owner || owner.keyId !== (request.apiKey?.id ?? null)) throw streamNotFound(id);
    reply.hijack();
    const response = reply.raw;
    const controller = new AbortController();
    const writer = new SseWriter(response, deps.keepAliveMs, controller.signal);
    const stop = () => controller.abort();
    response.once('close', stop);
    if (deps.shutdown.aborted) stop();
    else deps.shutdown.addEventListener('abort', stop, { once: true });
    const headers = { ...(reply.getHeaders() as Record<string, string>), [STREAM_ID_HEADER]: id };
    const heartbeat = setInterval(
      () => void deps.log.touchReader(id).catch(() => undefined),
      Math.max(20, Math.min(1_000, Math.floor(deps.graceMs / 3))),
    );
    try {
      await deps.log.touchReader(id);
      writer.openIfStillWaiting(headers);
      const events = deps.log.read(id, afterSeq, controller.signal)[Symbol.asyncIterator]();
      let next: IteratorResult<LoggedEvent>;
      try {
        next = await events.next();
      } catch (error) {
        if (writer.isOpen) throw error;
        writeRawError(
          response,
          error instanceof StreamGoneError ? streamNotFound(id, error.message) : toGatewayError(error),
          headers,
        );
        writer.end();
        return;
      }
      writer.open(headers);
      let ended = false;
      for (; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.data !== null) await writer.sendText(sseEvent(event.seq, event.data));
        if (event.terminal) {
          ended = true;
          if (writer.writable) await deps.log.markDelivered(id);
          break;
        }
      }
      // Cut off by the drain deadline: the reader learns why (and may resume on another replica).
      if (!ended && deps.shutdown.aborted) throw shuttingDownError();
      writer.end();
    } catch (error) {
      // Mid-resume: the contract's error event (the events asked for are gone, or the store failed), no [DONE].
      const wire = (
        error instanceof StreamGoneError ? streamNotFound(id, error.message) : toGatewayError(error)
      ).toWire();
      await writer.sendText(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: '', choices: [{ index: 0, delta: {}, finish_reason: 'error' }], error: wire })}\n\n`,
      );
      writer.end();
    } finally {
      clearInterval(heartbeat);
      deps.shutdown.removeEventListener('abort', stop);
    }
  });
}

function lastEventId(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  if (header === undefined || header === '') return 0;
  const value = Number(header);
  if (typeof header !== 'string' || !Number.isSafeInteger(value) || value < 0) {
    throw new GatewayError(
      'invalid_request',
      'Last-Event-ID must be the id of an event of this stream (a non-negative integer).',
      { param: 'Last-Event-ID' },
    );
  }
  return value;
}

function streamNotFound(id: string, detail?: string): GatewayError {
  return new GatewayError(
    'stream_not_found',
    `No resumable stream ${id} for this key: it never existed, belongs to another key, or its resume window passed.${detail ? ` (${detail})` : ''}`,
  );
}

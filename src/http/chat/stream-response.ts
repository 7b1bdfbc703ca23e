import type { ServerResponse } from 'node:http';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from '../../assembly/chunk-assembler.js';
import type { StreamPart } from '../../engines/engine.js';
import { toGatewayError, type GatewayError, type WireError } from '../../errors/gateway-error.js';
import { startWithFailover } from '../../router/start-with-failover.js';
import type { UsageMeter } from '../../usage/usage-meter.js';
import { writeRawError } from '../error-response.js';
import type { ChatContext, ChatOutcome } from './chat-context.js';

/** Where a stream's events go: the SSE writer, or a resumable stream's log (which feeds writers). */
export interface EventSink {
  readonly isOpen: boolean;
  openIfStillWaiting(headers: Record<string, string | number | string[]>): void;
  open(headers?: Record<string, string | number | string[]>): void;
  send(events: readonly unknown[]): Promise<void>;
  /** `[DONE]`, then the end. */
  done(): void;
  /** The end without `[DONE]` (after an error event, or a cancel). */
  end(): void;
}

/** Parts -> wire events for one endpoint (chat chunks, text_completion chunks). Pure. */
export interface EventAssembler {
  start(): unknown[];
  accept(part: StreamPart): unknown[];
  end(): unknown[];
  readonly failed: boolean;
  readonly failureCode: string | null;
}

/** One streamed response, whatever the endpoint: how to start the work and how to show its parts. */
export interface StreamJob {
  start: () => Promise<AsyncIterable<StreamPart>>;
  assembler: EventAssembler;
  errorEvent: (error: WireError) => unknown;
  meter: UsageMeter;
  signal: AbortSignal;
  headers: Record<string, string | number | string[]>;
}

/** A streamed chat: the chat assembler over the common stream path. */
export function streamChat(context: ChatContext, sink: EventSink, response: ServerResponse, usageMode: StreamUsageMode): Promise<ChatOutcome> {
  return streamParts(
    {
      start: async () => {
        const started = await startWithFailover(context.model.engines, context.request, context.signal);
        context.onEngine(started.engine);
        return started.parts;
      },
      assembler: new ChunkAssembler(context.identity, context.request.n, usageMode),
      errorEvent: (error) => errorChunk(context.identity, error),
      meter: context.meter,
      signal: context.signal,
      headers: context.headers,
    },
    sink,
    response,
  );
}

/**
 * The one stream path: headers go out as soon as an engine accepts the work (or at the first keep-alive
 * if it keeps us waiting); before that, failures are real statuses; after it, an error event.
 */
export async function streamParts(job: StreamJob, sink: EventSink, response: ServerResponse): Promise<ChatOutcome> {
  sink.openIfStillWaiting(job.headers);
  let parts: AsyncIterable<StreamPart>;
  try {
    parts = await job.start();
  } catch (error) {
    if (job.signal.aborted) return cancelled(sink);
    return failBeforeParts(sink, response, job, toGatewayError(error));
  }
  sink.open(job.headers);
  const assembler = job.assembler;
  await sink.send(assembler.start());
  try {
    for await (const part of parts) {
      job.meter.observe(part);
      await sink.send(assembler.accept(part));
    }
  } catch (error) {
    await sink.send([job.errorEvent(toGatewayError(error).toWire())]);
    sink.end();
    return { outcome: 'error', status: 200, errorCode: toGatewayError(error).toWire().code };
  }
  if (job.signal.aborted) return cancelled(sink);
  await sink.send(assembler.end());
  if (assembler.failed) {
    sink.end();
    return { outcome: 'error', status: 200, errorCode: assembler.failureCode };
  }
  sink.done();
  return { outcome: 'completed', status: 200, errorCode: null };
}

async function failBeforeParts(sink: EventSink, response: ServerResponse, job: StreamJob, error: GatewayError): Promise<ChatOutcome> {
  const wire = error.toWire();
  if (sink.isOpen) {
    // The keep-alive already committed a 200: the failure can only be an error event now.
    await sink.send([job.errorEvent(wire)]);
    sink.end();
    return { outcome: 'error', status: 200, errorCode: wire.code };
  }
  // The status and JSON body first: ending the writer first would commit an empty 200.
  writeRawError(response, error, job.headers);
  sink.end();
  return { outcome: 'error', status: error.status, errorCode: wire.code ?? error.kind };
}

function cancelled(sink: EventSink): ChatOutcome {
  sink.end();
  return { outcome: 'cancelled', status: sink.isOpen ? 200 : 499, errorCode: null };
}

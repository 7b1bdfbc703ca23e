import type { ServerResponse } from 'node:http';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from '../../assembly/index.js';
import type { StreamPart, PartQueue } from '../../engines/index.js';
import { toGatewayError, type GatewayError, type WireError } from '../../errors/index.js';
import { startWithFailover } from '../../router/index.js';
import type { EventSink } from '../../sse/index.js';
import type { UsageMeter } from '../../usage/index.js';
import { shuttingDownError } from '../drain.js';
import { writeRawError } from '../error-response.js';
import type { ChatContext, ChatOutcome } from './chat-context.js';

type Headers = Record<string, string | number | string[]>;

/** Parts -> wire events for one endpoint (chat chunks, text_completion chunks). Pure. */
interface EventAssembler {
  start(): unknown[];
  /** A part's events as the sink takes them: objects, or an event's JSON text already (see EventSink). */
  acceptWire(part: StreamPart): unknown[];
  end(): unknown[];
  readonly failed: boolean;
  readonly failureCode: string | null;
}

/** One streamed response, whatever the endpoint: how to start the work and how to show its parts. */
export interface StreamJob {
  start: () => Promise<PartQueue>;
  assembler: EventAssembler;
  errorEvent: (error: WireError) => unknown;
  meter: UsageMeter;
  signal: AbortSignal;
  /** True when the signal fired for the shutdown while the client is still there. */
  cutOffByShutdown: () => boolean;
  headers: Headers;
}

/** A streamed chat: the chat assembler over the common stream path. */
export function streamChat(
  context: ChatContext,
  sink: EventSink,
  response: ServerResponse,
  usageMode: StreamUsageMode,
): Promise<ChatOutcome> {
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
      cutOffByShutdown: context.cutOffByShutdown,
      headers: context.headers,
    },
    sink,
    response,
  );
}

/**
 * The one stream path, for every endpoint: status, headers, the opening events and the first token
 * leave together in one socket write (or the headers leave at the first keep-alive if the engine keeps
 * us waiting); before that, failures are real statuses; after it, an error event. Then each batch of
 * parts that waited together is one write; deltas are merged only while the client reads slower than
 * the engine produces.
 */
export async function streamParts(job: StreamJob, sink: EventSink, response: ServerResponse): Promise<ChatOutcome> {
  sink.openIfStillWaiting(job.headers);
  let parts: PartQueue;
  try {
    parts = await job.start();
  } catch (error) {
    if (job.signal.aborted) return stopped(sink, response, job);
    return endWithError(sink, response, job, toGatewayError(error));
  }
  const assembler = job.assembler;
  let opening = assembler.start();
  if (!parts.hasWaiting) {
    // The engine accepted but has no token yet (a queue, a long prompt): the client learns it now.
    sink.open(job.headers);
    await sink.send(opening);
    opening = [];
  }
  // Otherwise the opening events and the first batch leave together, in the headers' write.
  try {
    for (let batch = await parts.nextBatch(); batch; batch = await parts.nextBatch(!sink.keepingUp)) {
      const events = opening;
      opening = [];
      for (const part of batch) {
        job.meter.observe(part);
        for (const event of assembler.acceptWire(part)) events.push(event);
      }
      if (parts.drainedToEnd) {
        // Nothing more can come: these leave with the final chunk and [DONE], in one write (none is delayed).
        opening = events;
        break;
      }
      sink.open(job.headers);
      await sink.send(events);
      parts.written();
    }
  } catch (error) {
    if (job.signal.aborted) return stopped(sink, response, job);
    const wire = toGatewayError(error).toWire();
    await sink.send([job.errorEvent(wire)]);
    sink.end();
    return { outcome: 'error', status: 200, errorCode: wire.code };
  } finally {
    parts.cancel();
  }
  if (job.signal.aborted) return stopped(sink, response, job);
  sink.open(job.headers);
  const closing = [...opening, ...assembler.end()];
  if (assembler.failed) {
    await sink.send(closing);
    sink.end();
    return { outcome: 'error', status: 200, errorCode: assembler.failureCode };
  }
  // The final chunk (finish_reason, usage) and [DONE] leave with the end of the response, in one write.
  sink.done(closing);
  parts.written();
  return { outcome: 'completed', status: 200, errorCode: null };
}

/** An error before the first byte is a status and a JSON body; after it, the contract's error event. */
async function endWithError(
  sink: EventSink,
  response: ServerResponse,
  job: StreamJob,
  error: GatewayError,
): Promise<ChatOutcome> {
  const wire = error.toWire();
  if (sink.isOpen) {
    // The keep-alive already committed a 200: the failure can only be an error event now.
    await sink.send([job.errorEvent(wire)]);
    sink.end();
    return { outcome: 'error', status: 200, errorCode: wire.code };
  }
  // The status and JSON body first: ending the sink first would commit an empty 200.
  writeRawError(response, error, job.headers);
  sink.end();
  return { outcome: 'error', status: error.status, errorCode: wire.code ?? error.kind };
}

/** The client left (nobody to tell), or the drain deadline cut the stream off (the client is told so). */
async function stopped(sink: EventSink, response: ServerResponse, job: StreamJob): Promise<ChatOutcome> {
  if (job.cutOffByShutdown() && sink.writable) return endWithError(sink, response, job, shuttingDownError());
  return cancelled(sink);
}

function cancelled(sink: EventSink): ChatOutcome {
  sink.end();
  return { outcome: 'cancelled', status: sink.isOpen ? 200 : 499, errorCode: null };
}

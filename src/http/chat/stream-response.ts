import type { ServerResponse } from 'node:http';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from '../../assembly/chunk-assembler.js';
import type { StreamPart } from '../../engines/engine.js';
import { toGatewayError, type GatewayError } from '../../errors/gateway-error.js';
import { startWithFailover } from '../../router/start-with-failover.js';
import { SseWriter } from '../../sse/sse-writer.js';
import { shuttingDownError } from '../drain.js';
import { writeRawError } from '../error-response.js';
import type { ChatContext, ChatOutcome } from './chat-context.js';

/**
 * A streamed chat: headers go out as soon as an engine accepts the work (or at the first keep-alive
 * if it keeps us waiting); before that, failures are real statuses; after it, an error event.
 */
export async function streamChat(context: ChatContext, response: ServerResponse, keepAliveMs: number, usageMode: StreamUsageMode): Promise<ChatOutcome> {
  // The request's signal also ends a wait for `drain`: a reader that stopped reading cannot hold a shutdown.
  const writer = new SseWriter(response, keepAliveMs, context.signal);
  writer.openIfStillWaiting(context.headers);
  let parts: AsyncIterable<StreamPart>;
  try {
    const started = await startWithFailover(context.model.engines, context.request, context.signal);
    context.onEngine(started.engine);
    parts = started.parts;
  } catch (error) {
    if (context.signal.aborted) return stopped(writer, response, context);
    return endWithError(writer, response, context, toGatewayError(error));
  }
  writer.open(context.headers);
  const assembler = new ChunkAssembler(context.identity, context.request.n, usageMode);
  await writer.send(assembler.start());
  try {
    for await (const part of parts) {
      context.meter.observe(part);
      await writer.send(assembler.accept(part));
    }
  } catch (error) {
    if (context.signal.aborted) return stopped(writer, response, context);
    await writer.send([errorChunk(context.identity, toGatewayError(error).toWire())]);
    writer.end();
    return { outcome: 'error', status: 200, errorCode: toGatewayError(error).toWire().code };
  }
  if (context.signal.aborted) return stopped(writer, response, context);
  await writer.send(assembler.end());
  if (assembler.failed) {
    writer.end();
    return { outcome: 'error', status: 200, errorCode: assembler.failureCode };
  }
  writer.done();
  return { outcome: 'completed', status: 200, errorCode: null };
}

/** An error before the first byte is a status and a JSON body; after it, the contract's error event. */
async function endWithError(writer: SseWriter, response: ServerResponse, context: ChatContext, error: GatewayError): Promise<ChatOutcome> {
  const wire = error.toWire();
  if (writer.isOpen) {
    // The keep-alive already committed a 200: the failure can only be an error event now.
    await writer.send([errorChunk(context.identity, wire)]);
    writer.end();
    return { outcome: 'error', status: 200, errorCode: wire.code };
  }
  // The status and JSON body first: ending the writer first would commit an empty 200.
  writeRawError(response, error, context.headers);
  writer.end();
  return { outcome: 'error', status: error.status, errorCode: wire.code ?? error.kind };
}

/** The client left (nobody to tell), or the drain deadline cut the stream off (the client is told so). */
async function stopped(writer: SseWriter, response: ServerResponse, context: ChatContext): Promise<ChatOutcome> {
  if (context.cutOffByShutdown() && writer.writable) return endWithError(writer, response, context, shuttingDownError());
  return cancelled(writer);
}

function cancelled(writer: SseWriter): ChatOutcome {
  writer.end();
  return { outcome: 'cancelled', status: writer.isOpen ? 200 : 499, errorCode: null };
}

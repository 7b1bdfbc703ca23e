import type { ServerResponse } from 'node:http';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from '../../assembly/chunk-assembler.js';
import type { PartQueue } from '../../engines/part-queue.js';
import { toGatewayError, type GatewayError } from '../../errors/gateway-error.js';
import { startWithFailover } from '../../router/start-with-failover.js';
import { SseWriter } from '../../sse/sse-writer.js';
import { shuttingDownError } from '../drain.js';
import { writeRawError } from '../error-response.js';
import type { ChatContext, ChatOutcome } from './chat-context.js';

/**
 * A streamed chat: status, headers, the role chunk and the first token leave together in one socket
 * write (or the headers leave at the first keep-alive if the engine keeps us waiting); before that,
 * failures are real statuses; after it, an error event. Then each batch of parts that waited together
 * is one write; deltas are merged only while the client reads slower than the engine produces.
 */
export async function streamChat(context: ChatContext, response: ServerResponse, keepAliveMs: number, usageMode: StreamUsageMode): Promise<ChatOutcome> {
  // The request's signal also ends a wait for `drain`: a reader that stopped reading cannot hold a shutdown.
  const writer = new SseWriter(response, keepAliveMs, context.signal);
  writer.openIfStillWaiting(context.headers);
  let parts: PartQueue;
  try {
    const started = await startWithFailover(context.model.engines, context.request, context.signal);
    context.onEngine(started.engine);
    parts = started.parts;
  } catch (error) {
    if (context.signal.aborted) return stopped(writer, response, context);
    return endWithError(writer, response, context, toGatewayError(error));
  }
  const assembler = new ChunkAssembler(context.identity, context.request.n, usageMode);
  let opening = assembler.start();
  if (!parts.hasWaiting) {
    // The engine accepted but has no token yet (a queue, a long prompt): the client learns it now.
    writer.open(context.headers);
    await writer.send(opening);
    opening = [];
  }
  // Otherwise the role chunk and the first batch leave together, in the headers' write.
  try {
    for (let batch = await parts.nextBatch(); batch; batch = await parts.nextBatch(!writer.keepingUp)) {
      const chunks = opening;
      opening = [];
      for (const part of batch) {
        context.meter.observe(part);
        for (const chunk of assembler.accept(part)) chunks.push(chunk);
      }
      writer.open(context.headers);
      await writer.send(chunks);
      parts.written();
    }
  } catch (error) {
    if (context.signal.aborted) return stopped(writer, response, context);
    await writer.send([errorChunk(context.identity, toGatewayError(error).toWire())]);
    writer.end();
    return { outcome: 'error', status: 200, errorCode: toGatewayError(error).toWire().code };
  } finally {
    parts.cancel();
  }
  if (context.signal.aborted) return stopped(writer, response, context);
  writer.open(context.headers);
  const closing = [...opening, ...assembler.end()];
  if (assembler.failed) {
    await writer.send(closing);
    writer.end();
    return { outcome: 'error', status: 200, errorCode: assembler.failureCode };
  }
  // The final chunk (finish_reason, usage) and [DONE] leave with the end of the response, in one write.
  writer.done(closing);
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

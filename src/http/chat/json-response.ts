import { CompletionAssembler } from '../../assembly/index.js';
import type { WireCompletion } from '../../assembly/index.js';
import type { StreamPart, EngineError, PartQueue } from '../../engines/index.js';
import { toGatewayError } from '../../errors/index.js';
import { startWithFailover } from '../../router/index.js';
import type { UsageMeter } from '../../usage/index.js';
import type { ChatContext } from './chat-context.js';

/** A non-streamed chat: the same parts as a stream, collected into one chat.completion. */
export async function completeChat(context: ChatContext): Promise<WireCompletion | null> {
  const assembler = new CompletionAssembler(context.identity, context.request.n);
  const collected = await collectParts(
    async () => {
      const started = await startWithFailover(context.model.engines, context.request, context.signal);
      context.onEngine(started.engine);
      return started.parts;
    },
    assembler,
    context.meter,
    context.signal,
  );
  return collected ? assembler.result() : null;
}

/** The non-stream path for any endpoint: every part through the meter into a collector. False when cancelled. */
export async function collectParts(
  start: () => Promise<PartQueue>,
  collector: { accept(part: StreamPart): void; readonly error: EngineError | null },
  meter: UsageMeter,
  signal: AbortSignal,
): Promise<boolean> {
  const parts = await start();
  try {
    for (let batch = await parts.nextBatch(); batch; batch = await parts.nextBatch()) {
      for (const part of batch) {
        meter.observe(part);
        collector.accept(part);
      }
    }
  } finally {
    parts.cancel();
  }
  if (signal.aborted) return false;
  if (collector.error) throw toGatewayError(collector.error);
  return true;
}

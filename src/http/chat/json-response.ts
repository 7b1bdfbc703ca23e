import { CompletionAssembler } from '../../assembly/completion-assembler.js';
import type { WireCompletion } from '../../assembly/wire-types.js';
import { toGatewayError } from '../../errors/gateway-error.js';
import { startWithFailover } from '../../router/start-with-failover.js';
import type { ChatContext } from './chat-context.js';

/** A non-streamed chat: the same parts as a stream, collected into one chat.completion. */
export async function completeChat(context: ChatContext): Promise<WireCompletion | null> {
  const started = await startWithFailover(context.model.engines, context.request, context.signal);
  context.onEngine(started.engine);
  const assembler = new CompletionAssembler(context.identity, context.request.n);
  for await (const part of started.parts) {
    context.meter.observe(part);
    assembler.accept(part);
  }
  if (context.signal.aborted) return null;
  if (assembler.error) throw toGatewayError(assembler.error);
  return assembler.result();
}

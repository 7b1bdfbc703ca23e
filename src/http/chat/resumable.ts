import type { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../logging/index.js';
import type { EventLog, SseWriter, EventSink } from '../../sse/index.js';
import { ResumableStream } from '../../sse/index.js';
import type { InferenceScope } from '../inference/inference-request.js';
import type { ChatOutcome } from './chat-context.js';

/** The request header a client opts in with. */
const RESUMABLE_HEADER = 'oruel-resumable';

export interface ResumableDependencies {
  log: EventLog;
  graceMs: number;
  logger: Logger;
}

export function wantsResumable(headers: IncomingHttpHeaders): boolean {
  const value = headers[RESUMABLE_HEADER];
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

/**
 * Runs a stream as a resumable one: registered in the event log under `id` (owned by the key), the
 * work detached from the client's socket (the stream decides when to cancel), and the ledger outcome
 * saying so when the window passed with nobody resuming.
 */
export async function streamResumably(
  deps: ResumableDependencies,
  scope: InferenceScope,
  stream: { id: string; keyId: string | null; writer: SseWriter; response: ServerResponse },
  run: (sink: EventSink) => Promise<ChatOutcome>,
): Promise<ChatOutcome> {
  scope.detachFromClient();
  const resumable = new ResumableStream(stream.id, stream.writer, stream.response, {
    log: deps.log,
    logger: deps.logger,
    graceMs: deps.graceMs,
    cancel: scope.cancel,
  });
  const outcome = await run(resumable);
  await resumable.settled();
  if (resumable.expired && outcome.outcome === 'cancelled') return { ...outcome, errorCode: 'resume_window_expired' };
  return outcome;
}

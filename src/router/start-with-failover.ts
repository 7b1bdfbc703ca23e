import type { ChatRequest, Engine, StreamPart } from '../engines/engine.js';
import { EngineError } from '../engines/engine-error.js';

export interface StartedChat {
  engine: Engine;
  parts: AsyncIterable<StreamPart>;
}

/**
 * Starts the chat on the first engine that accepts it. Only failures before the stream began
 * (rejections of startChat) move on to the next engine, and only retryable ones: a request the
 * engine refused as invalid would be refused everywhere.
 */
export async function startWithFailover(engines: readonly Engine[], request: ChatRequest, signal: AbortSignal): Promise<StartedChat> {
  let lastError: unknown = new EngineError('unavailable', `No engine serves model "${request.model}".`);
  for (const engine of engines) {
    if (signal.aborted) throw signal.reason;
    try {
      return { engine, parts: await engine.startChat(request, signal) };
    } catch (error) {
      lastError = error;
      if (!(error instanceof EngineError) || !error.retryable) throw error;
    }
  }
  throw lastError;
}

import { LlamaCompletion, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import type { FinishReason, StreamPart, TextCompletionRequest } from '../engine.js';
import { EngineError } from '../engine-error.js';
import type { PartQueue } from '../part-queue.js';
import { toFinishReason } from './finish-reason.js';
import { samplingFor } from './sampling.js';
import type { SequencePool } from './sequence-pool.js';

/** What raw-prompt generation needs of a loaded model. */
export interface TextTarget<S extends { sequence: LlamaContextSequence }> {
  model: LlamaModel;
  pool: SequencePool<S>;
  contextSize: number;
  /** Sequences in the pool: choices run on at most this many at once. */
  sequences: number;
}

/** One prepared request: prompts, their token counts and the choices to generate. */
export interface TextWork {
  request: TextCompletionRequest;
  promptTokens: number[];
}

/**
 * Checks a text completion before it is accepted: suffix support, prompt sizes against the context.
 * Throws EngineError (a 400) so nothing is streamed for a request that cannot be served.
 */
export function prepareTextWork<S extends { sequence: LlamaContextSequence }>(
  target: TextTarget<S>,
  request: TextCompletionRequest,
  modelName: string,
): TextWork {
  if (request.suffix !== null && request.suffix !== '') {
    const probe = new LlamaCompletion({ contextSequence: target.pool.peek().sequence });
    const supported = probe.infillSupported;
    probe.dispose({ disposeSequence: false });
    if (!supported) {
      throw new EngineError(
        'invalid_request',
        `Model "${modelName}" cannot fill in the middle (its vocabulary has no infill tokens), so "suffix" is not supported.`,
        { param: 'suffix' },
      );
    }
  }
  const promptTokens = request.prompts.map(
    (prompt) =>
      target.model.tokenize(prompt, false, 'trimLeadingSpace').length + (target.model.tokens.bos === null ? 0 : 1),
  );
  const maxTokens = request.maxTokens ?? 0;
  promptTokens.forEach((count, index) => {
    if (count + maxTokens > target.contextSize) {
      throw new EngineError(
        'context_length_exceeded',
        `This model's maximum context length is ${target.contextSize} tokens, however you requested ${count + maxTokens} tokens (${count} in prompt ${index}, ${maxTokens} for the completion). Please reduce the prompt or max_tokens.`,
        { param: 'prompt' },
      );
    }
  });
  return { request, promptTokens };
}

/**
 * Generates every choice (prompt i, completion j = choice i*n+j) on as many sequences as are free, one
 * choice per sequence at a time, and pushes parts as tokens arrive. Ends with the usage: each prompt
 * counted once (as OpenAI does), completion tokens as produced.
 */
export async function generateTextCompletion<S extends { sequence: LlamaContextSequence }>(
  target: TextTarget<S>,
  work: TextWork,
  signal: AbortSignal,
  channel: PartQueue,
): Promise<void> {
  const controller = new AbortController();
  const abort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  if (signal.aborted) abort();
  const { request } = work;
  const choices = request.prompts.length * request.n;
  let next = 0;
  let completionTokens = 0;
  let evaluated = false;
  const worker = async (slot: S) => {
    try {
      for (let choice = next++; choice < choices && !controller.signal.aborted; choice = next++) {
        const meter = slot.sequence.tokenMeter;
        const before = meter.usedOutputTokens;
        try {
          const finishReason = await generateOne(slot.sequence, choice, work, controller.signal, (part) =>
            channel.push(part),
          );
          if (!controller.signal.aborted) channel.push({ type: 'finish', choice, finishReason });
        } finally {
          completionTokens += meter.usedOutputTokens - before;
        }
      }
    } finally {
      target.pool.release(slot);
    }
  };
  try {
    // One place in the queue for all the sequences this request uses, as chat's n > 1 takes them.
    const slots = await target.pool.acquire(textWorkers(target, request), controller.signal);
    evaluated = true;
    await Promise.all(slots.map(worker));
  } catch (error) {
    if (!controller.signal.aborted) {
      channel.push({
        type: 'error',
        error:
          error instanceof EngineError
            ? error
            : new EngineError('internal', 'The model failed while generating.', { cause: error }),
      });
      controller.abort(error);
    }
  } finally {
    signal.removeEventListener('abort', abort);
    const promptTokens = evaluated ? work.promptTokens.reduce((sum, count) => sum + count, 0) : 0;
    channel.push({ type: 'usage', usage: { promptTokens, completionTokens, source: 'engine' } });
    channel.close();
  }
}

/** Sequences one text completion runs on: one per choice, at most all of them. */
export function textWorkers<S extends { sequence: LlamaContextSequence }>(
  target: TextTarget<S>,
  request: TextCompletionRequest,
): number {
  return Math.min(request.prompts.length * request.n, target.sequences);
}

async function generateOne(
  sequence: LlamaContextSequence,
  choice: number,
  work: TextWork,
  signal: AbortSignal,
  emit: (part: StreamPart) => void,
): Promise<FinishReason> {
  const { request } = work;
  const maxTokens = request.maxTokens ?? 0;
  // max_tokens 0 (with echo, "just show me the prompt") generates nothing; node-llama-cpp would read 0 as "no limit".
  if (maxTokens === 0) return 'length';
  const prompt = request.prompts[Math.floor(choice / request.n)] ?? '';
  const completion = new LlamaCompletion({ contextSequence: sequence });
  try {
    const options = {
      ...samplingFor(request, choice),
      maxTokens,
      customStopTriggers: request.stop,
      signal,
      stopOnAbortSignal: true,
      onTextChunk: (text: string) => {
        if (text !== '') emit({ type: 'text-delta', choice, text });
      },
    };
    const result =
      request.suffix !== null && request.suffix !== ''
        ? await completion.generateInfillCompletionWithMeta(prompt, request.suffix, options)
        : await completion.generateCompletionWithMeta(prompt, options);
    return toFinishReason(result.metadata.stopReason);
  } finally {
    completion.dispose({ disposeSequence: false });
  }
}

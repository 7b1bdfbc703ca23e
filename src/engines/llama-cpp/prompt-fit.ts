import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LlamaModel } from 'node-llama-cpp';
import type { ChatMessage } from '../engine.js';
import { EngineError } from '../engine-error.js';

/** Characters tokenized between two yields to the event loop (a few milliseconds of work). */
const SLICE_CHARACTERS = 16_384;
/** Tokens a cut between two slices can add, at most (a word split in two): subtracted per slice. */
const TOKENS_PER_CUT = 8;

/**
 * Tokenizing a multi-megabyte prompt at once blocks the event loop for seconds, and the result is
 * only a "too long". This counts the messages' text in slices, yielding between them, and refuses
 * as soon as the count (less what the cuts may have added) passes the context: what remains to
 * tokenize exactly afterwards is at most about one context's worth of text. Messages no longer
 * than one slice are not counted here: tokenizing them exactly costs no more than this count would,
 * and a chat's request pays for one tokenization instead of two before its first token.
 */
export async function assertPromptMayFit(
  model: LlamaModel,
  messages: readonly ChatMessage[],
  contextSize: number,
): Promise<void> {
  let length = 0;
  for (const text of messageTexts(messages)) length += text.length;
  if (length <= SLICE_CHARACTERS) return;
  let tokens = 0;
  let cuts = 0;
  let sinceYield = 0;
  for (const text of messageTexts(messages)) {
    for (let start = 0; start < text.length; start += SLICE_CHARACTERS) {
      const slice = text.slice(start, start + SLICE_CHARACTERS);
      tokens += model.tokenize(slice).length;
      cuts += 1;
      if (tokens - cuts * TOKENS_PER_CUT > contextSize) {
        throw new EngineError(
          'context_length_exceeded',
          `This model's maximum context length is ${contextSize} tokens, but the messages take more than ${tokens - cuts * TOKENS_PER_CUT} tokens.`,
          { param: 'messages' },
        );
      }
      sinceYield += slice.length;
      if (sinceYield >= SLICE_CHARACTERS) {
        sinceYield = 0;
        await nextTurn();
      }
    }
  }
}

function* messageTexts(messages: readonly ChatMessage[]): Generator<string> {
  for (const message of messages) {
    if (message.content) yield message.content;
    if (message.role === 'assistant') for (const call of message.toolCalls) yield call.arguments;
  }
}

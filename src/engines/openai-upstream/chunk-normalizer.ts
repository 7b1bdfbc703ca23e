import type { FinishReason, StreamPart } from '../engine.js';
import { EngineError } from '../engine-error.js';
import { readErrorDetails } from './error-body.js';
import { readFinishReason } from './finish-reason.js';
import { asRecord, type JsonRecord } from './json-value.js';
import { readPlainDelta } from './plain-delta.js';
import { ToolCallRepair } from './tool-call-repair.js';
import { errorFromStreamEvent } from './upstream-errors.js';
import type { UsageTracker } from './usage-tracker.js';

interface ChoiceState {
  finished: boolean;
  tools: ToolCallRepair;
}

/**
 * Upstream chat.completion.chunk objects (or one chat.completion, its messages read as deltas) ->
 * stream parts. Tolerates what engines actually send: a missing `delta`, `choices: []` usage chunks,
 * usage on every chunk, `role` repeated on every delta, `content: null`, fields of their own.
 * Parts go to `emit` as they are found: no array per chunk.
 */
export class ChunkNormalizer {
  private readonly choices: ChoiceState[];
  private failed = false;

  constructor(
    choiceCount: number,
    private readonly usage: UsageTracker,
    private readonly emit: (part: StreamPart) => void,
  ) {
    // Tool arguments are generated tokens too: they are kept for counting like text.
    const emitToolPart = (part: StreamPart) => {
      if (part.type === 'tool-call-delta') usage.addGenerated(part.argumentsText);
      emit(part);
    };
    this.choices = Array.from({ length: choiceCount }, (_, index) => ({
      finished: false,
      tools: new ToolCallRepair(index, emitToolPart),
    }));
  }

  /** True once every choice reported a finish reason: the answer is complete even if `[DONE]` never comes. */
  get complete(): boolean {
    return this.choices.every((choice) => choice.finished);
  }

  /** True once an error part was emitted: nothing more is read. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** One parsed chunk (streaming) or completion (`messageKey` = 'message'). */
  accept(chunk: JsonRecord, messageKey: 'delta' | 'message' = 'delta'): void {
    if (this.failed) return;
    // `{"error": {...}}` (OpenAI, newer vLLM, Ollama) or an error object itself (`"object": "error"`, vLLM <= 0.8).
    if ((chunk.error !== undefined && chunk.error !== null) || chunk.object === 'error') {
      this.fail(errorFromStreamEvent(readErrorDetails(chunk)));
      return;
    }
    const choices = chunk.choices;
    if (Array.isArray(choices)) for (const choice of choices) this.acceptChoice(asRecord(choice), messageKey);
    if (chunk.usage !== undefined) this.usage.observe(chunk.usage);
  }

  /**
   * One event's data if it is a plain content delta (plain-delta.ts), read without JSON.parse: the same
   * as `accept` of the parsed chunk. False when it is not one: the caller parses it and calls `accept`.
   */
  acceptPlainDelta(data: string): boolean {
    const delta = readPlainDelta(data);
    if (delta === null) return false;
    if (this.failed) return true;
    const state = this.choices[delta.choice];
    if (!state || state.finished || delta.text === '') return true;
    this.usage.addGenerated(delta.text);
    this.emit({ type: 'text-delta', choice: delta.choice, text: delta.text });
    return true;
  }

  /**
   * The upstream stream is over. `[DONE]` (`sawDone`) or a finish on every choice make it complete;
   * otherwise the answer was cut short and the client must hear so, never a clean end.
   */
  end(sawDone: boolean): void {
    if (this.failed) return;
    if (!this.complete && !sawDone) {
      this.fail(
        new EngineError('upstream_error', 'The upstream engine ended the stream before the answer was complete.'),
      );
      return;
    }
    this.choices.forEach((choice, index) => {
      if (!choice.finished) this.finish(choice, index, choice.tools.callCount > 0 ? 'tool_calls' : 'stop');
    });
  }

  /** Emits an error part once; later chunks are ignored. */
  fail(error: EngineError): void {
    if (this.failed) return;
    this.failed = true;
    this.emit({ type: 'error', error });
  }

  private acceptChoice(choice: JsonRecord | null, messageKey: 'delta' | 'message'): void {
    if (!choice) return;
    const index = typeof choice.index === 'number' ? choice.index : 0;
    const state = this.choices[index];
    // An upstream that ignores `n` may send more choices than asked for: they have no place in the answer.
    if (!state || state.finished) return;
    const delta = asRecord(choice[messageKey]);
    if (delta) {
      const content = delta.content;
      if (typeof content === 'string' && content !== '') {
        this.usage.addGenerated(content);
        this.emit({ type: 'text-delta', choice: index, text: content });
      }
      if (Array.isArray(delta.tool_calls)) state.tools.accept(delta.tool_calls);
    }
    const finish = readFinishReason(choice.finish_reason, state.tools.callCount > 0);
    if (finish.kind === 'finished') this.finish(state, index, finish.reason);
    else if (finish.kind === 'aborted')
      this.fail(
        new EngineError(
          'upstream_error',
          `The upstream engine aborted the generation (finish_reason "${finish.reason}").`,
        ),
      );
  }

  private finish(state: ChoiceState, index: number, reason: FinishReason): void {
    state.tools.finish();
    state.finished = true;
    this.emit({ type: 'finish', choice: index, finishReason: reason });
  }
}

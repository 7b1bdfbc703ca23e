import { assertNever, type FinishReason, type StreamPart, type Usage, EngineError } from '../engines/index.js';
import { toWireUsage } from './usage.js';
import type { ResponseIdentity, WireCompletion, WireToolCall } from './wire-types.js';

interface ChoiceState {
  text: string;
  toolCalls: WireToolCall[];
  finishReason: FinishReason | null;
}

/** Collects stream parts into one chat.completion object: the same parts a stream would show. Pure. */
export class CompletionAssembler {
  private readonly choices: ChoiceState[];
  private usage: Usage | null = null;
  private failure: EngineError | null = null;

  constructor(
    private readonly identity: ResponseIdentity,
    choiceCount: number,
  ) {
    this.choices = Array.from({ length: choiceCount }, () => ({ text: '', toolCalls: [], finishReason: null }));
  }

  accept(part: StreamPart): void {
    switch (part.type) {
      case 'text-delta':
        this.choiceAt(part.choice).text += part.text;
        return;
      case 'tool-call-start':
        this.choiceAt(part.choice).toolCalls[part.callIndex] = {
          id: part.callId,
          type: 'function',
          function: { name: part.toolName, arguments: '' },
        };
        return;
      case 'tool-call-delta': {
        const call = this.choiceAt(part.choice).toolCalls[part.callIndex];
        if (call) call.function.arguments += part.argumentsText;
        return;
      }
      case 'finish':
        this.choiceAt(part.choice).finishReason = part.finishReason;
        return;
      case 'usage':
        this.usage = part.usage;
        return;
      case 'error':
        this.failure ??= part.error;
        return;
      default:
        assertNever(part);
    }
  }

  /**
   * The first error the engine reported, if any: the response must then be an error, not a completion.
   * A choice left without a finish is a truncated answer and counts as an error too.
   */
  get error(): EngineError | null {
    if (this.failure) return this.failure;
    if (this.choices.some((state) => state.finishReason === null)) {
      return new EngineError('internal', 'The engine ended the response before it was complete.');
    }
    return null;
  }

  result(): WireCompletion {
    return {
      id: this.identity.id,
      object: 'chat.completion',
      created: this.identity.created,
      model: this.identity.model,
      choices: this.choices.map((state, index) => ({
        index,
        message: {
          role: 'assistant',
          // A turn that is only tool calls has null content, as OpenAI returns it.
          content: state.text === '' && state.toolCalls.length > 0 ? null : state.text,
          refusal: null,
          ...(state.toolCalls.length > 0 ? { tool_calls: state.toolCalls.filter(Boolean) } : {}),
        },
        logprobs: null,
        finish_reason: state.finishReason ?? 'stop', // unreachable once `error` was checked
      })),
      usage: toWireUsage(this.usage ?? { promptTokens: 0, completionTokens: 0, source: 'counted' }),
    };
  }

  private choiceAt(index: number): ChoiceState {
    const state = this.choices[index];
    if (!state) throw new Error(`engine sent a part for choice ${index} of ${this.choices.length}`);
    return state;
  }
}

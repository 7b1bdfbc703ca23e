import { assertNever, type FinishReason, type StreamPart, type Usage } from '../engines/index.js';
import type { WireError } from '../errors/index.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { ContentChunkJson } from './chunk-json.js';
import { toWireUsage } from './usage.js';
import type { ResponseIdentity, WireChunk, WireChunkChoice } from './wire-types.js';

/**
 * Where usage goes in a stream:
 * - `final-chunk`: on the chunk that carries finish_reason (the contract's default; `choices` never empty);
 * - `separate-chunk`: OpenAI's dialect, one more chunk with `choices: []` (explicit include_usage: true);
 * - `none`: no usage in the stream (explicit include_usage: false).
 */
export type StreamUsageMode = 'final-chunk' | 'separate-chunk' | 'none';

/**
 * Turns stream parts into chat.completion.chunk objects. Pure: no I/O, no clocks.
 * Finish chunks are held back until usage is known, so usage can ride on the final one.
 */
export class ChunkAssembler {
  private readonly finishes = new Map<number, FinishReason>();
  private usage: Usage | null = null;
  private ended = false;
  private failure: WireError | null = null;
  private json: ContentChunkJson | null = null;

  constructor(
    private readonly identity: ResponseIdentity,
    private readonly choiceCount: number,
    private readonly usageMode: StreamUsageMode,
  ) {}

  /** The opening chunk: every choice announces the assistant role once, with empty content. */
  start(): WireChunk[] {
    const choices = Array.from({ length: this.choiceCount }, (_, index) =>
      choice(index, { role: 'assistant', content: '' }),
    );
    return [this.chunk(choices)];
  }

  /** The chunks a part produces (none while a finish waits for usage). After an error, nothing. */
  accept(part: StreamPart): WireChunk[] {
    if (this.ended) return [];
    switch (part.type) {
      case 'text-delta':
        return [this.chunk([choice(part.choice, { content: part.text })])];
      case 'tool-call-start':
        return [
          this.chunk([
            choice(part.choice, {
              tool_calls: [
                {
                  index: part.callIndex,
                  id: part.callId,
                  type: 'function',
                  function: { name: part.toolName, arguments: '' },
                },
              ],
            }),
          ]),
        ];
      case 'tool-call-delta':
        return [
          this.chunk([
            choice(part.choice, {
              tool_calls: [{ index: part.callIndex, function: { arguments: part.argumentsText } }],
            }),
          ]),
        ];
      case 'finish':
        this.finishes.set(part.choice, part.finishReason);
        return [];
      case 'usage':
        this.usage = part.usage;
        return this.finishes.size === this.choiceCount ? this.closing() : [];
      case 'error':
        this.ended = true;
        this.failure = toGatewayError(part.error).toWire();
        return [errorChunk(this.identity, this.failure)];
      default:
        return assertNever(part);
    }
  }

  /**
   * `accept` as the stream writes it: a text delta's chunk comes as its JSON text, made by template
   * (the same bytes as JSON.stringify of the chunk `accept` returns); every other chunk as an object.
   */
  acceptWire(part: StreamPart): (WireChunk | string)[] {
    if (part.type !== 'text-delta' || this.ended) return this.accept(part);
    this.json ??= new ContentChunkJson(this.identity);
    return [this.json.text(part.choice, part.text)];
  }

  /**
   * Called when the parts end: emits held finishes if usage never came. Parts that end with a choice
   * unfinished and no error are a truncated answer, and are said to be one (never a clean end).
   */
  end(): WireChunk[] {
    if (this.ended) return [];
    if (this.finishes.size < this.choiceCount) {
      this.ended = true;
      this.failure = new GatewayError(
        'internal_error',
        'The engine ended the response before it was complete.',
      ).toWire();
      return [errorChunk(this.identity, this.failure)];
    }
    return this.closing();
  }

  /** True once the stream ended in an error event (no `[DONE]` follows). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** The wire code of the error event, for the ledger. */
  get failureCode(): string | null {
    return this.failure?.code ?? null;
  }

  private closing(): WireChunk[] {
    this.ended = true;
    const choices = [...this.finishes.entries()].sort(([a], [b]) => a - b);
    const chunks = choices.map(([index, reason]) => this.chunk([choice(index, {}, reason)]));
    const usage = this.usage ? toWireUsage(this.usage) : null;
    if (!usage || this.usageMode === 'none') return chunks;
    if (this.usageMode === 'separate-chunk') return [...chunks, { ...this.chunk([]), usage }];
    const last = chunks.at(-1);
    if (last) last.usage = usage;
    return chunks;
  }

  private chunk(choices: WireChunkChoice[]): WireChunk {
    return {
      id: this.identity.id,
      object: 'chat.completion.chunk',
      created: this.identity.created,
      model: this.identity.model,
      choices,
    };
  }
}

function choice(index: number, delta: WireChunkChoice['delta'], finishReason: string | null = null): WireChunkChoice {
  return { index, delta, finish_reason: finishReason };
}

/**
 * The contract's mid-stream error: a normal chunk (so clients indexing choices[0] survive) with
 * finish_reason "error" and a top-level `error` (so SDKs raise it).
 */
export function errorChunk(identity: ResponseIdentity, error: WireError): WireChunk {
  return {
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, delta: {}, finish_reason: 'error' }],
    error,
  };
}

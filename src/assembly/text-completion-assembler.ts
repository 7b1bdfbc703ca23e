import type { StreamPart } from '../engines/index.js';
import type { WireError } from '../errors/index.js';
import { ChunkAssembler, errorChunk, type StreamUsageMode } from './chunk-assembler.js';
import { CompletionAssembler } from './completion-assembler.js';
import type { ResponseIdentity, WireChunk, WireUsage } from './wire-types.js';

/** A `text_completion` object: streamed chunks and the whole response share this shape (OpenAI's legacy API). */
export interface WireTextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; logprobs: null; finish_reason: string | null }[];
  usage?: WireUsage;
  error?: WireError;
}

/**
 * Parts -> text_completion chunks. The chat assembler decides everything (held finishes, where usage
 * goes, error events, truncation); this only renames its chunks, so both endpoints keep one set of rules.
 * `echo` holds each choice's prompt when the client asked for it: sent first, before any generated text.
 */
export class TextChunkAssembler {
  private readonly chat: ChunkAssembler;

  constructor(
    private readonly identity: ResponseIdentity,
    choiceCount: number,
    usageMode: StreamUsageMode,
    private readonly echo: readonly string[] | null,
  ) {
    this.chat = new ChunkAssembler(identity, choiceCount, usageMode);
  }

  /** No role chunk in this API; with echo, each choice's prompt. */
  start(): WireTextCompletion[] {
    if (!this.echo) return [];
    return [
      {
        ...this.envelope(),
        choices: this.echo.map((text, index) => ({ index, text, logprobs: null, finish_reason: null })),
      },
    ];
  }

  accept(part: StreamPart): WireTextCompletion[] {
    return this.chat.accept(part).map((chunk) => this.rename(chunk));
  }

  /** `accept` as the stream writes it (every chunk an object here). */
  acceptWire(part: StreamPart): WireTextCompletion[] {
    return this.accept(part);
  }

  end(): WireTextCompletion[] {
    return this.chat.end().map((chunk) => this.rename(chunk));
  }

  get failed(): boolean {
    return this.chat.failed;
  }

  get failureCode(): string | null {
    return this.chat.failureCode;
  }

  /** The contract's mid-stream error event, in this API's shape. */
  errorEvent(error: WireError): WireTextCompletion {
    return this.rename(errorChunk(this.identity, error));
  }

  private rename(chunk: WireChunk): WireTextCompletion {
    const renamed: WireTextCompletion = {
      ...this.envelope(),
      choices: chunk.choices.map((choice) => ({
        index: choice.index,
        text: choice.delta.content ?? '',
        logprobs: null,
        finish_reason: choice.finish_reason,
      })),
    };
    if (chunk.usage) renamed.usage = chunk.usage;
    if (chunk.error) renamed.error = chunk.error;
    return renamed;
  }

  private envelope(): Pick<WireTextCompletion, 'id' | 'object' | 'created' | 'model'> {
    return {
      id: this.identity.id,
      object: 'text_completion',
      created: this.identity.created,
      model: this.identity.model,
    };
  }
}

/** Parts -> one text_completion, through the chat collector (same parts, same completeness rules). */
export class TextCompletionAssembler {
  private readonly chat: CompletionAssembler;

  constructor(
    private readonly identity: ResponseIdentity,
    choiceCount: number,
    private readonly echo: readonly string[] | null,
  ) {
    this.chat = new CompletionAssembler(identity, choiceCount);
  }

  accept(part: StreamPart): void {
    this.chat.accept(part);
  }

  get error(): CompletionAssembler['error'] {
    return this.chat.error;
  }

  result(): WireTextCompletion & { usage: WireUsage } {
    const completion = this.chat.result();
    return {
      id: this.identity.id,
      object: 'text_completion',
      created: this.identity.created,
      model: this.identity.model,
      choices: completion.choices.map((choice) => ({
        index: choice.index,
        text: (this.echo?.[choice.index] ?? '') + (choice.message.content ?? ''),
        logprobs: null,
        finish_reason: choice.finish_reason,
      })),
      usage: completion.usage,
    };
  }
}

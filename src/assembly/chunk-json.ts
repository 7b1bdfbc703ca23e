import type { ResponseIdentity } from './wire-types.js';

/**
 * The JSON of the chunk nearly every part of a stream becomes, one choice's text, made by a template:
 * exactly the bytes JSON.stringify writes for the chunk object `ChunkAssembler.accept` returns
 * (`{id, object, created, model, choices: [{index, delta: {content}, finish_reason: null}]}`, in that
 * order), without building the object or walking it. What is the same for every chunk of a response is
 * serialized once. test/assembly/chunk-json.test.ts holds the two byte for byte together.
 */
export class ContentChunkJson {
  private readonly head: string;

  constructor(identity: ResponseIdentity) {
    this.head =
      `{"id":${JSON.stringify(identity.id)},"object":"chat.completion.chunk",` +
      `"created":${JSON.stringify(identity.created)},"model":${JSON.stringify(identity.model)},"choices":[{"index":`;
  }

  /** `choice` is a choice index (a small non-negative integer, written as JSON.stringify writes it). */
  text(choice: number, text: string): string {
    return `${this.head}${choice},"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}`;
  }
}

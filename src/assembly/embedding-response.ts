import type { EmbeddingResult } from '../engines/index.js';

export interface WireEmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/**
 * The embeddings response. `base64` is what the official SDKs ask for by default: the little-endian
 * float32 bytes of each vector (the SDKs decode them back to numbers). Pure.
 */
export function toEmbeddingList(
  model: string,
  result: EmbeddingResult,
  encoding: 'float' | 'base64',
): WireEmbeddingList {
  return {
    object: 'list',
    data: result.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? toBase64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

function toBase64(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  // Float32Array is platform-endian; every platform Node runs on in practice is little-endian, as the format requires.
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

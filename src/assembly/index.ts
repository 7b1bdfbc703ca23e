/** The public face of src/assembly/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { ChunkAssembler, errorChunk } from './chunk-assembler.js';
export type { StreamUsageMode } from './chunk-assembler.js';
export { CompletionAssembler } from './completion-assembler.js';
export { toEmbeddingList } from './embedding-response.js';
export { TextChunkAssembler, TextCompletionAssembler } from './text-completion-assembler.js';
export type { ResponseIdentity, WireChunk, WireCompletion } from './wire-types.js';

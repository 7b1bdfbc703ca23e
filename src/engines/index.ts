/** The public face of src/engines/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { EngineError } from './engine-error.js';
export type { EngineErrorCode } from './engine-error.js';
export { assertNever } from './engine.js';
export type {
  ChatMessage,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  Engine,
  EngineCapabilities,
  EngineKind,
  EngineSnapshot,
  FinishReason,
  ResponseFormat,
  StreamPart,
  TextCompletionRequest,
  ToolChoice,
  ToolDefinition,
  Usage,
} from './engine.js';
export type { PartQueue } from './part-queue.js';

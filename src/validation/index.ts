/** The public face of src/validation/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { chatRequestSchema } from './chat-request-schema.js';
export { parseCompletionRequest } from './completion-request.js';
export { parseEmbeddingRequest } from './embedding-request.js';
export { formatPath } from './param-path.js';
export { parseChatRequest } from './parse-chat-request.js';
export { REQUEST_LIMITS } from './request-limits.js';

/** The public face of src/ids/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { randomBase62 } from './random-base62.js';
export { newCompletionId, newRequestId, newTextCompletionId, newToolCallId } from './wire-ids.js';

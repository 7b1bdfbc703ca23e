/** The public face of src/models/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { formatBytes } from './format-bytes.js';
export { isHfUri } from './hf-uri.js';
export { listLocalModels, listPartialDownloads } from './local-models.js';
export type { LocalModel } from './local-models.js';
export { resolveModelPath } from './resolve-model.js';

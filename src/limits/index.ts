/** The public face of src/limits/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { Admission } from './admission.js';
export type { AdmissionLease, RefusalReason } from './admission.js';
export type { LimitStore } from './limit-store.js';
export { MemoryLimitStore } from './memory-limit-store.js';
export { isModelAllowed } from './model-access.js';

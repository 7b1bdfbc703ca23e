/** The public face of src/logging/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { createLogger } from './create-logger.js';
export { LiveLineGuard } from './live-line.js';
export type { Logger } from './logger.js';
export { maskUrlPassword, redactUrl } from './redact.js';

/** The public face of src/errors/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { echoName } from './echo-name.js';
export { GatewayError, toGatewayError } from './gateway-error.js';
export type { WireError } from './gateway-error.js';
export { modelNotFound } from './model-not-found.js';
export { OperatorError, isOperatorFacing } from './operator-error.js';
export { retryAfterHeaders } from './retry-after-headers.js';

import { echoName } from './echo-name.js';
import { GatewayError } from './gateway-error.js';

/** The contract's 404 for a model that does not exist, or that the caller may not see (same words for both). */
export function modelNotFound(name: string): GatewayError {
  return new GatewayError(
    'model_not_found',
    `The model \`${echoName(name)}\` does not exist or you do not have access to it.`,
    { param: 'model' },
  );
}

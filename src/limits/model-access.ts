import type { ApiKeyRecord } from '../auth/key-store.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * A model outside the key's allow-list is a 404 `model_not_found` with the very words of an unknown
 * model, as OpenAI answers for models an organization cannot access: a 403 would confirm to the
 * holder of a restricted key that the model exists on this server.
 */
export function assertModelAllowed(key: ApiKeyRecord, model: string): void {
  if (key.models === null || key.models.includes(model)) return;
  throw new GatewayError('model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, { param: 'model' });
}

import type { ApiKeyRecord } from '../auth/index.js';
import { modelNotFound } from '../errors/index.js';

/**
 * A model outside the key's allow-list is a 404 `model_not_found` with the very words of an unknown
 * model, as OpenAI answers for models an organization cannot access: a 403 would confirm to the
 * holder of a restricted key that the model exists on this server.
 */
export function assertModelAllowed(key: ApiKeyRecord, model: string): void {
  if (isModelAllowed(key, model)) return;
  throw modelNotFound(model);
}

/** Whether `key` may use `model`; no key (auth disabled) may use every model. */
export function isModelAllowed(key: ApiKeyRecord | null, model: string): boolean {
  return key === null || key.models === null || key.models.includes(model);
}

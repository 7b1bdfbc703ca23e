import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseBearer } from '../auth/index.js';
import type { ApiKeyRecord, KeyStore } from '../auth/index.js';
import { GatewayError } from '../errors/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's key; null only when auth is disabled (`--no-auth`). */
    apiKey: ApiKeyRecord | null;
  }
}

/** preHandler for the public API: a valid, active `oruel_` key or 401 `invalid_api_key`. */
export function requireApiKey(keyStore: KeyStore, enabled: boolean) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.apiKey = null;
    if (!enabled) return;
    const presented = parseBearer(request.headers.authorization);
    if (!presented) {
      throw new GatewayError(
        'invalid_api_key',
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      );
    }
    const key = await keyStore.verify(presented);
    // Never echo the key: a mistyped key in an error message ends up in logs and screenshots.
    if (!key) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
    request.apiKey = key;
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_KEY_PREFIX, parseBearer } from '../auth/index.js';
import { GatewayError } from '../errors/index.js';

/**
 * onRequest hook for /v1/admin (before the body is read: strangers cost no parsing): `Authorization: Bearer <ORUEL_ADMIN_TOKEN>`.
 * Without a configured token the admin API answers 404 `admin_api_disabled`: it is switched off by
 * configuration, a permanent state of this deployment, not an outage. A 503 would invite retries
 * (the OpenAI SDKs and load balancers retry 5xx) and could mark a healthy replica as failing.
 */
export function requireAdminToken(token: string | null) {
  // Both sides are hashed first: equal lengths for timingSafeEqual, and the comparison time says
  // nothing about how long the token is or how many leading characters matched.
  const expected = token === null ? null : sha256(token);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (expected === null) {
      throw new GatewayError(
        'admin_api_disabled',
        'The admin API is disabled on this server. Set ORUEL_ADMIN_TOKEN (or admin.token in the config file) to enable it.',
      );
    }
    const presented = parseBearer(request.headers.authorization);
    if (presented === null) {
      throw new GatewayError(
        'invalid_admin_token',
        'Provide the admin token in an Authorization header using Bearer auth (Authorization: Bearer ADMIN_TOKEN).',
      );
    }
    if (presented.startsWith(API_KEY_PREFIX)) {
      throw new GatewayError(
        'invalid_admin_token',
        'API keys cannot use the admin API; use the admin token (ORUEL_ADMIN_TOKEN).',
      );
    }
    if (!timingSafeEqual(sha256(presented), expected))
      throw new GatewayError('invalid_admin_token', 'Incorrect admin token provided.');
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

import type { FastifyInstance } from 'fastify';
import { InvalidKeyInputError, KeyRevokedError, type ApiKeyRecord, type KeyStore } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import { parseCreateBody, parsePatchBody } from './admin-key-body.js';
import { keyView } from './admin-key-view.js';

type IdParams = { Params: { id: string } };

/** /keys: create, list, get, update, revoke (DELETE) and rotate API keys. */
export function registerAdminKeyRoutes(app: FastifyInstance, keyStore: KeyStore): void {
  app.post('/keys', async (request, reply) => {
    const input = parseCreateBody(request.body, new Date());
    const { record, key } = await storeCall(() => keyStore.create(input));
    return reply.code(201).send({ ...keyView(record), key });
  });

  app.get('/keys', async () => ({ object: 'list', data: (await keyStore.list()).map(keyView) }));

  app.get<IdParams>('/keys/:id', async (request) =>
    keyView(found(await keyStore.get(request.params.id), request.params.id)),
  );

  app.patch<IdParams>('/keys/:id', async (request) => {
    const patch = parsePatchBody(request.body);
    return keyView(found(await storeCall(() => keyStore.update(request.params.id, patch)), request.params.id));
  });

  /** Revokes; revoking again is not an error and keeps the first revocation time. */
  app.delete<IdParams>('/keys/:id', async (request) => {
    const { id } = request.params;
    if (!(await keyStore.revoke(id))) throw keyNotFound(id);
    return keyView(found(await keyStore.get(id), id));
  });

  app.post<IdParams>('/keys/:id/rotate', async (request) => {
    const { id } = request.params;
    const rotated = await storeCall(() => keyStore.rotate(id));
    if (rotated === null) throw keyNotFound(id);
    return { ...keyView(rotated.record), key: rotated.key };
  });
}

/** The store's own refusals in the contract's error format. */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof InvalidKeyInputError)
      throw new GatewayError('invalid_request', error.message, { param: error.field });
    if (error instanceof KeyRevokedError) throw new GatewayError('key_revoked', error.message);
    throw error;
  }
}

function found(record: ApiKeyRecord | null, id: string): ApiKeyRecord {
  if (record === null) throw keyNotFound(id);
  return record;
}

function keyNotFound(id: string): GatewayError {
  return new GatewayError('key_not_found', `No API key has the id "${id}".`);
}

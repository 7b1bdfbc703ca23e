import type { FastifyInstance } from 'fastify';
import type { KeyStore } from '../../auth/index.js';
import type { Ledger } from '../../usage/index.js';
import { requireAdminToken } from '../admin-auth.js';
import { registerAdminKeyRoutes } from './admin-keys.js';
import { registerAdminUsageRoutes } from './admin-usage.js';

export interface AdminApiDependencies {
  keyStore: KeyStore;
  ledger: Ledger;
  /** ORUEL_ADMIN_TOKEN; null disables the admin API (404 admin_api_disabled). */
  adminToken: string | null;
}

const ADMIN_PREFIX = '/v1/admin';

/** The admin API under /v1/admin, behind its own token (never an API key). */
export async function registerAdminApi(app: FastifyInstance, deps: AdminApiDependencies): Promise<void> {
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', requireAdminToken(deps.adminToken));
      registerAdminKeyRoutes(admin, deps.keyStore);
      registerAdminUsageRoutes(admin, deps.ledger);
    },
    { prefix: ADMIN_PREFIX },
  );
}

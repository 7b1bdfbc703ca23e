/** The public face of src/auth/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { API_KEY_PREFIX, parseBearer } from './api-key.js';
export { CachedKeyStore } from './cached-key-store.js';
export { LocalKeyChangeFeed } from './key-change-feed.js';
export type { KeyChangeFeed } from './key-change-feed.js';
export { InvalidKeyInputError } from './key-input.js';
export { BUDGET_PERIODS, KeyRevokedError } from './key-store.js';
export type { ApiKeyRecord, BudgetPeriod, KeyPatch, KeyStore, NewKeyInput, TokenBudget } from './key-store.js';
export { SqlKeyStore } from './sql-key-store.js';

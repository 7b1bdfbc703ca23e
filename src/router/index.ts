/** The public face of src/router/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { Deployment } from './deployment.js';
export type { DeploymentObserver } from './deployment.js';
export { ModelRegistry } from './model-registry.js';
export type { PublicModel } from './model-registry.js';
export { DEFAULT_ROUTING_POLICY, SINGLE_ENGINE_POLICY } from './routing-policy.js';
export type { RoutingPolicy } from './routing-policy.js';
export { startAnyWork, startWithFailover } from './start-with-failover.js';

/** The public face of src/config/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { ConfigError, loadConfig } from './load.js';
export { DEFAULT_MODEL } from './schema.js';
export type {
  Config,
  LlamaCppModelConfig,
  ModelConfig,
  OpenAIModelConfig,
  UpstreamDeploymentConfig,
} from './schema.js';

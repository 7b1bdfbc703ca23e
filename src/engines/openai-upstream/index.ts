/** The public face of src/engines/openai-upstream/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { OpenAIUpstreamEngine } from './openai-upstream-engine.js';

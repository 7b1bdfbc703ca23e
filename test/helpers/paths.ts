import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared fixture models live beside the repository, never inside it. */
export const MODELS_DIR = resolve(REPO_ROOT, '../shared/models');
export const STORIES_MODEL = resolve(MODELS_DIR, 'stories260K.gguf');
export const STORIES_TOOLS_MODEL = resolve(MODELS_DIR, 'stories260K-chatml-tools.gguf');
export const TINY_RANDOM_MODEL = resolve(MODELS_DIR, 'llama-2-tiny-random.gguf');
export const OPENAPI_SPEC = resolve(REPO_ROOT, '../shared/spec/openai-openapi.yaml');

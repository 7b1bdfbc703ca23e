import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Fixtures live inside the repository (test/fixtures/README.md gives origin, license and sha256). */
export const FIXTURES_DIR = resolve(REPO_ROOT, 'test/fixtures');
const MODELS_DIR = resolve(FIXTURES_DIR, 'models');
export const STORIES_MODEL = resolve(MODELS_DIR, 'stories260K.gguf');
export const STORIES_TOOLS_MODEL = resolve(MODELS_DIR, 'stories260K-chatml-tools.gguf');
export const TINY_RANDOM_MODEL = resolve(MODELS_DIR, 'llama-2-tiny-random.gguf');
/** Gzipped: the YAML itself is 2.9 MB, over the repository's 2 MiB limit per fixture. */
export const OPENAPI_SPEC = resolve(FIXTURES_DIR, 'spec/openai-openapi.yaml.gz');
export const SEED_DOC = resolve(FIXTURES_DIR, 'seed/streaming.txt');

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Folder boundaries (docs/architecture.md: dependencies point one way). Each step's folder lists the
 * src/ folders it may import; importing any other known folder fails lint. http/, cli/ and main
 * (src/main.ts, src/main/) are the composition layer and import broadly; folders not named here
 * (new ones) are unrestricted until they are. logging/, errors/ and ids/ (the one base62 generator) sit
 * below every step; metrics/ observes every step and is imported only by the composition layer.
 */
const KNOWN_FOLDERS = [
  'http',
  'auth',
  'validation',
  'limits',
  'router',
  'engines',
  'assembly',
  'sse',
  'usage',
  'storage',
  'errors',
  'logging',
  'metrics',
  'config',
  'models',
  'cli',
  'web',
  'main',
  'ids',
];
const BELOW_EVERY_STEP = ['errors', 'logging', 'ids'];
const MAY_IMPORT = {
  logging: [],
  ids: [],
  // metrics/ reads every step (engines, limits' refusal reasons, deployments, the ledger); only http/, cli/ and main import it.
  metrics: ['logging', 'errors', 'engines', 'limits', 'router', 'usage'],
  errors: ['engines'], // the catalog translates EngineError (engines/engine-error.ts) to wire errors
  config: ['errors', 'logging'],
  storage: ['config', ...BELOW_EVERY_STEP],
  models: ['config', ...BELOW_EVERY_STEP],
  auth: ['storage', ...BELOW_EVERY_STEP],
  validation: ['engines', ...BELOW_EVERY_STEP],
  limits: ['auth', 'storage', 'engines', ...BELOW_EVERY_STEP],
  router: ['engines', ...BELOW_EVERY_STEP],
  assembly: ['engines', 'errors'],
  sse: ['engines', 'storage', ...BELOW_EVERY_STEP],
  usage: ['storage', 'engines', ...BELOW_EVERY_STEP],
  web: [],
};
const FRAMEWORK = {
  group: ['fastify', '@fastify/*'],
  message: 'The web framework lives only in src/http/ (and the wiring in main).',
};

/**
 * One public face per folder (docs/decisions/0006-folder-faces.md): another folder imports
 * `<folder>/index.js`, never a file behind it. The exceptions are the modules loaded only when a
 * config uses them (dynamic import; a face would load them for everyone): Redis and Postgres
 * adapters, the progress bar, the OpenAPI document, the llama.cpp backend.
 */
const FACED_FOLDERS = [
  'assembly',
  'auth',
  'config',
  'engines',
  'errors',
  'http',
  'ids',
  'limits',
  'logging',
  'metrics',
  'models',
  'router',
  'sse',
  'storage',
  'usage',
  'validation',
];
const BEHIND_NO_FACE = [
  'index\\.js$',
  'openai-upstream/index\\.js$',
  'llama-cpp/',
  'redis\\.js$',
  'postgres\\.js$',
  'redis-key-change-feed\\.js$',
  'redis-limit-store\\.js$',
  'resume/redis-event-log\\.js$',
  'progress\\.js$',
  'openapi/openapi-document\\.js$',
];
const FACE = {
  regex: `^(\\.\\./)+(${FACED_FOLDERS.join('|')})/(?!${BEHIND_NO_FACE.join('|')})`,
  message: "Import another folder through its face, '<folder>/index.js' (docs/decisions/0006-folder-faces.md).",
};

function boundary(folder, allowed) {
  const forbidden = KNOWN_FOLDERS.filter((name) => name !== folder && !allowed.includes(name));
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${forbidden.join('|')})(/|\\.js$)`,
              message: `src/${folder}/ may import only ${allowed.map((name) => `${name}/`).join(', ') || 'no other folder'} (docs/architecture.md: dependencies point one way).`,
            },
            FACE,
            FRAMEWORK,
          ],
        },
      ],
    },
  };
}

/** engines/engine.ts and its siblings import only errors/ and ids/; a backend imports only those siblings, errors/, ids/ and its own library. */
const ENGINE_BOUNDARIES = [
  {
    files: ['src/engines/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!errors/|ids/)',
              message: 'src/engines/ (the interface) imports only errors/ and ids/.',
            },
            { regex: '^\\./[^/]+/', message: 'The engine interface never imports a backend.' },
            FACE,
            FRAMEWORK,
          ],
        },
      ],
    },
  },
  {
    files: ['src/engines/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./\\.\\./(?!errors/|ids/)',
              message:
                'A backend imports only engines/engine.ts, engine-error.ts, their siblings, errors/, ids/ and its own library.',
            },
            { regex: '^\\.\\./[^./][^/]*/', message: 'A backend never imports another backend.' },
            FACE,
            FRAMEWORK,
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'scratch/', '.venv/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment only in src/config/.' },
      ],
    },
  },
  {
    // Small files (one module, one job): past 300 lines of code a file usually holds two jobs.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }] },
  },
  ...Object.entries(MAY_IMPORT).map(([folder, allowed]) => boundary(folder, allowed)),
  ...ENGINE_BOUNDARIES,
  {
    // The composition layer imports every folder, but through its face too.
    files: ['src/http/**/*.ts', 'src/cli/**/*.ts', 'src/main.ts', 'src/main/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [FACE] }] },
  },
  {
    files: ['src/config/**', 'test/**', 'bench/**', 'vitest.config.ts', 'eslint.config.js'],
    rules: { 'no-restricted-properties': 'off' },
  },
);

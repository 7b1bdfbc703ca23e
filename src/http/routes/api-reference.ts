import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';

const require = createRequire(import.meta.url);

const OPENAPI_PATH = '/v1/inference/openapi.json';
const REFERENCE_PREFIX = '/v1/inference/reference/';
/** The only files of swagger-ui-dist the page loads (its own index.html points at a demo API). */
const RENDERER_FILES = new Set([
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/favicon-32x32.png',
  '/favicon-16x16.png',
]);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Oru-el API reference</title>
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png">
</head>
<body>
  <div id="reference"></div>
  <script src="./swagger-ui-bundle.js"></script>
  <script src="./init.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps the page from sending the document to swagger.io: it works offline.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: '#reference',
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
});
`;

/**
 * The API's OpenAPI 3.1 document (generated from the zod schemas) and an interactive reference page
 * (swagger-ui, served from its npm package: no CDN). Public, like the documentation it is.
 */
export async function registerApiReference(app: FastifyInstance): Promise<void> {
  const document = JSON.stringify(buildOpenApiDocument(packageVersion()));
  app.get(OPENAPI_PATH, async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
  app.get(REFERENCE_PREFIX.slice(0, -1), async (_request, reply) => reply.redirect(REFERENCE_PREFIX));
  app.get(REFERENCE_PREFIX, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get(`${REFERENCE_PREFIX}init.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(INIT_SCRIPT),
  );
  await app.register(fastifyStatic, {
    root: dirname(require.resolve('swagger-ui-dist/package.json')),
    prefix: REFERENCE_PREFIX,
    // Another static plugin (the web pages) may decorate replies; this one must not collide with it.
    decorateReply: false,
    index: false,
    allowedPath: (pathName) => RENDERER_FILES.has(pathName),
    maxAge: '1h',
  });
}

function packageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

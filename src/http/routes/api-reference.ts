import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

const OPENAPI_PATH = '/v1/inference/openapi.json';
const REFERENCE_PREFIX = '/v1/inference/reference/';
/** The only files of swagger-ui-dist the page loads (its own index.html points at a demo API), by type. */
const RENDERER_FILES: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
  ['favicon-16x16.png', 'image/png'],
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
 *
 * Nothing here is built or read before someone asks: the document and swagger-ui's 1.5 MB bundle
 * are read on the first request, so a server nobody browses holds neither (idle memory, issue 10).
 * The four renderer files are a fixed list, so a plain file read replaces a static-file plugin.
 */
export function registerApiReference(app: FastifyInstance): void {
  let document: string | null = null;
  app.get(OPENAPI_PATH, async (_request, reply) => {
    document ??= JSON.stringify(
      (await import('../openapi/openapi-document.js')).buildOpenApiDocument(packageVersion()),
    );
    return reply.type('application/json; charset=utf-8').send(document);
  });
  app.get(REFERENCE_PREFIX.slice(0, -1), async (_request, reply) => reply.redirect(REFERENCE_PREFIX));
  app.get(REFERENCE_PREFIX, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get(`${REFERENCE_PREFIX}init.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(INIT_SCRIPT),
  );
  const rendererDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  app.get<{ Params: { file: string } }>(`${REFERENCE_PREFIX}:file`, async (request, reply) => {
    const type = RENDERER_FILES.get(request.params.file);
    if (type === undefined) return reply.callNotFound();
    const body = await readFile(join(rendererDir, request.params.file));
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  });
}

function packageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../../errors/index.js';

/** `npm run build:web` output, found the same from src/http/routes (tsx) and dist/http/routes (built). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));
/** The pages' own prefix for scripts and styles; the API's paths stay the API's. */
const WEB_ASSETS_PREFIX = '/ui/';
/** The build holds a few hundred KB; anything far bigger is not ours and is not loaded into memory. */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Same-origin only: the pages load nothing from elsewhere and talk to this server alone. uPlot sizes
 * its elements through the CSSOM (allowed under `style-src 'self'`); no inline script or style.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

interface WebFile {
  body: Buffer;
  type: string;
}

/**
 * The playground at `/`, the usage dashboard at `/usage`, their assets under `/ui/`. The build is
 * read once at start (a fixed, small set of files), so no request ever maps a URL onto the disk.
 */
export function registerWebPages(app: FastifyInstance, webRoot: string): void {
  const files = loadBuild(webRoot);
  const send = (reply: FastifyReply, name: string) => {
    const file = files.get(name);
    if (!file)
      throw new GatewayError('not_found', `The web pages are not built (looked in ${webRoot}). Run: npm run build:web`);
    return reply.headers(SECURITY_HEADERS).type(file.type).send(file.body);
  };
  app.get('/', (_request, reply) => send(reply, 'index.html'));
  app.get('/usage', (_request, reply) => send(reply, 'usage.html'));
  app.get<{ Params: { name: string } }>(`${WEB_ASSETS_PREFIX}:name`, (request, reply) => {
    const file = files.get(`assets/${request.params.name}`);
    if (!file)
      throw new GatewayError('not_found', `Unknown request URL: GET ${WEB_ASSETS_PREFIX}${request.params.name}.`);
    return reply.headers(SECURITY_HEADERS).type(file.type).send(file.body);
  });
}

function loadBuild(webRoot: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  for (const name of ['index.html', 'usage.html']) addFile(files, webRoot, name);
  let assets: string[] = [];
  try {
    assets = readdirSync(join(webRoot, 'assets'));
  } catch {
    // Not built: the pages answer 404 with the command that builds them; the API is unaffected.
  }
  for (const name of assets) addFile(files, webRoot, `assets/${name}`);
  return files;
}

function addFile(files: Map<string, WebFile>, webRoot: string, name: string): void {
  const type = CONTENT_TYPES[extname(name)];
  if (type === undefined) return;
  const path = join(webRoot, name);
  try {
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > MAX_ASSET_BYTES) return;
    files.set(name, { body: readFileSync(path), type });
  } catch {
    // A page missing from the build answers 404 like any unknown URL.
  }
}

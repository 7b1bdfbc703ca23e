import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { REPO_ROOT } from './paths.js';

/**
 * A tiny web server for browser tests: it serves fixed HTML pages and the official `openai` SDK's ES
 * modules (node_modules/openai, which has no dependencies) from its own origin, so a page it serves
 * talks to the API cross-origin, with a real CORS preflight.
 */
export interface PageServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  close(): Promise<void>;
}

const OPENAI_DIR = resolve(REPO_ROOT, 'node_modules/openai');
const OPENAI_PREFIX = '/openai/';

export async function startPageServer(pages: Record<string, string>): Promise<PageServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    const page = pages[path];
    if (page !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
      return;
    }
    if (path.startsWith(OPENAI_PREFIX) && path.endsWith('.mjs')) {
      const file = resolve(OPENAI_DIR, decodeURIComponent(path.slice(OPENAI_PREFIX.length)));
      if (!file.startsWith(OPENAI_DIR + sep)) {
        response.writeHead(403).end();
        return;
      }
      readFile(file).then(
        (bytes) => response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bytes),
        () => response.writeHead(404).end(),
      );
      return;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    response.writeHead(404).end('not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

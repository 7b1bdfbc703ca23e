import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local stand-in for the Hugging Face file server: Range, redirects, dropped connections, tokens. */
export interface FixtureServerBehaviour {
  /** `…/resolve/…` paths answer 302 to `/cdn/…`, as huggingface.co redirects to its CDN. */
  redirect: boolean;
  /** Answer every GET with 200 and the whole file, as a server without Range support does. */
  ignoreRange: boolean;
  /** How many of the coming GETs send half their body, then drop the connection. */
  cutResponses: number;
  /** When set, requests without `Authorization: Bearer <this>` get a 401. */
  requiredToken: string | null;
}

interface RecordedRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface FixtureFileServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (use as hfEndpoint). */
  url: string;
  /** Every request received, in order (redirect hops included). */
  requests: RecordedRequest[];
  /** Mutable: change it between requests to change what the server does next. */
  behaviour: FixtureServerBehaviour;
  close(): Promise<void>;
}

const CDN_PREFIX = '/cdn';

/** Serves `files` (URL path -> bytes) on 127.0.0.1 and an ephemeral port. */
export async function startFixtureFileServer(
  files: Record<string, Buffer>,
  behaviour: Partial<FixtureServerBehaviour> = {},
): Promise<FixtureFileServer> {
  const state: FixtureServerBehaviour = {
    redirect: false,
    ignoreRange: false,
    cutResponses: 0,
    requiredToken: null,
    ...behaviour,
  };
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://fixture').pathname);
    requests.push({
      method: request.method ?? 'GET',
      path,
      range: request.headers.range,
      authorization: request.headers.authorization,
    });
    route(request, response, path, files, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behaviour: state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (it was free a moment ago): connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function route(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  files: Record<string, Buffer>,
  state: FixtureServerBehaviour,
): void {
  if (
    state.requiredToken !== null &&
    request.headers.authorization !== `Bearer ${state.requiredToken}` &&
    !path.startsWith(CDN_PREFIX)
  ) {
    response.writeHead(401).end('unauthorized');
    return;
  }
  if (state.redirect && files[path] !== undefined) {
    response.writeHead(302, { location: `${CDN_PREFIX}${path}` }).end();
    return;
  }
  const filePath = state.redirect && path.startsWith(CDN_PREFIX) ? path.slice(CDN_PREFIX.length) : path;
  const bytes = files[filePath];
  if (bytes === undefined) {
    response.writeHead(404).end('not found');
    return;
  }
  serveBytes(request, response, bytes, state);
}

function serveBytes(
  request: IncomingMessage,
  response: ServerResponse,
  bytes: Buffer,
  state: FixtureServerBehaviour,
): void {
  const range = state.ignoreRange ? null : parseRange(request.headers.range, bytes.length);
  if (range === 'unsatisfiable') {
    response.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
    return;
  }
  const [start, end] = range ?? [0, bytes.length - 1];
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'content-length': end - start + 1,
    'accept-ranges': 'bytes',
  };
  if (range !== null) headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
  response.writeHead(range === null ? 200 : 206, headers);
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const body = bytes.subarray(start, end + 1);
  if (state.cutResponses > 0) {
    state.cutResponses -= 1;
    response.write(body.subarray(0, Math.floor(body.length / 2)), () => response.destroy());
    return;
  }
  response.end(body);
}

/** `bytes=START-` or `bytes=START-END`; null when absent (serve it all). */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  const match = header?.match(/^bytes=(\d+)-(\d*)$/);
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

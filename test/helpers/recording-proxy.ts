import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request through the proxy: what the client sent (after any rewrite) and every byte it got back. */
export interface Exchange {
  method: string;
  path: string;
  requestBody: string;
  status: number;
  responseText: string;
}

export interface RecordingProxy {
  /** The target's base URL with the proxy's origin: hand this to the client under test. */
  baseURL: string;
  /** Every exchange, once complete. */
  exchanges(): Promise<Exchange[]>;
  close(): Promise<void>;
}

export interface RecordingProxyOptions {
  /** Changes a JSON request body in transit (the client's own code stays as it is). */
  rewriteBody?: (body: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * A byte-for-byte HTTP relay in front of a server under test, recording each exchange, so a test can
 * compare what a client printed with what it was sent. Used for clients that run in another process
 * (Python), where no fetch can be wrapped.
 */
export async function startRecordingProxy(
  targetBaseURL: string,
  options: RecordingProxyOptions = {},
): Promise<RecordingProxy> {
  const target = new URL(targetBaseURL);
  const pending: Promise<Exchange>[] = [];
  const server = createServer((incoming, outgoing) => {
    const exchange = relay(incoming, outgoing, target, options);
    // Observed by exchanges(); a failed relay must not also surface as an unhandled rejection.
    exchange.catch(() => undefined);
    pending.push(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}${target.pathname}`,
    exchanges: () => Promise.all(pending),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function relay(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  target: URL,
  options: RecordingProxyOptions,
): Promise<Exchange> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  let requestBody = Buffer.concat(chunks).toString('utf8');
  if (options.rewriteBody && requestBody !== '')
    requestBody = JSON.stringify(options.rewriteBody(JSON.parse(requestBody) as Record<string, unknown>));
  const headers = { ...incoming.headers, host: target.host };
  if (requestBody !== '') headers['content-length'] = String(Buffer.byteLength(requestBody));
  return new Promise<Exchange>((resolve, reject) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        const received: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          received.push(chunk);
          outgoing.write(chunk);
        });
        response.on('end', () => {
          outgoing.end();
          resolve({
            method: incoming.method ?? '',
            path: incoming.url ?? '',
            requestBody,
            status: response.statusCode ?? 0,
            responseText: Buffer.concat(received).toString('utf8'),
          });
        });
        response.on('error', reject);
      },
    );
    upstream.on('error', (error) => {
      outgoing.destroy(error);
      reject(error);
    });
    upstream.end(requestBody);
  });
}

/** The JSON chunks of a recorded SSE body, without `[DONE]`. */
export function sseChunks(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

/**
 * The reference the targets came from: a minimal Node proxy, a key check and a byte pipe, no
 * parsing. Measured in the same run and harness as Oru-el, it shows what any proxy costs on this
 * machine. `/instant/...`, `/slow/...`, `/idle/...` forward to the fake upstream of that name.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeUrls } from './fake-child.js';
import { failChild, serveChild } from './ipc.js';

export interface PipeTarget {
  /** `http://127.0.0.1:PORT`; the upstream is chosen by the first path segment. */
  baseURL: string;
  apiKey: string;
}

const API_KEY = 'pipe-key';

async function main(): Promise<void> {
  const upstreams = JSON.parse(process.argv[2] ?? '{}') as FakeUrls;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    if (incoming.headers.authorization !== `Bearer ${API_KEY}`) {
      response.writeHead(401).end();
      return;
    }
    const name = (incoming.url ?? '').split('/')[1] as keyof FakeUrls;
    const upstream = request(
      `${upstreams[name]}/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, {
          'content-type': answer.headers['content-type'] ?? 'application/json',
        });
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  serveChild<PipeTarget>({ baseURL: `http://127.0.0.1:${port}`, apiKey: API_KEY }, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

main().catch(failChild);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { connectRaw, rawRequest, sleep, until, type RawExchange } from './raw-client.js';

/**
 * Connections that never finish their request: a body trickled one byte at a time, headers that never
 * end, a keep-alive connection left idle. Each is answered with 408 in the OpenAI envelope (or, idle,
 * closed) within the configured timeouts, while everyone else is served.
 */

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 500;

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({
    server: {
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    },
  });
});
afterAll(async () => {
  await harness?.close();
});

function origin(): string {
  return harness.server.url;
}

/** Sends `next()` every `everyMs` until the server closes the connection. */
function trickle(exchange: RawExchange, next: () => string, everyMs: number): void {
  let closed = false;
  void exchange.closed.then(() => (closed = true));
  void (async () => {
    while (!closed) {
      await sleep(everyMs);
      if (!closed && exchange.socket.writable) exchange.socket.write(next());
    }
  })();
}

function parseResponse(text: string): { status: number; body: unknown } {
  const [head, body] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head!)?.[1]), body: JSON.parse(body!) };
}

const TIMEOUT_BODY = {
  error: {
    message: expect.stringMatching(/did not arrive in time/),
    type: 'invalid_request_error',
    param: null,
    code: 'request_timeout',
  },
};

describe('a body that never finishes', () => {
  it('five tricklers (Content-Length: 100000, one byte every 200 ms) each get 408 and are closed; others are served meanwhile', async () => {
    const tricklers = Array.from({ length: 5 }, () => {
      const exchange = rawRequest(origin(), [
        'POST /v1/inference/chat/completions HTTP/1.1',
        `Host: ${new URL(origin()).host}`,
        `Authorization: Bearer ${harness.apiKey}`,
        'Content-Type: application/json',
        'Content-Length: 100000',
      ]);
      trickle(exchange, () => ' ', 200);
      return exchange;
    });
    const served = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        max_tokens: 4,
      }),
    });
    expect(served.status).toBe(200);
    await Promise.all(tricklers.map((exchange) => exchange.closed));
    for (const exchange of tricklers) {
      expect(parseResponse(exchange.received())).toEqual({ status: 408, body: TIMEOUT_BODY });
    }
  });
});

describe('headers that never finish', () => {
  it('a header line every 100 ms: 408 and the connection is closed', async () => {
    const open = connectRaw(origin());
    open.socket.write(`POST /v1/inference/chat/completions HTTP/1.1\r\nHost: ${new URL(origin()).host}\r\n`);
    let header = 0;
    trickle(open, () => `X-Trickle-${(header += 1)}: 1\r\n`, 100);
    await open.closed;
    expect(parseResponse(open.received())).toEqual({ status: 408, body: TIMEOUT_BODY });
  });
});

describe('an idle keep-alive connection', () => {
  it('is closed by the server after keepAliveTimeoutMs', async () => {
    const exchange = rawRequest(origin(), [
      'GET /healthz HTTP/1.1',
      `Host: ${new URL(origin()).host}`,
      'Connection: keep-alive',
    ]);
    await until(() => exchange.received().includes('"status":"ok"'), 'the health answer');
    // Fastify's default keeps it for 72 s; the configured 0.5 s closes it well within this wait.
    await Promise.race([
      exchange.closed,
      sleep(20_000).then(() => Promise.reject(new Error('the idle connection is still open after 20 s'))),
    ]);
  });
});

describe('defaults', () => {
  it('every timeout is finite and inside what a client would wait', () => {
    const { server } = configSchema.parse({ modelsDir: '/tmp/models' });
    expect(server).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
      drainTimeoutMs: 10_000,
    });
  });

  it('are applied to the HTTP server', () => {
    const http = harness.server.app.server;
    expect({ headers: http.headersTimeout, request: http.requestTimeout, keepAlive: http.keepAliveTimeout }).toEqual({
      headers: HEADERS_TIMEOUT_MS,
      request: REQUEST_TIMEOUT_MS,
      keepAlive: KEEP_ALIVE_TIMEOUT_MS,
    });
  });
});

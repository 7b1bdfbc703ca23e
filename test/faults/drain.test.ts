import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { until } from './raw-client.js';

/**
 * The drain in process, against an upstream that never answers: during the drain a new request gets
 * 503 + Retry-After; at the deadline a waiting non-streamed request gets 503 `server_shutting_down`,
 * a stream whose head went out with a keep-alive gets the error event; close() resolves and every row
 * is stored.
 */

const DRAIN_MS = 400;
let silent: Server;
const sockets = new Set<Socket>();
let harness: TestServer;

beforeAll(async () => {
  silent = createServer(() => undefined);
  silent.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
  harness = await startTestServer({
    models: [{ name: 'silent', engine: 'openai', deployments: [{ url, model: 'silent' }] } as never],
    server: { drainTimeoutMs: DRAIN_MS, keepAliveMs: 100 },
  });
});
afterAll(async () => {
  await harness?.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

function post(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'silent', messages: [{ role: 'user', content: 'Hello?' }], ...body }),
  });
}

describe('the drain deadline', () => {
  it('refuses new requests, answers waiting ones with 503 or the error event, and stores every row', async () => {
    const waiting = post({});
    const streaming = await post({ stream: true });
    expect(streaming.status).toBe(200);
    const streamText = streaming.text();
    await until(() => sockets.size >= 2, 'both requests to reach the upstream');

    const closed = harness.server.close();
    const refused = await post({}, { origin: 'https://app.example' });
    expect(refused.status).toBe(503);
    // A browser can read it: CORS headers come before the refusal.
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down');

    const answer = await waiting;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    const waitingId = answer.headers.get('x-request-id')!;
    expect(await answer.json()).toEqual({
      error: {
        message: expect.stringMatching(/shutting down/),
        type: 'server_error',
        param: null,
        code: 'server_shutting_down',
      },
    });

    const events = (await streamText).split('\n\n').filter((event) => event.startsWith('data: '));
    expect(events).not.toContain('data: [DONE]');
    expect(JSON.parse(events.at(-1)!.slice(6))).toMatchObject({
      choices: [{ finish_reason: 'error' }],
      error: { code: 'server_shutting_down' },
    });
    await closed;
    // The upstream connections were destroyed, not left waiting.
    await until(() => sockets.size === 0, 'the upstream connections to close');

    const db = new Database(harness.config.database.url.slice('sqlite:'.length), { readonly: true });
    const rows = db.prepare('SELECT request_id, outcome, status, error_code FROM usage_ledger').all();
    db.close();
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        { request_id: waitingId, outcome: 'error', status: 503, error_code: 'server_shutting_down' },
        {
          request_id: streaming.headers.get('x-request-id'),
          outcome: 'error',
          status: 200,
          error_code: 'server_shutting_down',
        },
      ]),
    );
  });
});

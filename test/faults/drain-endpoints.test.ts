import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { until } from './raw-client.js';

/**
 * The drain deadline for the endpoints beside chat, against an upstream that never answers: a waiting
 * /completions and /embeddings get 503 `server_shutting_down`, a /completions stream and a reader
 * resuming a chat stream get the error event (no [DONE]); every request has its ledger row.
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

function post(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${harness.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'silent', ...body }),
  });
}

function dataEvents(text: string): string[] {
  return text
    .split('\n\n')
    .flatMap((event) => event.split('\n').filter((line) => line.startsWith('data: ')))
    .map((line) => line.slice(6));
}

describe('the drain deadline on /completions, /embeddings and resumed streams', () => {
  it('answers waiting requests with 503, open streams and resume readers with the error event, and stores every row', async () => {
    const completion = post('/completions', { prompt: 'Hello?' });
    const embedding = post('/embeddings', { input: 'Hello?' });
    const completionStream = await post('/completions', { prompt: 'Hello?', stream: true });
    expect(completionStream.status).toBe(200);
    const completionText = completionStream.text();
    const resumable = await post(
      '/chat/completions',
      { messages: [{ role: 'user', content: 'Hello?' }], stream: true },
      { 'oruel-resumable': 'true' },
    );
    expect(resumable.status).toBe(200);
    const streamId = resumable.headers.get('oruel-stream-id');
    expect(streamId).toBeTruthy();
    const resumed = await fetch(`${harness.baseURL}/chat/completions/${streamId}/stream`, {
      headers: { authorization: `Bearer ${harness.apiKey}`, 'last-event-id': '0' },
    });
    expect(resumed.status).toBe(200);
    const resumedText = resumed.text();
    const originalText = resumable.text();
    await until(() => sockets.size >= 4, 'every request to reach the upstream');

    const closed = harness.server.close();
    for (const answer of [await completion, await embedding]) {
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down');
    }
    for (const text of [await completionText, await resumedText]) {
      const events = dataEvents(text);
      expect(events).not.toContain('[DONE]');
      expect(JSON.parse(events.at(-1)!)).toMatchObject({ error: { code: 'server_shutting_down' } });
    }
    expect(dataEvents(await originalText)).not.toContain('[DONE]');
    await closed;
    await until(() => sockets.size === 0, 'the upstream connections to close');

    const db = new Database(harness.config.database.url.slice('sqlite:'.length), { readonly: true });
    const rows = db.prepare('SELECT request_id, outcome, status, error_code FROM usage_ledger').all() as {
      request_id: string;
      error_code: string | null;
    }[];
    db.close();
    expect(rows).toHaveLength(4);
    expect(rows.every((row) => row.error_code === 'server_shutting_down')).toBe(true);
  });
});

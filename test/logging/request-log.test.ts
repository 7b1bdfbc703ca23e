import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { startServer } from '../../src/main.js';
import { eventually } from '../helpers/api.js';
import { ADMIN_TOKEN, startConfiguredServer, type MetricsTestServer } from '../metrics/metrics-server.js';

const MODEL = 'stories260K';
const MESSAGES = [{ role: 'user' as const, content: 'Once upon a time' }];

/** A logger writing into memory, in the given format, as `oruel serve` would to stdout. */
function capturedLogger(format: 'json' | 'pretty') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { logger: createLogger({ level: 'info', format, stream }), text: () => text };
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

function jsonLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

describe('request log lines (JSON)', () => {
  let harness: MetricsTestServer;
  let log: ReturnType<typeof capturedLogger>;

  beforeAll(async () => {
    log = capturedLogger('json');
    harness = await startConfiguredServer({ admin: { token: ADMIN_TOKEN } }, log.logger);
  });
  afterAll(async () => harness?.close());

  const linesFor = async (requestId: string) => {
    const found = await eventually(
      async () => jsonLines(log.text()).filter((line) => line.requestId === requestId),
      (lines) => lines.length > 0,
    );
    expect(found, `log lines of ${requestId}:\n${log.text()}`).toHaveLength(1);
    return found[0]!;
  };

  it('writes one line per finished chat request with key id and name, model, engine, tokens and TTFT', async () => {
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages: MESSAGES, max_tokens: 6 })
      .withResponse();
    const line = await linesFor(response.headers.get('x-request-id')!);
    const key = (await harness.server.keyStore.list()).find((record) => record.name === 'metrics-test')!;
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      url: '/v1/inference/chat/completions',
      keyId: key.id,
      keyName: 'metrics-test',
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
      stream: false,
      status: 200,
      outcome: 'completed',
      errorCode: null,
      promptTokens: data.usage!.prompt_tokens,
      completionTokens: data.usage!.completion_tokens,
    });
    expect(line.ttftMs).toBeTypeOf('number');
    expect(line.durationMs).toBeGreaterThanOrEqual(line.ttftMs as number);
    expect(line.msg).toMatch(
      /^POST \/v1\/inference\/chat\/completions 200 completed \(stories260K, \d+\+\d+ tokens, ttft \d+ ms, \d+ ms\)$/,
    );
  });

  it('writes the line of a stream once it ended', async () => {
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: MESSAGES, max_tokens: 4, stream: true })
      .withResponse();
    for await (const _chunk of stream) void _chunk;
    const line = await linesFor(response.headers.get('x-request-id')!);
    expect(line).toMatchObject({ stream: true, status: 200, outcome: 'completed', completionTokens: 4 });
  });

  it('never logs a secret: keys and tokens in headers or query strings', async () => {
    const secrets = [harness.apiKey, ADMIN_TOKEN, 'oruel_notARealKeyButSecretAnyway123456'];
    const ids: string[] = [];
    const send = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(url, init);
      await response.text();
      ids.push(response.headers.get('x-request-id')!);
      return response.status;
    };
    expect(await send(`${harness.baseURL}/models?api_key=${harness.apiKey}`)).toBe(401);
    expect(
      await send(`${harness.baseURL}/models?x=1&key=${harness.apiKey}`, {
        headers: { authorization: `Bearer ${harness.apiKey}` },
      }),
    ).toBe(200);
    expect(
      await send(`${harness.server.url}/v1/admin/keys?token=${ADMIN_TOKEN}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    ).toBe(200);
    expect(
      await send(`${harness.baseURL}/chat/completions?api_key=${secrets[2]}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secrets[2]}` },
        body: '{}',
      }),
    ).toBe(401);
    expect(
      await send(`${harness.server.url}/v1/admin/usage?token=${secrets[2]}`, {
        headers: { authorization: `Bearer ${secrets[2]}` },
      }),
    ).toBe(401);
    for (const id of ids) await linesFor(id);
    const text = log.text();
    for (const secret of secrets) expect(text.includes(secret), `a secret reached the log:\n${text}`).toBe(false);
    expect(text).toContain('/v1/inference/models?api_key=[redacted]');
    expect(text).toContain('/v1/admin/keys?token=[redacted]');
  });

  it('logs a 429 as a warning without a stack', async () => {
    const { key } = await harness.server.keyStore.create({ name: 'one-per-minute', rpm: 1 });
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 2 });
    const refused = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: MESSAGES, max_tokens: 2 }),
    });
    expect(refused.status).toBe(429);
    const line = await linesFor(refused.headers.get('x-request-id')!);
    expect(line).toMatchObject({
      level: 40,
      status: 429,
      outcome: 'refused',
      errorCode: 'rate_limit_exceeded',
      keyName: 'one-per-minute',
    });
    expect(log.text()).not.toMatch(/"stack"/);
    expect(jsonLines(log.text()).filter((entry) => entry.level >= 50)).toEqual([]);
  });
});

describe('a 503 while the model is still loading', () => {
  let hanging: Server;
  const sockets = new Set<Socket>();
  const every = new Set<Socket>();
  let answering = false;
  const notFound = (socket: Socket) =>
    socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');

  beforeAll(async () => {
    // A model "download" that does not answer keeps the model loading for as long as the test needs;
    // then a 404 ends the load, so the server can close.
    hanging = createServer((socket) => {
      socket.on('error', () => undefined);
      every.add(socket);
      if (answering) notFound(socket);
      else sockets.add(socket);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of every) socket.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  it('is a warning line, not an error with a stack', async () => {
    const log = capturedLogger('json');
    const address = hanging.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), 'oruel-loading-'));
    const config = configSchema.parse({
      server: { port: 0 },
      database: { url: `sqlite:${join(dir, 'oruel.db')}` },
      modelsDir: join(dir, 'models'),
      hfEndpoint: `http://127.0.0.1:${address.port}`,
      models: [{ name: 'later', engine: 'llama-cpp', path: 'hf:owner/repo/later.gguf' }],
    });
    const server = await startServer(config, { logger: log.logger, announce: () => undefined });
    server.ready.catch(() => undefined);
    try {
      const { key } = await server.keyStore.create({ name: 'early' });
      const response = await fetch(`${server.url}/v1/inference/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'later', messages: MESSAGES }),
      });
      expect(response.status).toBe(503);
      const id = response.headers.get('x-request-id')!;
      const line = await eventually(
        async () => jsonLines(log.text()).find((entry) => entry.requestId === id),
        (found) => found !== undefined,
      );
      expect(line).toMatchObject({
        level: 40,
        status: 503,
        outcome: 'error',
        errorCode: 'engine_unavailable',
        model: 'later',
      });
      expect(log.text()).not.toMatch(/"stack"/);
    } finally {
      answering = true;
      for (const socket of sockets) notFound(socket);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pretty logs', () => {
  it('writes one readable line per request, no JSON, and still no secret', async () => {
    const log = capturedLogger('pretty');
    const harness = await startConfiguredServer({}, log.logger);
    try {
      const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
      await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 3 });
      await fetch(`${harness.baseURL}/models?api_key=${harness.apiKey}`).then((response) => response.text());
      const text = await eventually(
        async () => log.text(),
        (current) => current.includes('GET /v1/inference/models'),
      );
      const line = text.split('\n').find((entry) => entry.includes('POST /v1/inference/chat/completions'))!;
      expect(line).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: POST \/v1\/inference\/chat\/completions 200 completed \(stories260K, \d+\+3 tokens, ttft \d+ ms, \d+ ms\)/,
      );
      expect(line).toContain('"keyName":"metrics-test"');
      process.stdout.write(`pretty request line: ${line}\n`);
      expect(text).not.toMatch(/^\{"level"/m);
      expect(text.includes(harness.apiKey)).toBe(false);
    } finally {
      await harness.close();
    }
  });
});

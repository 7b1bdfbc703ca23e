import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { liveRequest } from '../helpers/live-request.js';
import { REPO_ROOT, STORIES_MODEL } from '../helpers/paths.js';

/**
 * `oruel serve` as an operator runs it: a separate process (the TypeScript sources through tsx, so no
 * build step can go stale), its own SQLite file, a port picked here, stdout and stderr captured.
 */

const FULL_KEY = /oruel_[0-9A-Za-z]{32,128}/g;
const STACK_LINE = /^\s+at .+[:(]\d+/m;
/** Starting Node + tsx + llama.cpp on a busy 2-core machine takes a while. */
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 180_000;

let dir: string;
const children: ServeProcess[] = [];
/** The key the first start printed, for the second start on the same database. */
let firstKey: string | null = null;

interface ServeProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `oruel serve`; `port: null` passes no --port (the config file then decides). */
async function serve(args: string[], options: { database?: string; port?: number | null } = {}): Promise<ServeProcess> {
  const port = options.port === null ? 0 : (options.port ?? (await freePort()));
  const portArgs = options.port === null ? [] : ['--port', String(port)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', ...portArgs, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ORUEL_DATABASE_URL: `sqlite:${options.database ?? join(dir, 'oruel.db')}`,
      ORUEL_MODELS_DIR: join(dir, 'models'),
      ORUEL_CONFIG: '',
      ORUEL_PORT: '',
      ORUEL_LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running: ServeProcess = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    url: `http://127.0.0.1:${port}`,
  };
  children.push(running);
  return running;
}

/** Polls `path` until it answers `status`; fails early with the process's output if it exits. */
async function waitFor(server: ServeProcess, path: string, status = 200): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`oruel serve exited early.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
    const answered = await fetch(`${server.url}${path}`).then(
      (response) => response.status,
      () => 0,
    );
    if (answered === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${path} never answered ${status}.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

async function chat(server: ServeProcess, key: string | null, body: Record<string, unknown> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${server.url}/v1/inference/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 6,
      ...body,
    }),
  });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    json: (await response.json()) as { usage?: { prompt_tokens: number; completion_tokens: number } },
  };
}

async function stop(server: ServeProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return server.exited;
}

function ledgerRows(
  database: string,
  requestId: string,
): { outcome: string; prompt_tokens: number; completion_tokens: number; status: number }[] {
  const db = new Database(database, { readonly: true });
  try {
    return db
      .prepare('SELECT outcome, prompt_tokens, completion_tokens, status FROM usage_ledger WHERE request_id = ?')
      .all(requestId) as never;
  } finally {
    db.close();
  }
}

/** An operator error: exit code 1, a message on stderr, no stack trace anywhere. */
async function expectOperatorFailure(server: ServeProcess, pattern: RegExp): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`oruel serve did not exit.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`)),
      START_TIMEOUT_MS,
    );
  });
  const { code } = await Promise.race([server.exited, timeout]).finally(() => clearTimeout(timer));
  const stderr = server.stderr();
  expect(code, `stdout:\n${server.stdout()}\nstderr:\n${stderr}`).toBe(1);
  expect(stderr).toMatch(pattern);
  expect(stderr).toMatch(/^oruel: /);
  expect(stderr).not.toMatch(/unexpected error/i);
  expect(stderr).not.toMatch(STACK_LINE);
  expect(server.stdout()).not.toMatch(STACK_LINE);
  return stderr;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oruel-serve-'));
});
afterEach(async () => {
  for (const server of children.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('oruel serve on a fresh database', () => {
  const database = () => join(dir, 'fresh.db');

  it(
    'prints one generated key on stdout, gets healthy and ready, serves that key, and stores the ledger on SIGTERM',
    async () => {
      const server = await serve(['--model', 'test/fixtures/models/stories260K.gguf'], { database: database() });
      await waitFor(server, '/healthz');
      await waitFor(server, '/readyz');

      const keys = server.stdout().match(FULL_KEY) ?? [];
      expect(keys, server.stdout()).toHaveLength(1);
      const key = keys[0]!;
      firstKey = key;
      expect(server.stderr()).not.toContain(key);

      const answered = await chat(server, key);
      expect(answered.status).toBe(200);
      expect(answered.requestId).toMatch(/^req_/);
      expect((await chat(server, null)).status).toBe(401);
      // The key is not echoed into the logs by serving requests either.
      expect(server.stdout().match(FULL_KEY)).toHaveLength(1);

      const { code, signal } = await stop(server);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(server.stderr()).not.toMatch(STACK_LINE);
      const rows = ledgerRows(database(), answered.requestId!);
      expect(rows).toEqual([
        {
          outcome: 'completed',
          status: 200,
          prompt_tokens: answered.json.usage!.prompt_tokens,
          completion_tokens: answered.json.usage!.completion_tokens,
        },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a second start on the same database prints no key, and the key printed by the first start still works',
    async () => {
      expect(firstKey, 'the first start must have printed a key').not.toBeNull();
      const server = await serve(['--model', STORIES_MODEL], { database: database() });
      await waitFor(server, '/readyz');
      expect(server.stdout().match(FULL_KEY)).toBeNull();
      expect((await chat(server, firstKey)).status).toBe(200);

      const db = new Database(database(), { readonly: true });
      const active = (db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as { n: number })
        .n;
      db.close();
      expect(active).toBe(1);
      const { code } = await stop(server);
      expect(code).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('oruel serve --no-auth', () => {
  it(
    'accepts requests without a key and creates none',
    async () => {
      const server = await serve(['--model', STORIES_MODEL, '--no-auth'], { database: join(dir, 'no-auth.db') });
      await waitFor(server, '/readyz');
      expect(server.stdout().match(FULL_KEY)).toBeNull();
      const answered = await chat(server, null);
      expect(answered.status).toBe(200);
      const stream = liveRequest(`${server.url}/v1/inference/chat/completions`, {
        apiKey: null,
        body: {
          model: 'stories260K',
          messages: [{ role: 'user', content: 'Once upon a time' }],
          stream: true,
          max_tokens: 200,
          temperature: 0,
        },
      });
      await stream.firstContent();
      // SIGTERM while the stream runs: the stream still ends with [DONE], and the process exits 0.
      server.child.kill('SIGTERM');
      await stream.finished;
      expect(stream.events.at(-1)?.text).toBe('[DONE]');
      const { code } = await server.exited;
      expect(code).toBe(0);
      const rows = ledgerRows(join(dir, 'no-auth.db'), String((await stream.headers)['x-request-id']));
      expect(rows).toEqual([expect.objectContaining({ outcome: 'completed', completion_tokens: 200 })]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('oruel serve refuses to start, with one clear message', () => {
  it(
    'a config file with server.port "abc"',
    async () => {
      const config = join(dir, 'bad.yaml');
      writeFileSync(config, 'server:\n  port: "abc"\n');
      // No --port: the command line would win over the file's value.
      const server = await serve(['--config', config, '--model', STORIES_MODEL], {
        database: join(dir, 'bad-config.db'),
        port: null,
      });
      const stderr = await expectOperatorFailure(server, /server\.port/);
      expect(stderr).toContain(config);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a model path that does not exist',
    async () => {
      const missing = join(dir, 'no-such-model.gguf');
      const server = await serve(['--model', missing], { database: join(dir, 'missing.db') });
      const stderr = await expectOperatorFailure(server, /no-such-model/);
      expect(stderr).toMatch(/not found|does not exist|no such file/i);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a file that is not a GGUF model',
    async () => {
      const fake = join(dir, 'x.gguf');
      writeFileSync(fake, 'hello, I am a text file\n');
      const server = await serve(['--model', fake], { database: join(dir, 'not-gguf.db') });
      const stderr = await expectOperatorFailure(server, /"x"/);
      expect(stderr).toMatch(/GGUF/i);
    },
    TEST_TIMEOUT_MS,
  );
});

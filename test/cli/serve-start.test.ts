import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, STORIES_MODEL } from '../helpers/paths.js';

/**
 * What `oruel serve` checks before it creates anything: the port is free and local model files exist.
 * A failure is one line on stderr and exit 1, with no database file, no API key and no model loaded.
 */

const FULL_KEY = /oruel_[0-9A-Za-z]{32,128}/;
let dir: string;
let busy: Server;
let busyPort: number;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function serve(args: string[], database: string): Promise<Finished> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ORUEL_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', ...args], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      ORUEL_DATABASE_URL: `sqlite:${database}`,
      ORUEL_MODELS_DIR: join(dir, 'models'),
      ORUEL_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oruel-serve-start-'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('oruel serve on a busy port', () => {
  it('prints one line and exits 1, having created no database, no key and loaded no model', async () => {
    const database = join(dir, 'busy.db');
    const result = await serve(['--model', STORIES_MODEL, '--port', String(busyPort)], database);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`oruel: port ${busyPort} is in use; choose another with --port\n`);
    expect(result.stdout).not.toMatch(FULL_KEY);
    expect(result.stdout).not.toMatch(/loading model|Server listening/);
    expect(existsSync(database)).toBe(false);
  }, 90_000);
});

describe('oruel serve with a missing model file', () => {
  it('says so before listening, and creates no database and no key', async () => {
    const database = join(dir, 'missing.db');
    const missing = join(dir, 'no-such-model.gguf');
    const result = await serve(['--model', missing, '--port', '0'], database);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`oruel: Model "no-such-model" failed to load: model file not found: ${missing}\n`);
    expect(result.stdout).not.toMatch(/Server listening/);
    expect(result.stdout).not.toMatch(FULL_KEY);
    expect(existsSync(database)).toBe(false);
  }, 90_000);
});

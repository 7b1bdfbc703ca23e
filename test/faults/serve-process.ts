import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `oruel serve` as a real child process (node --import tsx: one process, so a kill leaves no orphan),
 * with its YAML config, its own SQLite file, and no ORUEL_* variable inherited from the test.
 */
export class ServeProcess {
  readonly origin: string;
  readonly exited: Promise<Exit>;
  #output = '';

  private constructor(
    readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly database: string,
    port: number,
  ) {
    this.origin = `http://127.0.0.1:${port}`;
    child.stdout.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (this.#output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the server with `config` (server.port and database are filled in) and waits for /readyz. */
  static async start(dir: string, name: string, config: Record<string, unknown>): Promise<ServeProcess> {
    const port = await freePort();
    const database = join(dir, `${name}.db`);
    const server = { host: '127.0.0.1', port, logLevel: 'info', ...(config.server as Record<string, unknown>) };
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      stringify({ ...config, server, database: { url: `sqlite:${database}` }, modelsDir: join(dir, 'models') }),
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ORUEL_')));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--config', file], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serve = new ServeProcess(child, database, port);
    await serve.#waitReady();
    return serve;
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The exit, or an error naming what the process printed if it is still alive after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`oruel serve still running ${timeoutMs} ms later:\n${this.output}`)),
        timeoutMs,
      );
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** Ledger rows of one request, read from the SQLite file after the process ended. */
  ledgerRows(
    requestId: string,
  ): { outcome: string; error_code: string | null; status: number; completion_tokens: number }[] {
    const db = new Database(this.database, { readonly: true });
    try {
      return db
        .prepare('SELECT outcome, error_code, status, completion_tokens FROM usage_ledger WHERE request_id = ?')
        .all(requestId) as never;
    } finally {
      db.close();
    }
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`oruel serve exited before it was ready:\n${this.output}`);
      const status = await fetch(`${this.origin}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`oruel serve was not ready within 90 s:\n${this.output}`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

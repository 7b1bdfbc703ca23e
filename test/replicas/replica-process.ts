import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.js';

export interface ReplicaConfig {
  /** The YAML configuration file's content (server, database, redis, admin, ledger, models, ...). */
  config: Record<string, unknown>;
  dir: string;
  name: string;
}

/**
 * One `oruel serve` process, spawned as an operator would run it (the CLI entry point through tsx),
 * with its configuration in a YAML file and no ORUEL_* variable inherited from the test's environment.
 */
export class ReplicaProcess {
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  #exit: Promise<number | null>;
  origin = '';

  private constructor(
    child: ChildProcess,
    readonly name: string,
  ) {
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(options: ReplicaConfig): Promise<ReplicaProcess> {
    const file = join(options.dir, `${options.name}.yaml`);
    await writeFile(file, stringify(options.config));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORUEL_')));
    // node --import tsx is one process; the tsx wrapper would leave its child orphaned by a SIGKILL.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--config', file], {
      cwd: REPO_ROOT,
      env,
    });
    const replica = new ReplicaProcess(child, options.name);
    replica.origin = await replica.#waitUntilReady();
    return replica;
  }

  get baseURL(): string {
    return `${this.origin}/v1/inference`;
  }

  /** The process's log lines so far (pino JSON), for messages on failure. */
  get output(): string {
    return this.#output.join('\n');
  }

  /** SIGTERM, as an orchestrator sends it; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
    return this.#exit;
  }

  /** For cleanup after a failed test: no grace. */
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  #waitUntilReady(): Promise<string> {
    return new Promise((resolve, reject) => {
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          this.#output.push(line);
          const url = readyUrl(line);
          if (url !== null) resolve(url);
        }
      };
      this.#child.stdout!.on('data', onData);
      this.#child.stderr!.on('data', (chunk: Buffer) => this.#output.push(chunk.toString().trimEnd()));
      void this.#exit.then((code) =>
        reject(new Error(`${this.name} exited with ${code} before it was ready:\n${this.output}`)),
      );
    });
  }
}

/** The origin from the start summary's log line (`{"event":"ready","url":"http://127.0.0.1:PORT/v1/inference",...}`). */
function readyUrl(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { event?: string; url?: string };
    return entry.event === 'ready' && entry.url ? entry.url.replace(/\/v1\/inference$/, '') : null;
  } catch {
    return null;
  }
}

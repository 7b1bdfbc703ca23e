import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage, ServerChildConfig } from './server-protocol.js';

export interface ProcessStats {
  rssBytes: number;
  /** User + system CPU time of the whole server process so far. */
  cpuMicros: number;
  /** Generated -> written to the socket, per token, since the previous stats (ms). */
  partWaitMs: number[];
}

export interface ServerProcess {
  pid: number;
  /** `http://127.0.0.1:PORT/v1/inference` */
  baseURL: string;
  apiKey: string;
  stats(): Promise<ProcessStats>;
  /** Closes the server gracefully and waits for the process to exit. */
  close(): Promise<void>;
}

const SERVER_CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/**
 * Forks server-child.ts (or another child speaking the same IPC protocol, such as the embedded floor)
 * under tsx and resolves once its model is loaded and a key exists.
 */
export async function startServerProcess(
  config: ServerChildConfig,
  cpuProfDir: string | null,
  childFile: string = SERVER_CHILD,
): Promise<ServerProcess> {
  const execArgv = ['--import', import.meta.resolve('tsx')];
  if (cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const child = fork(childFile, [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server process exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.once('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      if (message.type === 'ready') resolve(message);
      else
        reject(
          new Error(`server process failed to start: ${message.type === 'failed' ? message.message : message.type}`),
        );
    });
  });
  const askStats = statsRequester(child);
  return {
    pid: child.pid ?? -1,
    baseURL: ready.baseURL,
    apiKey: ready.apiKey,
    stats: askStats,
    close: () => closeChild(child),
  };
}

const CLOSE_TIMEOUT_MS = 30_000;

async function closeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'close' } satisfies ParentMessage);
  const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function statsRequester(child: ChildProcess): () => Promise<ProcessStats> {
  let nextId = 0;
  const pending = new Map<number, (stats: ProcessStats) => void>();
  child.on('message', (message: ChildMessage) => {
    if (message.type !== 'stats') return;
    pending.get(message.id)?.({
      rssBytes: message.rssBytes,
      cpuMicros: message.cpuMicros,
      partWaitMs: message.partWaitMs,
    });
    pending.delete(message.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ type: 'stats', id } satisfies ParentMessage, (error) => {
        if (error) reject(error);
      });
    });
}

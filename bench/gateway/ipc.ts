import { fork, type ChildProcess } from 'node:child_process';

/** Messages between the benchmark and its child processes (the fake upstreams, the gateway). */
export type ChildRequest = { type: 'stats'; id: number; gc: boolean } | { type: 'close' };

export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** User + system CPU of the whole process so far. */
  cpuMicros: number;
}

export type ChildReply<Ready> =
  | { type: 'ready'; payload: Ready }
  | { type: 'failed'; message: string }
  | ({ type: 'stats'; id: number } & ProcessStats);

export interface Child<Ready> {
  ready: Ready;
  stats(options?: { gc?: boolean }): Promise<ProcessStats>;
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 30_000;

/** Forks a TypeScript file under tsx and waits for its `ready` message. */
export async function startChild<Ready>(
  file: string,
  argument: unknown,
  execArgv: string[] = [],
): Promise<Child<Ready>> {
  const child = fork(file, [JSON.stringify(argument)], {
    execArgv: ['--import', import.meta.resolve('tsx'), '--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${file} exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.once('message', (message: ChildReply<Ready>) => {
      child.off('exit', onExit);
      if (message.type === 'ready') resolve(message.payload);
      else reject(new Error(`${file} failed to start: ${message.type === 'failed' ? message.message : message.type}`));
    });
  });
  return { ready, stats: statsRequester(child), close: () => closeChild(child) };
}

function statsRequester(child: ChildProcess): (options?: { gc?: boolean }) => Promise<ProcessStats> {
  let nextId = 0;
  const pending = new Map<number, (stats: ProcessStats) => void>();
  child.on('message', (message: ChildReply<unknown>) => {
    if (message.type !== 'stats') return;
    pending.get(message.id)?.({
      rssBytes: message.rssBytes,
      heapUsedBytes: message.heapUsedBytes,
      cpuMicros: message.cpuMicros,
    });
    pending.delete(message.id);
  });
  return (options = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ type: 'stats', id, gc: options.gc ?? false } satisfies ChildRequest, (error) => {
        if (error) reject(error);
      });
    });
}

async function closeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'close' } satisfies ChildRequest);
  const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** The child's side: answer `stats`, run `onClose` then exit on `close`, exit if the parent dies. */
export function serveChild<Ready>(ready: Ready, onClose: () => Promise<void>): void {
  const send = (message: ChildReply<Ready>) => process.send?.(message);
  process.on('message', (message: ChildRequest) => {
    if (message.type === 'stats') {
      void settle(message.gc).then(() => {
        const cpu = process.cpuUsage();
        const memory = process.memoryUsage();
        send({
          type: 'stats',
          id: message.id,
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          cpuMicros: cpu.user + cpu.system,
        });
      });
      return;
    }
    // `--cpu-prof` writes its profile on process.exit().
    void onClose().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.on('disconnect', () => process.exit(1));
  send({ type: 'ready', payload: ready });
}

/**
 * For memory figures: full GCs, with a pause between them so V8 can give freed pages back to the
 * system (RSS lags the heap, and would otherwise credit one phase's garbage to the next).
 */
async function settle(gc: boolean): Promise<void> {
  if (!gc) return;
  for (let pass = 0; pass < 2; pass += 1) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function failChild(error: unknown): never {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

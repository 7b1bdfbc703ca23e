import { openIdleStream, type Target } from './client.js';
import type { Child } from './ipc.js';

export interface MemoryFigures {
  /** The fresh process, started and idle (after full GCs), before any stream. */
  idleRssMiB: number;
  rssPerStreamKiB: number;
  heapPerStreamKiB: number;
}

/**
 * RSS and JS heap (each after full GCs) a proxy process needs per stream held open and idle after its
 * first token: the slope between `count / 4` open streams and `count` open streams, on a fresh
 * process. A slope, not "open minus none": the first streams pay for one-time work (code compiled
 * lazily, pools created), and a fresh process gives start-up garbage back to the system meanwhile,
 * which a plain difference would credit to the streams (or subtract from them).
 */
export async function measureMemory(target: Target, proxy: Child<unknown>, count: number): Promise<MemoryFigures> {
  const idle = await proxy.stats({ gc: true });
  const first = Math.floor(count / 4);
  const closers = await openIdle(target, first);
  const before = await proxy.stats({ gc: true });
  closers.push(...(await openIdle(target, count - first)));
  const after = await proxy.stats({ gc: true });
  for (const close of closers) close();
  const added = count - first;
  return {
    idleRssMiB: idle.rssBytes / 2 ** 20,
    rssPerStreamKiB: (after.rssBytes - before.rssBytes) / added / 1024,
    heapPerStreamKiB: (after.heapUsedBytes - before.heapUsedBytes) / added / 1024,
  };
}

function openIdle(target: Target, count: number): Promise<(() => void)[]> {
  return Promise.all(Array.from({ length: count }, () => openIdleStream(target)));
}

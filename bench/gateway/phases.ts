import { closedLoop, completeOnce, LABELS, streamOnce, type Label, type Target } from './client.js';
import type { Child } from './ipc.js';
import { median, quantile } from './stats.js';
import type { Targets } from './targets.js';

export interface PhaseSettings {
  phaseMs: number;
  sequential: number;
  slowStreams: number;
  tokens: number;
}

export type PerLabel = Record<Label, number>;

/** One round's figures per label; CPU per stream is read from each proxy's own process. */
export interface RoundFigures {
  ttftMs: PerLabel;
  streams32PerSecond: PerLabel;
  slowTokensPerSecond: PerLabel;
  slowTtftP99Ms: PerLabel;
  slowTtftP50Ms: PerLabel;
  /** The proxy's CPU over the wall time of the slow phase, in % of one core. */
  slowCpuPercent: PerLabel;
  /** Content events a client received per 64-chunk stream, instant upstream (median). */
  contentEventsPerStream: PerLabel;
  completionsPerSecond: PerLabel;
  cpuPerInstantStreamMs: PerLabel;
  cpuPerPacedStreamMs: PerLabel;
  cpuPerCompletionMs: PerLabel;
}

/** The process that does the proxying for a label (none for direct). */
export type Proxies = Record<Label, Child<unknown> | null>;

const empty = (): PerLabel => ({ direct: 0, pipe: 0, gateway: 0 });

/** Every phase once per label, in an order that rotates with the round (no label always goes first). */
export async function runRound(
  targets: Targets,
  proxies: Proxies,
  settings: PhaseSettings,
  round: number,
): Promise<RoundFigures> {
  const order = LABELS.map((_, index) => LABELS[(index + round) % LABELS.length]!);
  const figures: RoundFigures = {
    ttftMs: empty(),
    streams32PerSecond: empty(),
    slowTokensPerSecond: empty(),
    slowTtftP99Ms: empty(),
    slowTtftP50Ms: empty(),
    slowCpuPercent: empty(),
    contentEventsPerStream: empty(),
    completionsPerSecond: empty(),
    cpuPerInstantStreamMs: empty(),
    cpuPerPacedStreamMs: empty(),
    cpuPerCompletionMs: empty(),
  };
  for (const label of order) figures.ttftMs[label] = await sequentialTtft(targets[label].instant, settings.sequential);
  for (const label of order) {
    const events: number[] = [];
    const measured = await withCpu(proxies[label], () =>
      countedLoop(32, settings.phaseMs, async () =>
        events.push((await streamOnce(targets[label].instant)).contentEvents),
      ),
    );
    figures.streams32PerSecond[label] = measured.result.perSecond;
    figures.contentEventsPerStream[label] = median(events);
    figures.cpuPerInstantStreamMs[label] = measured.cpuMs / measured.result.count;
  }
  for (const label of order) {
    const measured = await withCpu(proxies[label], () => slowBatch(targets[label].slow, settings.slowStreams));
    figures.slowTokensPerSecond[label] = (settings.slowStreams * settings.tokens) / (measured.result.wallMs / 1000);
    figures.slowTtftP99Ms[label] = quantile(measured.result.ttfts, 0.99);
    figures.slowTtftP50Ms[label] = quantile(measured.result.ttfts, 0.5);
    figures.slowCpuPercent[label] = (100 * measured.cpuMs) / measured.result.wallMs;
    figures.cpuPerPacedStreamMs[label] = measured.cpuMs / settings.slowStreams;
  }
  for (const label of order) {
    const measured = await withCpu(proxies[label], () =>
      countedLoop(32, settings.phaseMs, () => completeOnce(targets[label].instant)),
    );
    figures.completionsPerSecond[label] = measured.result.perSecond;
    figures.cpuPerCompletionMs[label] = measured.cpuMs / measured.result.count;
  }
  return figures;
}

async function sequentialTtft(target: Target, count: number): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) samples.push((await streamOnce(target)).ttftMs);
  return median(samples);
}

async function countedLoop(
  concurrency: number,
  durationMs: number,
  work: () => Promise<unknown>,
): Promise<{ perSecond: number; count: number }> {
  let count = 0;
  const perSecond = await closedLoop(concurrency, durationMs, async () => {
    await work();
    count += 1;
  });
  return { perSecond, count };
}

/** The proxy process's CPU time while `work` ran (its own process: the client's CPU is not in it). */
async function withCpu<T>(proxy: Child<unknown> | null, work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = await proxy?.stats();
  const result = await work();
  const after = await proxy?.stats();
  return { result, cpuMs: before && after ? (after.cpuMicros - before.cpuMicros) / 1000 : 0 };
}

/** All streams at once: the wall time until the last ends, and every stream's time to first token. */
async function slowBatch(target: Target, streams: number): Promise<{ wallMs: number; ttfts: number[] }> {
  const started = performance.now();
  const samples = await Promise.all(Array.from({ length: streams }, () => streamOnce(target)));
  return { wallMs: performance.now() - started, ttfts: samples.map((sample) => sample.ttftMs) };
}

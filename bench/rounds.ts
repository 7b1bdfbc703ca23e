import { setTimeout as sleep } from 'node:timers/promises';
import type { DirectGenerator } from './direct.js';
import type { BenchOptions } from './options.js';
import type { GenerationSample } from './sample.js';
import type { ServerProcess } from './server-process.js';
import { streamConcurrently, streamChat, type ConcurrentRun, type ServerTarget } from './through-server.js';

/** Lets the server finish a request's trailing work (ledger insert, socket close) before the next round. */
const SETTLE_MS = 50;

export interface InterleavedRounds {
  direct: GenerationSample[];
  server: GenerationSample[];
  /** CPU time (all threads) per round: this process during direct rounds, the server process and this process (the client) during server rounds. */
  cpuMs: { direct: number[]; server: number[]; client: number[] };
  /** CPU the server process used while the direct rounds ran (it should be idle then). */
  serverCpuDuringDirectMs: number;
  /** Per token of the server rounds: generated (pushed by the engine) -> written to the socket, ms. */
  partWaitMs: number[];
}

/** Phases 1-2: direct, server, direct, server, ... so slow drifts of a shared machine hit both alike. */
export async function interleavedRounds(
  direct: DirectGenerator,
  server: ServerProcess,
  target: ServerTarget,
  prompt: string,
  options: BenchOptions,
): Promise<InterleavedRounds> {
  const result: InterleavedRounds = {
    direct: [],
    server: [],
    cpuMs: { direct: [], server: [], client: [] },
    serverCpuDuringDirectMs: 0,
    partWaitMs: [],
  };
  for (let round = 0; round < options.rounds; round++) {
    await sleep(SETTLE_MS);
    let serverBefore = await server.stats();
    let ownBefore = process.cpuUsage();
    result.direct.push(await direct.generate(prompt, options.tokens));
    result.cpuMs.direct.push(cpuMsSince(ownBefore));
    let serverAfter = await server.stats();
    result.serverCpuDuringDirectMs += (serverAfter.cpuMicros - serverBefore.cpuMicros) / 1000;

    await sleep(SETTLE_MS);
    serverBefore = await server.stats();
    ownBefore = process.cpuUsage();
    result.server.push(await streamChat(target, prompt, options.tokens));
    result.cpuMs.client.push(cpuMsSince(ownBefore));
    serverAfter = await server.stats();
    result.cpuMs.server.push((serverAfter.cpuMicros - serverBefore.cpuMicros) / 1000);
    for (const waited of serverAfter.partWaitMs) result.partWaitMs.push(waited);
  }
  return result;
}

/** Phase 3: `rounds` runs at each concurrency (1 and K). */
export async function concurrencyRounds(
  target: ServerTarget,
  prompt: string,
  options: BenchOptions,
): Promise<{ streams: number; runs: ConcurrentRun[] }[]> {
  const levels: { streams: number; runs: ConcurrentRun[] }[] = [];
  for (const streams of [...new Set([1, options.sequences])]) {
    const runs: ConcurrentRun[] = [];
    for (let round = 0; round < options.rounds; round++) {
      await sleep(SETTLE_MS);
      runs.push(await streamConcurrently(target, prompt, options.tokens, streams));
    }
    levels.push({ streams, runs });
  }
  return levels;
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

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
  /** The embedded floor (a bare node:http server around the direct call), read by the same client. */
  floor: GenerationSample[];
  /** CPU time (all threads) per round: this process during direct rounds, the server process and this process (the client) during server rounds. */
  cpuMs: { direct: number[]; server: number[]; client: number[]; floor: number[] };
  /** CPU the server process used while the direct rounds ran (it should be idle then). */
  serverCpuDuringDirectMs: number;
  /** Per token of the server rounds: generated (pushed by the engine) -> written to the socket, ms. */
  partWaitMs: number[];
}

/** A party read over HTTP by the same client: Oru-el, or the embedded floor. */
export interface HttpParty {
  process: ServerProcess;
  target: ServerTarget;
}

/** Phases 1-2: direct, server, floor, direct, server, floor, ... so slow drifts of a shared machine hit all alike. */
export async function interleavedRounds(
  direct: DirectGenerator,
  server: HttpParty,
  floor: HttpParty,
  prompt: string,
  options: BenchOptions,
): Promise<InterleavedRounds> {
  const result: InterleavedRounds = {
    direct: [],
    server: [],
    floor: [],
    cpuMs: { direct: [], server: [], client: [], floor: [] },
    serverCpuDuringDirectMs: 0,
    partWaitMs: [],
  };
  for (let round = 0; round < options.rounds; round++) {
    await sleep(SETTLE_MS);
    let serverBefore = await server.process.stats();
    let ownBefore = process.cpuUsage();
    result.direct.push(await direct.generate(prompt, options.tokens));
    result.cpuMs.direct.push(cpuMsSince(ownBefore));
    let serverAfter = await server.process.stats();
    result.serverCpuDuringDirectMs += (serverAfter.cpuMicros - serverBefore.cpuMicros) / 1000;

    await sleep(SETTLE_MS);
    serverBefore = await server.process.stats();
    ownBefore = process.cpuUsage();
    result.server.push(await streamChat(server.target, prompt, options.tokens));
    result.cpuMs.client.push(cpuMsSince(ownBefore));
    serverAfter = await server.process.stats();
    result.cpuMs.server.push((serverAfter.cpuMicros - serverBefore.cpuMicros) / 1000);
    for (const waited of serverAfter.partWaitMs) result.partWaitMs.push(waited);

    await sleep(SETTLE_MS);
    const floorBefore = await floor.process.stats();
    result.floor.push(await streamChat(floor.target, prompt, options.tokens));
    result.cpuMs.floor.push(((await floor.process.stats()).cpuMicros - floorBefore.cpuMicros) / 1000);
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

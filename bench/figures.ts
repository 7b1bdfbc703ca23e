import { basename } from 'node:path';
import type { MultiTurnFigures } from './multi-turn.js';
import type { MultiTurnFloor } from './multi-turn-floor.js';
import type { BenchOptions } from './options.js';
import { decodeTokensPerSecond, tokensPerSecond, type GenerationSample } from './sample.js';
import { median, percentile, summarize, type Summary } from './stats.js';
import { aggregateTokensPerSecond, type ConcurrentRun } from './through-server.js';

export const TARGET_RATIO = 0.95;

/** Everything the run measured, raw. */
export interface Measurements {
  options: BenchOptions;
  prompt: string;
  chatWrapper: string;
  /** Per sequence, as llama.cpp created it. */
  contextSize: number;
  client: string;
  /** Interleaved with `server`: direct[i] ran just before server[i]. */
  direct: GenerationSample[];
  server: GenerationSample[];
  /** The embedded floor, interleaved with both (see embedded-floor-child.ts). */
  floor: GenerationSample[];
  /** CPU time (all threads) per interleaved round: see InterleavedRounds. */
  cpuMs: { direct: number[]; server: number[]; client: number[]; floor: number[] };
  /** CPU the (idle) server process used while the direct rounds ran. */
  serverCpuDuringDirectMs: number;
  concurrency: { streams: number; runs: ConcurrentRun[] }[];
  serverRssBytes: { before: number; after: number };
  partWaitMs: number[];
  multiTurn: MultiTurnFigures;
  /** llama.cpp alone on the last turn's new tokens, empty vs held sequence (null: not measured). */
  multiTurnFloor: MultiTurnFloor | null;
}

export interface Figures {
  model: string;
  tokens: number;
  rounds: number;
  threads: number;
  sequences: number;
  contextSize: number;
  prompt: string;
  chatWrapper: string;
  client: string;
  completionTokens: { direct: number[]; server: number[]; allEqualTokens: boolean };
  finishReasons: { direct: string[]; server: string[] };
  throughput: {
    direct: Summary;
    server: Summary;
    ratio: number;
    /** The embedded floor's tokens/s, and its ratio to direct: a bare HTTP server's cost, measured alongside. */
    floor: Summary;
    floorRatio: number;
    pairedRatioMedian: number;
    target: number;
    meetsTarget: boolean;
  };
  decode: { direct: Summary; server: Summary; ratio: number };
  ttftMs: { direct: Summary; server: Summary; floor: Summary };
  /** CPU per request, all threads: less sensitive to a busy machine than wall time. */
  cpuMsPerRequest: {
    direct: Summary;
    server: Summary;
    client: Summary;
    floor: Summary;
    serverExtraUsPerToken: number;
    floorExtraUsPerToken: number;
  };
  aggregate: { streams: number; tokensPerSecond: Summary; streamTtftMs: Summary; completionTokens: number[] }[];
  serverRssMiB: { before: number; after: number };
  serverCpuDuringDirectMs: number;
  /** Median server TTFT minus median direct TTFT (goal <= +1.5 ms). */
  addedTtftMs: number;
  /** The same for the embedded floor: what HTTP and the client add at the least. */
  floorAddedTtftMs: number;
  /** Each token, generated -> written to the client's socket inside the server (goal: p99 <= 1 ms). */
  tokenLeaveMs: { n: number; p50: number; p99: number; max: number; withinOneMs: number };
  /** The server ran under `--cpu-prof`: its figures include the profiler's cost. */
  profiled: boolean;
}

export function computeFigures(m: Measurements): Figures {
  const directRates = m.direct.map(tokensPerSecond);
  const serverRates = m.server.map(tokensPerSecond);
  const directDecode = m.direct.map(decodeTokensPerSecond);
  const serverDecode = m.server.map(decodeTokensPerSecond);
  const ratio = median(serverRates) / median(directRates);
  const floorRates = m.floor.map(tokensPerSecond);
  const allTokens = [
    ...m.direct,
    ...m.server,
    ...m.floor,
    ...m.concurrency.flatMap((level) => level.runs.flatMap((run) => run.samples)),
  ];
  return {
    model: basename(m.options.modelPath),
    tokens: m.options.tokens,
    rounds: m.options.rounds,
    threads: m.options.threads,
    sequences: m.options.sequences,
    contextSize: m.contextSize,
    prompt: m.prompt,
    chatWrapper: m.chatWrapper,
    client: m.client,
    completionTokens: {
      direct: m.direct.map((s) => s.completionTokens),
      server: m.server.map((s) => s.completionTokens),
      allEqualTokens: allTokens.every((s) => s.completionTokens === m.options.tokens),
    },
    finishReasons: {
      direct: unique(m.direct.map((s) => s.finishReason)),
      server: unique(m.server.map((s) => s.finishReason)),
    },
    throughput: {
      direct: summarize(directRates),
      server: summarize(serverRates),
      ratio,
      floor: summarize(floorRates),
      floorRatio: median(floorRates) / median(directRates),
      // Rounds are interleaved, so each pair shares the machine's state at that moment.
      pairedRatioMedian: median(serverRates.map((rate, i) => rate / (directRates[i] ?? Number.NaN))),
      target: TARGET_RATIO,
      meetsTarget: ratio >= TARGET_RATIO,
    },
    decode: {
      direct: summarize(directDecode),
      server: summarize(serverDecode),
      ratio: median(serverDecode) / median(directDecode),
    },
    ttftMs: {
      direct: summarize(m.direct.map((s) => s.ttftMs)),
      server: summarize(m.server.map((s) => s.ttftMs)),
      floor: summarize(m.floor.map((s) => s.ttftMs)),
    },
    cpuMsPerRequest: {
      direct: summarize(m.cpuMs.direct),
      server: summarize(m.cpuMs.server),
      client: summarize(m.cpuMs.client),
      floor: summarize(m.cpuMs.floor),
      serverExtraUsPerToken: ((median(m.cpuMs.server) - median(m.cpuMs.direct)) * 1000) / m.options.tokens,
      floorExtraUsPerToken: ((median(m.cpuMs.floor) - median(m.cpuMs.direct)) * 1000) / m.options.tokens,
    },
    aggregate: m.concurrency.map((level) => ({
      streams: level.streams,
      tokensPerSecond: summarize(level.runs.map(aggregateTokensPerSecond)),
      streamTtftMs: summarize(level.runs.flatMap((run) => run.samples.map((s) => s.ttftMs))),
      completionTokens: level.runs.flatMap((run) => run.samples.map((s) => s.completionTokens)),
    })),
    serverRssMiB: { before: toMiB(m.serverRssBytes.before), after: toMiB(m.serverRssBytes.after) },
    serverCpuDuringDirectMs: m.serverCpuDuringDirectMs,
    addedTtftMs: median(m.server.map((s) => s.ttftMs)) - median(m.direct.map((s) => s.ttftMs)),
    floorAddedTtftMs: median(m.floor.map((s) => s.ttftMs)) - median(m.direct.map((s) => s.ttftMs)),
    tokenLeaveMs: {
      n: m.partWaitMs.length,
      p50: percentile(m.partWaitMs, 50),
      p99: percentile(m.partWaitMs, 99),
      max: m.partWaitMs.length ? Math.max(...m.partWaitMs) : Number.NaN,
      withinOneMs: m.partWaitMs.filter((waited) => waited <= 1).length / (m.partWaitMs.length || 1),
    },
    profiled: m.options.cpuProfDir !== null,
  };
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];
const toMiB = (bytes: number): number => bytes / (1024 * 1024);

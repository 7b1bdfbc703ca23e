/**
 * The gateway benchmark: the fake upstream called directly, through a minimal byte-pipe proxy (the
 * issue's reference), and through Oru-el (auth on, SQLite ledger on), in one run, in interleaved
 * rounds whose order rotates, reporting medians over rounds and ratios to direct. Every party has a
 * process of its own: this client, the fake upstreams, the pipe, the gateway; the proxies' CPU and
 * memory are read from their own processes, so the client's work is never counted.
 */
import { fileURLToPath } from 'node:url';
import { gatewayOnlyIdleRssMiB } from './cli-idle-rss.js';
import { agent } from './client.js';
import type { FakeChildConfig, FakeUrls } from './fake-child.js';
import type { GatewayChildConfig, GatewayTarget } from './gateway-child.js';
import { startChild, type Child } from './ipc.js';
import { measureMemory, type MemoryFigures } from './memory.js';
import { runRound, type RoundFigures } from './phases.js';
import type { PipeTarget } from './pipe-child.js';
import { printGatewayReport } from './report.js';
import { median } from './stats.js';
import { directTargets, gatewayTargets, pipeTargets, type Targets } from './targets.js';

export interface GatewayBenchOptions {
  /** Measured rounds (after one short warm-up round). */
  rounds?: number;
  /** Length of each closed-loop measurement, per label and round. */
  phaseMs?: number;
  /** Sequential requests per label and round for the one-at-a-time time to first token. */
  sequential?: number;
  /** Concurrent streams of the slow-upstream phase. */
  slowStreams?: number;
  /** Streams held open for the memory figure. */
  idleStreams?: number;
  /** Tokens (content chunks) per response. */
  tokens?: number;
  slowTokenDelayMs?: number;
  /** Write V8 CPU profiles of the gateway process here (`profile-summary.ts` reads them). */
  cpuProfDir?: string | null;
  /** Oru-el's /metrics bookkeeping (on by default, as in production); off to measure its cost. */
  metrics?: boolean;
  log?: (line: string) => void;
}

export type GatewayBenchSettings = Required<Omit<GatewayBenchOptions, 'log'>>;

const DEFAULTS: GatewayBenchSettings = {
  rounds: 5,
  phaseMs: 2_000,
  sequential: 40,
  slowStreams: 256,
  idleStreams: 400,
  tokens: 64,
  slowTokenDelayMs: 20,
  cpuProfDir: null,
  metrics: true,
};

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Runs the benchmark, prints its table, and returns every figure by name. */
export async function runGatewayBench(options: GatewayBenchOptions = {}): Promise<Record<string, number>> {
  const { log: logOption, ...overrides } = options;
  const settings: GatewayBenchSettings = { ...DEFAULTS, ...overrides };
  const log = logOption ?? ((line: string) => process.stderr.write(`${line}\n`));
  const children: Child<unknown>[] = [];
  try {
    const fakes = await startChild<FakeUrls>(here('./fake-child.ts'), {
      tokens: settings.tokens,
      slowTokenDelayMs: settings.slowTokenDelayMs,
    } satisfies FakeChildConfig);
    children.push(fakes);
    const pipe = await startPipe(fakes.ready, children);
    const gateway = await startGateway(fakes.ready, settings, children);
    const targets: Targets = {
      direct: directTargets(fakes.ready),
      pipe: pipeTargets(pipe.ready),
      gateway: gatewayTargets(gateway.ready),
    };
    const proxies = { direct: null, pipe, gateway };
    log('gateway bench: warm-up round');
    await runRound(targets, proxies, { ...settings, phaseMs: Math.min(500, settings.phaseMs), sequential: 10 }, 0);
    const rounds: RoundFigures[] = [];
    for (let round = 1; round <= settings.rounds; round += 1) {
      log(`gateway bench: round ${round}/${settings.rounds}`);
      rounds.push(await runRound(targets, proxies, settings, round));
    }
    log(`gateway bench: ${settings.idleStreams} idle open streams, each proxy in a fresh process`);
    const freshPipe = await startPipe(fakes.ready, children);
    const pipeMemory = await measureMemory(pipeTargets(freshPipe.ready).idle, freshPipe, settings.idleStreams);
    const freshGateway = await startGateway(fakes.ready, { ...settings, cpuProfDir: null }, children);
    const gatewayMemory = await measureMemory(
      gatewayTargets(freshGateway.ready).idle,
      freshGateway,
      settings.idleStreams,
    );
    const memory = { pipe: pipeMemory, gateway: gatewayMemory };
    log('gateway bench: idle resident memory of `oruel serve` (compiled, gateway-only config)');
    const cliIdleRssMiB = await gatewayOnlyIdleRssMiB(fakes.ready.instant);
    const figures = summarize(rounds, memory);
    figures['gateway.cliIdleRssMiB'] = cliIdleRssMiB ?? Number.NaN;
    printGatewayReport(figures, settings);
    return figures;
  } finally {
    // Our idle keep-alive connections first: a server waits for open connections when it closes.
    await agent.close();
    for (const child of children.reverse()) await child.close();
  }
}

async function startPipe(fakes: FakeUrls, children: Child<unknown>[]): Promise<Child<PipeTarget>> {
  const pipe = await startChild<PipeTarget>(here('./pipe-child.ts'), fakes);
  children.push(pipe);
  return pipe;
}

async function startGateway(
  fakes: FakeUrls,
  settings: GatewayBenchSettings,
  children: Child<unknown>[],
): Promise<Child<GatewayTarget>> {
  const profile = settings.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfDir}`] : [];
  const gateway = await startChild<GatewayTarget>(
    here('./gateway-child.ts'),
    { upstreams: fakes, metrics: settings.metrics } satisfies GatewayChildConfig,
    profile,
  );
  children.push(gateway);
  return gateway;
}

/** Medians over rounds; ratios and differences are taken per round first (each round compares like with like). */
function summarize(
  rounds: RoundFigures[],
  memory: { pipe: MemoryFigures; gateway: MemoryFigures },
): Record<string, number> {
  const across = (pick: (round: RoundFigures) => number) => median(rounds.map(pick));
  const figures: Record<string, number> = {};
  for (const label of ['direct', 'pipe', 'gateway'] as const) {
    figures[`${label}.ttftMs`] = across((round) => round.ttftMs[label]);
    figures[`${label}.streams32PerSecond`] = across((round) => round.streams32PerSecond[label]);
    figures[`${label}.slowTokensPerSecond`] = across((round) => round.slowTokensPerSecond[label]);
    figures[`${label}.slowTtftP99Ms`] = across((round) => round.slowTtftP99Ms[label]);
    figures[`${label}.slowTtftP50Ms`] = across((round) => round.slowTtftP50Ms[label]);
    figures[`${label}.contentEventsPerStream`] = across((round) => round.contentEventsPerStream[label]);
    figures[`${label}.completionsPerSecond`] = across((round) => round.completionsPerSecond[label]);
    if (label === 'direct') continue;
    figures[`${label}.addedTtftMs`] = across((round) => round.ttftMs[label] - round.ttftMs.direct);
    figures[`${label}.streams32Ratio`] = across(
      (round) => round.streams32PerSecond[label] / round.streams32PerSecond.direct,
    );
    figures[`${label}.slowRatio`] = across(
      (round) => round.slowTokensPerSecond[label] / round.slowTokensPerSecond.direct,
    );
    figures[`${label}.slowAddedTtftP99Ms`] = across((round) => round.slowTtftP99Ms[label] - round.slowTtftP99Ms.direct);
    figures[`${label}.slowAddedTtftP50Ms`] = across((round) => round.slowTtftP50Ms[label] - round.slowTtftP50Ms.direct);
    figures[`${label}.slowCpuPercent`] = across((round) => round.slowCpuPercent[label]);
    figures[`${label}.idleRssMiB`] = memory[label].idleRssMiB;
    figures[`${label}.nonStreamingRatio`] = across(
      (round) => round.completionsPerSecond[label] / round.completionsPerSecond.direct,
    );
    figures[`${label}.cpuPerInstantStreamMs`] = across((round) => round.cpuPerInstantStreamMs[label]);
    figures[`${label}.cpuPerPacedStreamMs`] = across((round) => round.cpuPerPacedStreamMs[label]);
    figures[`${label}.cpuPerCompletionMs`] = across((round) => round.cpuPerCompletionMs[label]);
    figures[`${label}.memoryPerOpenStreamKiB`] = memory[label].rssPerStreamKiB;
    figures[`${label}.heapPerOpenStreamKiB`] = memory[label].heapPerStreamKiB;
  }
  return figures;
}

/**
 * `npm run bench`: the embedded llama.cpp engine through the whole server (HTTP + SSE, in a process of
 * its own) against node-llama-cpp called directly in this process, with the same model, threads,
 * context, prompt, chat wrapper and sampling. Prints a table, then one JSON line with every figure.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLlamaRuntime } from '../src/engines/llama-cpp/runtime.js';
import { DirectGenerator } from './direct.js';
import { computeFigures, type Measurements } from './figures.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './options.js';
import { measureMultiTurn, printMultiTurn } from './multi-turn.js';
import { measureMultiTurnFloor } from './multi-turn-floor.js';
import { choosePrompt } from './prompt.js';
import { printReport } from './report.js';
import { concurrencyRounds, interleavedRounds } from './rounds.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { streamChat, streamConcurrently, type ServerTarget } from './through-server.js';

const FLOOR_CHILD = fileURLToPath(new URL('./embedded-floor-child.ts', import.meta.url));

const CLIENT =
  "Node's global fetch (undici) reading the SSE body, not the openai SDK; tokens from the final usage chunk";

const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

async function main(): Promise<void> {
  const parsed = parseBenchOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const measurements = await measure(parsed);
  const figures = computeFigures(measurements);
  printReport(figures);
  printMultiTurn(measurements.multiTurn, parsed.rounds, measurements.multiTurnFloor);
  if (!figures.completionTokens.allEqualTokens) process.exitCode = 1;
}

async function measure(options: BenchOptions): Promise<Measurements> {
  progress(`direct: loading ${options.modelPath}`);
  const llama = await createLlamaRuntime({
    gpu: false,
    log: (level, message) => {
      if (level === 'error') progress(`llama.cpp: ${message}`);
    },
  });
  const direct = await DirectGenerator.load(llama, options);
  let server: ServerProcess | null = null;
  let floor: ServerProcess | null = null;
  try {
    // Choosing the prompt runs full generations: it is the direct side's warm-up, and one more follows.
    const { prompt } = await choosePrompt(direct, options.tokens);
    await direct.generate(prompt, options.tokens);

    progress('server: starting in a child process');
    const modelName = basename(options.modelPath, '.gguf');
    server = await startServerProcess(
      {
        modelPath: options.modelPath,
        modelName,
        threads: options.threads,
        sequences: options.sequences,
        contextSize: direct.requestedContextSize,
        coldModelName: `${modelName}-no-reuse`,
      },
      options.cpuProfDir,
    );
    const target: ServerTarget = { baseURL: server.baseURL, apiKey: server.apiKey, model: modelName };
    const rssBefore = (await server.stats()).rssBytes;
    await warmUpServer(target, prompt, options);
    progress('embedded floor: a bare node:http server around the direct call, in a child process');
    floor = await startServerProcess(
      {
        modelPath: options.modelPath,
        modelName,
        threads: options.threads,
        sequences: 1,
        contextSize: direct.requestedContextSize,
      },
      null,
      FLOOR_CHILD,
    );
    const floorTarget: ServerTarget = { baseURL: floor.baseURL, apiKey: floor.apiKey, model: modelName };
    await streamChat(floorTarget, prompt, options.tokens);

    progress(`phases 1-2: ${options.rounds} interleaved rounds (direct, server, embedded floor)`);
    const interleaved = await interleavedRounds(
      direct,
      { process: server, target },
      { process: floor, target: floorTarget },
      prompt,
      options,
    );
    progress(`phase 3: ${options.rounds} rounds each of 1 and ${options.sequences} concurrent streams`);
    const concurrency = await concurrencyRounds(target, prompt, options);
    const rssAfter = (await server.stats()).rssBytes;
    const multiTurn = await measureMultiTurn(
      target,
      { ...target, model: `${modelName}-no-reuse` },
      options.rounds,
      progress,
    );
    progress("multi-turn floor: llama.cpp alone, the last turn's new tokens on an empty and on a held sequence");
    const multiTurnFloor = await measureMultiTurnFloor(
      llama,
      { modelPath: options.modelPath, contextSize: direct.requestedContextSize, threads: options.threads, rounds: 10 },
      multiTurn.lastTurn,
    );
    return {
      options,
      prompt,
      chatWrapper: direct.chatWrapperName,
      contextSize: direct.contextSize,
      client: CLIENT,
      direct: interleaved.direct,
      server: interleaved.server,
      floor: interleaved.floor,
      cpuMs: interleaved.cpuMs,
      serverCpuDuringDirectMs: interleaved.serverCpuDuringDirectMs,
      concurrency,
      serverRssBytes: { before: rssBefore, after: rssAfter },
      partWaitMs: interleaved.partWaitMs,
      multiTurn,
      multiTurnFloor,
    };
  } finally {
    await server?.close();
    await floor?.close();
    await direct.dispose();
    await llama.dispose();
  }
}

/**
 * Single requests take the free slots in turn, so K of them warm every slot's KV cache (as the direct
 * side's one slot is warm); one concurrent batch then warms the batched path.
 */
async function warmUpServer(target: ServerTarget, prompt: string, options: BenchOptions): Promise<void> {
  progress('server: warming up');
  for (let slot = 0; slot < options.sequences; slot++) {
    const sample = await streamChat(target, prompt, options.tokens);
    if (sample.completionTokens !== options.tokens) {
      throw new Error(
        `the server produced ${sample.completionTokens} tokens (finish ${sample.finishReason}) where direct produced ${options.tokens}`,
      );
    }
  }
  await streamConcurrently(target, prompt, options.tokens, options.sequences);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type Dialect } from '../fakes/dialects.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { startGateway } from '../gateway/gateway-harness.js';
import { requireOpenAiPython, runPython, type PythonRun } from '../helpers/python.js';
import { sseChunks, startRecordingProxy, type Exchange, type RecordingProxy } from '../helpers/recording-proxy.js';
import {
  seedPythonAsyncSource,
  seedPythonCollectSource,
  seedPythonStreamingSource,
  seedPythonToolStreamSource,
  type SeedTarget,
} from '../helpers/seed-examples.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';
import { toolsModel } from '../tools/tool-helpers.js';
import { wireContent, type WireChunk } from './recording-fetch.js';

/**
 * The seed page's four Python examples (test/fixtures/seed/streaming.txt), each run verbatim (the page's
 * text; only base URL, key and model changed, and the indentation the page's rendering lost put back)
 * as its own `python` process with the pinned openai-python, against a real server. A recording relay
 * sits between them, so what each program printed is compared with the bytes it was sent.
 */

let harness: TestServer;
/** Why Python cannot run the examples (one line saying how to fix it), or null. Every test fails with it. */
let pythonProblem: Error | null = null;

beforeAll(async () => {
  pythonProblem = await requireOpenAiPython().then(
    () => null,
    (error: unknown) => error as Error,
  );
  harness = await startTestServer({ models: [storiesModel, { ...toolsModel, sequences: 1 }] });
});
afterAll(async () => harness?.close());

it('Python with the pinned openai-python package is there (never skipped: missing means failed)', () => {
  if (pythonProblem) throw pythonProblem;
});

/** Runs one example through a fresh relay; returns what it printed and its one exchange. */
async function runThroughRelay(
  baseURL: string,
  apiKey: string,
  source: (target: SeedTarget) => string,
  model: string,
  rewriteBody?: (body: Record<string, unknown>) => Record<string, unknown>,
): Promise<{ run: PythonRun; exchange: Exchange; chunks: WireChunk[] }> {
  if (pythonProblem) throw pythonProblem;
  const relay: RecordingProxy = await startRecordingProxy(baseURL, rewriteBody ? { rewriteBody } : {});
  try {
    const run = await runPython(source({ baseURL: relay.baseURL, apiKey, model }));
    const exchanges = await relay.exchanges();
    expect(exchanges).toHaveLength(1);
    const exchange = exchanges[0] as Exchange;
    return { run, exchange, chunks: sseChunks(exchange.responseText) as unknown as WireChunk[] };
  } finally {
    await relay.close();
  }
}

function expectCleanExit(run: PythonRun): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

/** What the seed's tool loop prints for these chunks: `Tool: NAME` and `Args: ARGS` for every fragment. */
function toolLoopOutput(chunks: WireChunk[]): string {
  return chunks
    .flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
    .map((call) => `Tool: ${call.function?.name || ''}Args: ${call.function?.arguments || ''}`)
    .join('');
}

/** The calls the fragments reassemble into (by index), as `name` + `arguments` text. */
function reassembledCalls(chunks: WireChunk[]): { name: string; arguments: string }[] {
  const calls: { name: string; arguments: string }[] = [];
  for (const fragment of chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])) {
    const call = (calls[fragment.index] ??= { name: '', arguments: '' });
    call.name += fragment.function?.name ?? '';
    call.arguments += fragment.function?.arguments ?? '';
  }
  return calls;
}

/** Every chunk has a choice: each seed loop reads `chunk.choices[0]` unguarded (IndexError otherwise). */
function expectEveryChunkHasAChoice(chunks: WireChunk[]): void {
  expect(chunks.length).toBeGreaterThan(1);
  for (const chunk of chunks) expect(chunk.choices.length).toBe(1);
}

describe('the seed "Python streaming" example (sync OpenAI client, max_tokens=100)', () => {
  it('prints exactly the streamed tokens, then one newline', async () => {
    const { run, exchange, chunks } = await runThroughRelay(
      harness.baseURL,
      harness.apiKey,
      seedPythonStreamingSource,
      storiesModel.name,
    );
    expectCleanExit(run);
    expect(exchange.status).toBe(200);
    expect(JSON.parse(exchange.requestBody)).toMatchObject({ stream: true, max_tokens: 100 });
    expectEveryChunkHasAChoice(chunks);
    const content = wireContent(chunks);
    expect(content.length).toBeGreaterThan(0);
    expect(run.stdout).toBe(`${content}\n`);
    const final = chunks.at(-1);
    expect(final?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(final?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(final?.usage?.completion_tokens).toBeLessThanOrEqual(100);
  });
});

describe('the seed "Collecting the full response" example', () => {
  it('prints "Tokens used" from the final chunk (without asking for usage), then the whole text', async () => {
    const { run, exchange, chunks } = await runThroughRelay(
      harness.baseURL,
      harness.apiKey,
      seedPythonCollectSource,
      storiesModel.name,
    );
    expectCleanExit(run);
    expect(exchange.status).toBe(200);
    // The page promises usage without stream_options; the SDK must not have asked for it either.
    expect(JSON.parse(exchange.requestBody)).not.toHaveProperty('stream_options');
    expectEveryChunkHasAChoice(chunks);
    const withUsage = chunks.filter((chunk) => chunk.usage);
    expect(withUsage).toHaveLength(1);
    const usage = chunks.at(-1)?.usage;
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    const content = wireContent(chunks);
    expect(content.length).toBeGreaterThan(0);
    expect(run.stdout).toBe(`\nTokens used: ${usage?.total_tokens}\n${content}\n`);
  });
});

describe('the seed "Async streaming" example (AsyncOpenAI, async for, asyncio.run)', () => {
  it('prints exactly the streamed tokens (no trailing newline: the example prints none)', async () => {
    const { run, exchange, chunks } = await runThroughRelay(
      harness.baseURL,
      harness.apiKey,
      seedPythonAsyncSource,
      storiesModel.name,
    );
    expectCleanExit(run);
    expect(exchange.status).toBe(200);
    expectEveryChunkHasAChoice(chunks);
    const content = wireContent(chunks);
    expect(content.length).toBeGreaterThan(0);
    expect(run.stdout).toBe(content);
  });
});

describe('the seed "Streaming with tool calls" example on the tools fixture (stories-tools)', () => {
  it('as sent (no tool_choice, so "auto"): the model answers in text, the loop prints nothing and exits cleanly', async () => {
    // stories260K never writes a `<tool_call>` on its own, and the example sets no tool_choice, seed or
    // temperature; no server setting forces a call, so this is all the verbatim program can show here.
    const { run, exchange, chunks } = await runThroughRelay(
      harness.baseURL,
      harness.apiKey,
      seedPythonToolStreamSource,
      toolsModel.name,
    );
    expectCleanExit(run);
    expect(exchange.status).toBe(200);
    expect(JSON.parse(exchange.requestBody)).not.toHaveProperty('tool_choice');
    expectEveryChunkHasAChoice(chunks);
    expect(toolLoopOutput(chunks)).toBe('');
    expect(wireContent(chunks).length).toBeGreaterThan(0);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(run.stdout).toBe('');
  });

  for (const toolChoice of ['required', { type: 'function', function: { name: 'get_weather' } }] as const) {
    it(`with tool_choice ${JSON.stringify(toolChoice)} added in transit: prints the real call's name once, then its argument fragments`, async () => {
      // The program is unchanged; the relay adds tool_choice to its request, so the tools fixture makes
      // a real grammar-forced call and the page's loop reads Oru-el's own fragment stream.
      const force = (body: Record<string, unknown>) => ({
        ...body,
        tool_choice: toolChoice,
        parallel_tool_calls: false,
        max_tokens: 400,
      });
      const { run, chunks } = await runThroughRelay(
        harness.baseURL,
        harness.apiKey,
        seedPythonToolStreamSource,
        toolsModel.name,
        force,
      );
      expectCleanExit(run);
      expectEveryChunkHasAChoice(chunks);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
      const calls = reassembledCalls(chunks);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.name).toBe('get_weather');
      expect(typeof (JSON.parse(calls[0]?.arguments ?? '') as { location?: unknown }).location).toBe('string');
      expect(run.stdout.startsWith('Tool: get_weatherArgs: ')).toBe(true);
      // Streamed, not whole: the loop printed the arguments in several fragments.
      expect(run.stdout.split('Tool: ').length - 1).toBeGreaterThanOrEqual(3);
      expect(run.stdout).toBe(toolLoopOutput(chunks));
    });
  }
});

describe('the seed "Streaming with tool calls" example through the gateway (an upstream that calls tools)', () => {
  const upstreams = new Map<Dialect, FakeUpstream>();
  let gateway: TestServer;

  beforeAll(async () => {
    for (const dialect of DIALECTS) upstreams.set(dialect, await FakeUpstream.start({ dialect }));
    gateway = await startGateway(
      DIALECTS.map((dialect) => ({ name: `via-${dialect}`, deployments: [{ url: upstreams.get(dialect)!.url }] })),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    for (const upstream of upstreams.values()) await upstream.close();
  });

  for (const dialect of DIALECTS) {
    it(`${dialect}: the verbatim program prints both recorded calls, fragment by fragment, as Oru-el streamed them`, async () => {
      const { run, chunks } = await runThroughRelay(
        gateway.baseURL,
        gateway.apiKey,
        seedPythonToolStreamSource,
        `via-${dialect}`,
      );
      expectCleanExit(run);
      expectEveryChunkHasAChoice(chunks);
      expect(reassembledCalls(chunks)).toEqual([
        { name: 'get_weather', arguments: '{"location":"Paris"}' },
        { name: 'get_time', arguments: '{"zone":"CET"}' },
      ]);
      expect(run.stdout).toBe(toolLoopOutput(chunks));
      expect(run.stdout.replaceAll('Tool: ', '').replaceAll('Args: ', '')).toBe(
        'get_weather{"location":"Paris"}get_time{"zone":"CET"}',
      );
    });
  }
});

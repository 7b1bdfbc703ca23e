import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';
import { PartQueue } from '../../src/engines/part-queue.js';
import { Deployment } from '../../src/router/deployment.js';
import { SINGLE_ENGINE_POLICY } from '../../src/router/routing-policy.js';
import { ledgerRow, ledgerRowsFor, postChat, sleep, type CompletionJson } from '../helpers/api.js';
import { endedWithDone, liveRequest, streamText, usageOf, type LiveRequest } from '../helpers/live-request.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Every chat request leaves exactly one ledger row, keyed by the x-request-id the client saw, with
 * the tokens the client was billed for. Engine failures mid-stream come from a scripted engine
 * registered beside the real model (llama.cpp cannot be made to fail on cue).
 */

const MODEL = storiesModel.name;
const prompt = [{ role: 'user', content: 'Once upon a time' }];

/** An engine that plays a fixed list of parts, as a backend failing mid-generation would. */
class ScriptedEngine implements Engine {
  readonly kind = 'openai' as const;
  readonly capabilities = { tools: false, jsonSchema: false, maxChoices: 1, contextSize: null };
  snapshot() {
    return { loaded: true, sequences: null };
  }
  constructor(
    readonly id: string,
    private readonly parts: StreamPart[],
  ) {}

  async startChat(): Promise<PartQueue> {
    const parts = this.parts;
    return PartQueue.from(
      (async function* () {
        for (const part of parts) {
          await sleep(2);
          yield part;
        }
      })(),
    );
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const failingParts: StreamPart[] = [
  { type: 'text-delta', choice: 0, text: 'Once' },
  { type: 'text-delta', choice: 0, text: ' there' },
  { type: 'error', error: new EngineError('internal', 'The model failed while generating.') },
  { type: 'usage', usage: { promptTokens: 9, completionTokens: 2, source: 'engine' } },
];

let harness: TestServer;
let apiKey: string;
let keyId: string;

function open(body: Record<string, unknown>): LiveRequest {
  return liveRequest(`${harness.baseURL}/chat/completions`, {
    apiKey,
    body: { model: MODEL, messages: prompt, stream: true, ...body },
  });
}

async function idOf(stream: LiveRequest): Promise<string> {
  return String((await stream.headers)['x-request-id']);
}

beforeAll(async () => {
  harness = await startTestServer();
  const created = await harness.server.keyStore.create({ name: 'ledger-test' });
  apiKey = created.key;
  keyId = created.record.id;
  harness.server.registry.add({
    name: 'flaky',
    engines: [new Deployment(new ScriptedEngine('scripted/flaky', failingParts), 1, SINGLE_ENGINE_POLICY)],
    created: 0,
    ownedBy: 'test',
  });
});
afterAll(async () => harness?.close());

describe('completed requests', () => {
  it('non-streamed: one row with the request id, key, model, engine, the usage the client saw and ttft', async () => {
    const startedAt = Date.now();
    const response = await postChat<CompletionJson>(
      harness,
      { model: MODEL, messages: prompt, max_tokens: 12, temperature: 0 },
      { apiKey },
    );
    const finishedAt = Date.now();
    expect(response.status).toBe(200);
    const usage = response.json!.usage;
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      keyId,
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
      stream: false,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      usageSource: 'engine',
      finishReason: response.json!.choices[0]!.finish_reason,
      outcome: 'completed',
      errorCode: null,
      status: 200,
    });
    expect(row.completionTokens).toBe(12);
    expect(row.ttftMs).toBeGreaterThanOrEqual(0);
    expect(row.ttftMs!).toBeLessThanOrEqual(row.durationMs);
    expect(row.durationMs).toBeLessThanOrEqual(finishedAt - startedAt + 5);
    expect(row.startedAt.getTime()).toBeGreaterThanOrEqual(startedAt - 5);
    expect(row.finishedAt.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
  });

  it('streamed: the row matches the usage on the final chunk; ttft is not later than the client saw it', async () => {
    const stream = open({ max_tokens: 30, temperature: 0 });
    const first = await stream.firstContent();
    await stream.finished;
    expect(endedWithDone(stream)).toBe(true);
    const usage = usageOf(stream)!;
    const row = await ledgerRow(harness, await idOf(stream));
    expect(row).toMatchObject({
      keyId,
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
      stream: true,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      finishReason: 'length',
      outcome: 'completed',
      status: 200,
    });
    expect(row.ttftMs).toBeGreaterThanOrEqual(0);
    expect(row.ttftMs!).toBeLessThanOrEqual(Math.ceil(first.at - stream.sentAt) + 2);
  });

  it.each([
    ['include_usage: true (OpenAI dialect, usage chunk with empty choices)', true],
    ['include_usage: false (no usage in the stream)', false],
  ])('%s: the ledger still gets the usage', async (_name, includeUsage) => {
    const stream = open({ max_tokens: 8, temperature: 0, stream_options: { include_usage: includeUsage } });
    await stream.finished;
    const usage = usageOf(stream);
    if (includeUsage) {
      expect(usage?.completion_tokens).toBe(8);
      expect(stream.chunksJson.find((chunk) => chunk.usage)?.choices).toEqual([]);
    } else {
      expect(usage).toBeUndefined();
    }
    const row = await ledgerRow(harness, await idOf(stream));
    expect(row).toMatchObject({ outcome: 'completed', completionTokens: 8 });
    expect(row.promptTokens).toBeGreaterThan(0);
  });

  it('n=2: the row holds the tokens of both choices', async () => {
    const response = await postChat<CompletionJson>(
      harness,
      { model: MODEL, messages: prompt, max_tokens: 6, n: 2, seed: 3 },
      { apiKey },
    );
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row.completionTokens).toBe(12);
    expect(row.completionTokens).toBe(response.json!.usage.completion_tokens);
  });

  it('ten requests, ten rows, ids all different', async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, async (_, index) => {
        const response = await postChat(
          harness,
          { model: MODEL, messages: prompt, max_tokens: 2, stream: index % 2 === 0 },
          { apiKey },
        );
        return response.headers.get('x-request-id')!;
      }),
    );
    expect(new Set(ids).size).toBe(10);
    for (const id of ids) await ledgerRow(harness, id);
  });
});

describe('failed requests', () => {
  it('a 400 validation error after auth: one row with the key, the model asked for, no engine, no tokens', async () => {
    const response = await postChat(harness, { model: MODEL, messages: prompt, temperature: 'hot' }, { apiKey });
    expect(response.status).toBe(400);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      keyId,
      model: MODEL,
      engine: null,
      outcome: 'error',
      status: 400,
      promptTokens: 0,
      completionTokens: 0,
      usageSource: 'none',
      finishReason: null,
      ttftMs: null,
    });
  });

  it('an unknown model: one row, status 404, code model_not_found', async () => {
    const response = await postChat(harness, { model: 'no-such-model', messages: prompt }, { apiKey });
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      keyId,
      model: 'no-such-model',
      engine: null,
      outcome: 'error',
      status: 404,
      errorCode: 'model_not_found',
    });
  });

  it('a context overflow on a stream: one row, status 400, code context_length_exceeded', async () => {
    const response = await postChat(
      harness,
      { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(2000) }], stream: true },
      { apiKey },
    );
    expect(response.status).toBe(400);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'error',
      status: 400,
      errorCode: 'context_length_exceeded',
      stream: true,
      completionTokens: 0,
    });
  });

  it('an engine error mid-stream: an error event, no [DONE], and one row with outcome error and the tokens produced', async () => {
    const stream = open({ model: 'flaky' });
    await stream.finished;
    expect(await stream.status).toBe(200);
    expect(streamText(stream)).toBe('Once there');
    expect(endedWithDone(stream)).toBe(false);
    const last = stream.chunksJson.at(-1)!;
    expect(last.error).toMatchObject({ type: 'server_error', code: 'internal_error' });
    expect(last.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'error' }]);
    const row = await ledgerRow(harness, await idOf(stream));
    expect(row).toMatchObject({
      keyId,
      model: 'flaky',
      engine: 'scripted/flaky',
      outcome: 'error',
      errorCode: 'internal_error',
      promptTokens: 9,
      completionTokens: 2,
      finishReason: null,
    });
    expect(row.ttftMs).not.toBeNull();
  });

  it('the SDK raises the mid-stream error event as an APIError', async () => {
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'flaky',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(text).toBe('Once there');
    expect(error).toBeInstanceOf(OpenAI.APIError);
  });

  it('an engine error on a non-streamed request: a 500 body and one row with the tokens produced', async () => {
    const response = await postChat(harness, { model: 'flaky', messages: prompt }, { apiKey });
    expect(response.status).toBe(500);
    expect(response.json).toMatchObject({ error: { type: 'server_error', code: 'internal_error' } });
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'error',
      status: 500,
      errorCode: 'internal_error',
      promptTokens: 9,
      completionTokens: 2,
      stream: false,
    });
  });
});

describe('cancelled requests', () => {
  it('a stream the client left: one row, cancelled, with the tokens produced before it left', async () => {
    const stream = open({ max_tokens: 400, temperature: 0 });
    const id = await idOf(stream);
    await stream.firstContent();
    stream.destroy();
    const row = await ledgerRow(harness, id);
    expect(row).toMatchObject({
      keyId,
      outcome: 'cancelled',
      finishReason: null,
      stream: true,
      engine: `llama-cpp/${MODEL}`,
    });
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.completionTokens).toBeLessThan(400);
    // Exactly one, also a while later (no second row from a late finally).
    await sleep(200);
    expect(await ledgerRowsFor(harness, id)).toHaveLength(1);
  });
});

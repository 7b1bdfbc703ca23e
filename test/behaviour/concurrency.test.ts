import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, ledgerRow, postChat, type CompletionJson } from '../helpers/api.js';
import { endedWithDone, liveRequest, streamText, usageOf, type LiveRequest } from '../helpers/live-request.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/** K = 2 sequences; the (K+1)th request waits, kept alive; a model with no queue refuses with 503. */

const K = storiesModel.sequences;
const KEEP_ALIVE_MS = 100;
const NO_QUEUE = 'no-queue';
const prompt = [{ role: 'user', content: 'Once upon a time' }];

let harness: TestServer;
let promptTokens = 0;

function open(body: Record<string, unknown>): LiveRequest {
  return liveRequest(`${harness.baseURL}/chat/completions`, {
    apiKey: harness.apiKey,
    body: { messages: prompt, stream: true, temperature: 0, ...body },
  });
}

function finishReasons(stream: LiveRequest): (string | null)[] {
  return stream.chunksJson
    .flatMap((chunk) => chunk.choices ?? [])
    .map((choice) => choice.finish_reason)
    .filter((reason) => reason !== null);
}

async function expectComplete(stream: LiveRequest, maxTokens: number): Promise<void> {
  await stream.finished;
  expect(endedWithDone(stream), stream.text.slice(-300)).toBe(true);
  expect(finishReasons(stream)).toEqual(['length']);
  const usage = usageOf(stream);
  // cached_tokens depends on what each sequence held before (the same prompt, most of the time).
  expect(usage).toEqual({
    prompt_tokens: promptTokens,
    completion_tokens: maxTokens,
    total_tokens: promptTokens + maxTokens,
    prompt_tokens_details: { cached_tokens: expect.any(Number) },
  });
  const row = await ledgerRow(harness, String((await stream.headers)['x-request-id']));
  expect(row).toMatchObject({
    outcome: 'completed',
    promptTokens,
    completionTokens: maxTokens,
    finishReason: 'length',
  });
}

beforeAll(async () => {
  harness = await startTestServer({
    server: { keepAliveMs: KEEP_ALIVE_MS },
    models: [storiesModel, { ...storiesModel, name: NO_QUEUE, sequences: 1, maxQueue: 0 }],
  });
  const reference = await postChat<CompletionJson>(harness, {
    model: storiesModel.name,
    messages: prompt,
    max_tokens: 1,
    temperature: 0,
  });
  promptTokens = reference.json!.usage.prompt_tokens;
  expect(promptTokens).toBeGreaterThan(0);
});
afterAll(async () => harness?.close());

describe(`${K + 1} concurrent streams on ${K} sequences`, () => {
  it('all complete with [DONE] and exact usage; the waiting one gets keep-alives until its first token', async () => {
    const running = [
      open({ model: storiesModel.name, max_tokens: 400 }),
      open({ model: storiesModel.name, max_tokens: 400 }),
    ];
    await Promise.all(running.map((stream) => stream.firstContent()));
    const waiting = open({ model: storiesModel.name, max_tokens: 50 });
    const first = await waiting.firstContent();

    expect(
      first.at - waiting.sentAt,
      'the third request must have waited longer than one keep-alive interval',
    ).toBeGreaterThan(2 * KEEP_ALIVE_MS);
    const firstContentIndex = waiting.events.indexOf(first);
    const before = waiting.events.slice(0, firstContentIndex);
    const keepAlives = before.filter((event) => event.kind === 'comment');
    expect(keepAlives.length).toBeGreaterThanOrEqual(1);
    expect(keepAlives.every((event) => event.text === ': keep-alive')).toBe(true);
    // The role chunk came first, at once: the client knew it was accepted.
    expect(before[0]?.json?.choices?.[0]?.delta).toEqual({ role: 'assistant', content: '' });
    // No keep-alive interval went by without a byte.
    const arrivals = before.map((event) => event.at);
    for (let i = 1; i < arrivals.length; i += 1)
      expect(arrivals[i]! - arrivals[i - 1]!).toBeLessThan(KEEP_ALIVE_MS * 3);

    await Promise.all([...running.map((stream) => expectComplete(stream, 400)), expectComplete(waiting, 50)]);
  });

  it('started at the same instant, all three complete with the same text at temperature 0', async () => {
    const streams = Array.from({ length: K + 1 }, () => open({ model: storiesModel.name, max_tokens: 120 }));
    await Promise.all(streams.map((stream) => expectComplete(stream, 120)));
    const texts = streams.map((stream) => streamText(stream));
    expect(texts[0]!.length).toBeGreaterThan(0);
    expect(new Set(texts).size).toBe(1);
  });

  it('the OpenAI SDK reads a stream that waited in the queue (comments ignored)', async () => {
    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const running = [
      open({ model: storiesModel.name, max_tokens: 300 }),
      open({ model: storiesModel.name, max_tokens: 300 }),
    ];
    await Promise.all(running.map((stream) => stream.firstContent()));
    const stream = await client.chat.completions.create({
      model: storiesModel.name,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      stream: true,
      max_tokens: 20,
      temperature: 0,
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBe(20);
    await Promise.all(running.map((other) => other.finished));
  });
});

describe('queue full', () => {
  it('answers 503 server_error with retry-after before any byte, streamed or not', async () => {
    const running = open({ model: NO_QUEUE, max_tokens: 400 });
    await running.firstContent();

    const streamed = await postChat(harness, { model: NO_QUEUE, messages: prompt, stream: true, max_tokens: 5 });
    expectError(streamed, 503, { type: 'server_error' });
    expect(streamed.headers.get('content-type')).not.toContain('text/event-stream');
    expect(streamed.text).not.toContain('data:');
    expect(Number(streamed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const row = await ledgerRow(harness, streamed.headers.get('x-request-id')!);
    expect(row).toMatchObject({ outcome: 'error', status: 503, promptTokens: 0, completionTokens: 0 });

    const plain = await postChat(harness, { model: NO_QUEUE, messages: prompt, max_tokens: 5 });
    expectError(plain, 503, { type: 'server_error' });
    expect(Number(plain.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: NO_QUEUE, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);

    await running.finished;
    expect(endedWithDone(running)).toBe(true);
    // Once the sequence is free again the model serves.
    const after = await postChat(harness, { model: NO_QUEUE, messages: prompt, max_tokens: 5 });
    expect(after.status).toBe(200);
  });
});

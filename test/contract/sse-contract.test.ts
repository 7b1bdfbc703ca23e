import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonEvents, readRawStream, type RawStream } from '../helpers/sse.js';
import { parseStrict, readTimed } from '../helpers/sse-strict.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';

/**
 * The raw bytes of POST /chat/completions with `stream: true`, read without an SDK, rule by rule
 * against docs/streaming-contract.md ("Streaming", "Non-streaming", "Every response carries
 * x-request-id"). Real HTTP, real llama.cpp on the stories260K fixture (2 sequences).
 */

interface ChunkChoice {
  index: number;
  delta: Record<string, unknown>;
  finish_reason: string | null;
  logprobs?: unknown;
}
interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  error?: unknown;
}

const MODEL = 'stories260K';
/** At temperature 0 this prompt never reaches EOS within 450 tokens on stories260K: finish is `length`. */
const STORY = [{ role: 'user', content: 'Once upon a time' }];
const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter'];

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

function chatUrl(server: TestServer = harness): string {
  return `${server.baseURL}/chat/completions`;
}

function post(body: unknown, headers: Record<string, string> = {}, server: TestServer = harness): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

async function stream(
  body: Record<string, unknown>,
  server: TestServer = harness,
): Promise<{ raw: RawStream; chunks: Chunk[]; sentAt: number; endedAt: number }> {
  const sentAt = Math.floor(Date.now() / 1000);
  const raw = await readRawStream(chatUrl(server), post({ model: MODEL, stream: true, ...body }, {}, server));
  const endedAt = Math.ceil(Date.now() / 1000);
  expect(raw.status, raw.text).toBe(200);
  return { raw, chunks: jsonEvents(raw) as unknown as Chunk[], sentAt, endedAt };
}

/** The rules every stream obeys, whatever the usage mode: framing, identity, role, content, finish, [DONE]. */
function expectWellFormedStream(
  raw: RawStream,
  chunks: Chunk[],
  n: number,
  window: { sentAt: number; endedAt: number },
): void {
  const strict = parseStrict(raw.text);
  expect(strict.problems).toEqual([]);
  expect(raw.text.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(strict.events.filter((event) => event.data === '[DONE]')).toHaveLength(1);
  expect(strict.events.at(-1)?.data).toBe('[DONE]');

  const first = chunks[0]!;
  expect(first.id).toMatch(/^chatcmpl-[A-Za-z0-9]+$/);
  expect(first.created).toBeGreaterThanOrEqual(window.sentAt);
  expect(first.created).toBeLessThanOrEqual(window.endedAt);
  for (const chunk of chunks) {
    expect(chunk.id).toBe(first.id);
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.created).toBe(first.created);
    expect(Number.isInteger(chunk.created)).toBe(true);
    expect(chunk.model).toBe(MODEL);
    expect(Array.isArray(chunk.choices)).toBe(true);
    expect(chunk).not.toHaveProperty('error');
  }

  // The first chunk announces the role of every choice, with empty content, and nothing else.
  const opened = new Set<number>();
  for (const choice of first.choices) {
    expect(choice.delta).toStrictEqual({ role: 'assistant', content: '' });
    expect(choice.finish_reason).toBeNull();
    opened.add(choice.index);
  }
  expect(first.choices[0]?.index).toBe(0);
  // With n > 1 further role chunks may follow, one per index, before that index's content.
  const finished = new Map<number, string>();
  for (const chunk of chunks.slice(1)) {
    for (const choice of chunk.choices) {
      expect(choice.index).toBeGreaterThanOrEqual(0);
      expect(choice.index).toBeLessThan(n);
      expect(finished.has(choice.index), `index ${choice.index} got a chunk after its finish`).toBe(false);
      if ('role' in choice.delta) {
        expect(opened.has(choice.index), `role sent twice for index ${choice.index}`).toBe(false);
        expect(choice.delta).toStrictEqual({ role: 'assistant', content: '' });
        opened.add(choice.index);
        continue;
      }
      expect(opened.has(choice.index), `index ${choice.index} has content before its role`).toBe(true);
      if (choice.finish_reason === null) {
        // A content chunk: the new text and nothing else.
        expect(Object.keys(choice.delta)).toEqual(['content']);
        expect(typeof choice.delta.content).toBe('string');
        expect(chunk.usage ?? null).toBeNull();
      } else {
        expect(choice.delta).toStrictEqual({});
        expect(FINISH_REASONS).toContain(choice.finish_reason);
        finished.set(choice.index, choice.finish_reason);
      }
    }
  }
  expect([...opened].sort()).toEqual(Array.from({ length: n }, (_, index) => index));
  expect([...finished.keys()].sort()).toEqual(Array.from({ length: n }, (_, index) => index));
}

function contentOf(chunks: Chunk[], index = 0): string {
  let text = '';
  for (const chunk of chunks)
    for (const choice of chunk.choices)
      if (choice.index === index && typeof choice.delta.content === 'string') text += choice.delta.content;
  return text;
}

function expectUsage(
  usage: unknown,
): asserts usage is { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  // prompt_tokens_details (OpenAI's optional field): how many prompt tokens the engine still held from an earlier request.
  const { prompt_tokens_details: details, ...counts } = usage as { prompt_tokens_details?: unknown };
  expect(counts).toStrictEqual({
    prompt_tokens: expect.any(Number),
    completion_tokens: expect.any(Number),
    total_tokens: expect.any(Number),
  });
  if (details !== undefined) expect(details).toStrictEqual({ cached_tokens: expect.any(Number) });
  const { prompt_tokens, completion_tokens, total_tokens } = usage as Record<string, number>;
  expect(Number.isInteger(prompt_tokens) && Number.isInteger(completion_tokens)).toBe(true);
  expect(prompt_tokens).toBeGreaterThan(0);
  expect(total_tokens).toBe(prompt_tokens! + completion_tokens!);
}

describe('stream headers', () => {
  it('answers 200 with the SSE headers and no compression, even to a client that asks for gzip', async () => {
    const url = new URL(chatUrl());
    const body = JSON.stringify({ model: MODEL, messages: STORY, stream: true, max_tokens: 20 });
    const { status, headers, bytes } = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      bytes: Buffer;
    }>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${harness.apiKey}`,
            'content-type': 'application/json',
            'accept-encoding': 'gzip, deflate, br',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(parts) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    expect(String(headers['content-type'])).toMatch(/^text\/event-stream(;|$)/);
    expect(headers['cache-control']).toBe('no-cache, no-transform');
    expect(headers.connection).toBe('keep-alive');
    expect(headers['x-accel-buffering']).toBe('no');
    expect(headers['content-encoding']).toBeUndefined();
    expect(headers['content-length']).toBeUndefined();
    // Plain text on the wire, not a gzip/brotli body that merely lacks its header.
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('data: ');
    expect(bytes.toString('utf8').endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('event framing and chunk identity', () => {
  it('writes only `data: <json>\\n\\n` events, one shared id/created/model, and `data: [DONE]` last', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({ messages: STORY, max_tokens: 30, temperature: 0 });
    expectWellFormedStream(raw, chunks, 1, { sentAt, endedAt });
    expect(raw.comments).toEqual([]);
    // Each JSON event is one line: the payload is compact JSON, never pretty-printed across lines.
    for (const event of raw.events) expect(event).not.toContain('\n');
  });

  it('gives each stream its own chatcmpl- id', async () => {
    const [a, b] = await Promise.all([
      stream({ messages: STORY, max_tokens: 3 }),
      stream({ messages: STORY, max_tokens: 3 }),
    ]);
    expect(a.chunks[0]!.id).not.toBe(b.chunks[0]!.id);
  });

  it('echoes the model name the client asked for, also on the /v1 alias', async () => {
    const aliasUrl = chatUrl().replace('/v1/inference/', '/v1/');
    const raw = await readRawStream(aliasUrl, post({ model: MODEL, messages: STORY, stream: true, max_tokens: 3 }));
    expect(raw.status).toBe(200);
    for (const chunk of jsonEvents(raw)) expect(chunk.model).toBe(MODEL);
    expect(raw.events.at(-1)).toBe('[DONE]');
  });
});

describe("default usage mode (the seed's shape: nothing asked, usage on the final chunk)", () => {
  it('opens with role, streams content with finish_reason null, and ends with delta {} + finish_reason + usage', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({ messages: STORY, max_tokens: 40, temperature: 0 });
    expectWellFormedStream(raw, chunks, 1, { sentAt, endedAt });

    expect(chunks[0]!.choices).toStrictEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
    ]);
    const content = chunks.slice(1, -1);
    expect(content.length).toBeGreaterThan(0);
    for (const chunk of content) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0]!.finish_reason).toBeNull();
      expect(chunk.choices[0]!.delta.content).toEqual(expect.any(String));
      expect(chunk).not.toHaveProperty('usage');
    }
    expect(contentOf(chunks).length).toBeGreaterThan(0);

    const final = chunks.at(-1)!;
    expect(final.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'length' }]);
    expectUsage(final.usage);
    expect(final.usage.completion_tokens).toBe(40);
    // choices is never empty: the seed's clients index chunk.choices[0] on every chunk.
    for (const chunk of chunks) expect(chunk.choices.length).toBeGreaterThan(0);
    expect(chunks.filter((chunk) => 'usage' in chunk)).toHaveLength(1);
  });

  it('reports finish_reason "stop" (with usage) when a stop sequence ends the answer', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({
      messages: STORY,
      max_tokens: 200,
      temperature: 0,
      stop: ['.'],
    });
    expectWellFormedStream(raw, chunks, 1, { sentAt, endedAt });
    const final = chunks.at(-1)!;
    expect(final.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    expectUsage(final.usage);
    expect(final.usage.completion_tokens).toBeLessThan(200);
    expect(contentOf(chunks)).not.toContain('.');
  });

  it('treats stream_options without include_usage like no stream_options at all', async () => {
    const plain = await stream({ messages: STORY, max_tokens: 12, temperature: 0 });
    const empty = await stream({ messages: STORY, max_tokens: 12, temperature: 0, stream_options: {} });
    expectWellFormedStream(empty.raw, empty.chunks, 1, empty);
    expect(empty.chunks.at(-1)!.choices).toHaveLength(1);
    expect(empty.chunks.at(-1)!.usage).toStrictEqual(plain.chunks.at(-1)!.usage);
    expect(contentOf(empty.chunks)).toBe(contentOf(plain.chunks));
  });
});

describe("explicit stream_options.include_usage (OpenAI's dialect)", () => {
  it('true: the finish chunk has no usage, then exactly one chunk with choices [] carries it', async () => {
    const reference = await stream({ messages: STORY, max_tokens: 25, temperature: 0 });
    const { raw, chunks, sentAt, endedAt } = await stream({
      messages: STORY,
      max_tokens: 25,
      temperature: 0,
      stream_options: { include_usage: true },
    });
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expectUsage(usageChunk.usage);
    // Same request as the reference: the same tokens, counted the same way.
    expect(usageChunk.usage).toStrictEqual(reference.chunks.at(-1)!.usage);
    expect(contentOf(chunks)).toBe(contentOf(reference.chunks));

    const withoutUsageChunk = chunks.slice(0, -1);
    expectWellFormedStream(raw, withoutUsageChunk, 1, { sentAt, endedAt });
    const finish = withoutUsageChunk.at(-1)!;
    expect(finish.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'length' }]);
    expect(finish.usage ?? null).toBeNull();
    expect(chunks.filter((chunk) => chunk.usage != null)).toHaveLength(1);
  });

  it('true with n=2: both finish chunks, then one usage chunk with choices []', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({
      messages: STORY,
      max_tokens: 10,
      n: 2,
      stream_options: { include_usage: true },
    });
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expectUsage(usageChunk.usage);
    expect(usageChunk.usage.completion_tokens).toBe(20);
    expectWellFormedStream(raw, chunks.slice(0, -1), 2, { sentAt, endedAt });
    expect(chunks.filter((chunk) => chunk.usage != null)).toHaveLength(1);
  });

  it('false: no usage anywhere in the stream, still a finish chunk and [DONE]', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({
      messages: STORY,
      max_tokens: 15,
      temperature: 0,
      stream_options: { include_usage: false },
    });
    expectWellFormedStream(raw, chunks, 1, { sentAt, endedAt });
    for (const chunk of chunks) expect(chunk).not.toHaveProperty('usage');
    expect(raw.text).not.toContain('"usage"');
    expect(chunks.at(-1)!.choices).toStrictEqual([{ index: 0, delta: {}, finish_reason: 'length' }]);
  });
});

describe('incremental delivery', () => {
  it('sends each token as it is generated, not the whole answer at the end', async () => {
    const timed = await readTimed(
      chatUrl(),
      post({ model: MODEL, messages: STORY, stream: true, max_tokens: 200, temperature: 0 }),
    );
    expect(timed.status).toBe(200);
    const chunks = timed.events
      .filter((event) => event.data !== '[DONE]')
      .map((event) => ({ ...event, chunk: JSON.parse(event.data) as Chunk }));
    // The premise: 200 tokens were really generated (that takes well over 50 ms on this model).
    expect(chunks.at(-1)!.chunk.choices[0]!.finish_reason).toBe('length');
    expect(chunks.at(-1)!.chunk.usage?.completion_tokens).toBe(200);

    const contentEvents = chunks.filter(
      (event) =>
        typeof event.chunk.choices[0]?.delta.content === 'string' && event.chunk.choices[0].delta.content !== '',
    );
    const firstContent = contentEvents[0]!;
    const done = timed.events.at(-1)!;
    expect(done.data).toBe('[DONE]');
    // A server that buffers the answer delivers everything in one burst at the end.
    expect(new Set(contentEvents.map((event) => event.read)).size).toBeGreaterThan(5);
    expect(done.atMs - firstContent.atMs).toBeGreaterThan(20);
    expect(firstContent.atMs).toBeLessThan(done.atMs / 2 + 20);
    // Status and headers came before the body, and the first token before the last.
    expect(timed.headersAtMs).toBeLessThanOrEqual(firstContent.atMs);
    expect(firstContent.atMs).toBeLessThan(contentEvents.at(-1)!.atMs);
  });
});

describe('n=2', () => {
  it('gives both choices a role, content and a finish chunk; usage once, on the last chunk', async () => {
    const { raw, chunks, sentAt, endedAt } = await stream({ messages: STORY, max_tokens: 20, n: 2 });
    expectWellFormedStream(raw, chunks, 2, { sentAt, endedAt });
    expect(contentOf(chunks, 0).length).toBeGreaterThan(0);
    expect(contentOf(chunks, 1).length).toBeGreaterThan(0);
    const finishes = chunks.flatMap((chunk) =>
      chunk.choices.filter((choice) => choice.finish_reason !== null).map((choice) => choice.index),
    );
    expect(finishes.sort()).toEqual([0, 1]);
    const withUsage = chunks.filter((chunk) => 'usage' in chunk);
    expect(withUsage).toHaveLength(1);
    const last = chunks.at(-1)!;
    expect(withUsage[0]).toBe(last);
    expect(last.choices.length).toBeGreaterThan(0);
    expect(last.choices.every((choice) => choice.finish_reason === 'length')).toBe(true);
    expectUsage(last.usage);
    expect(last.usage.completion_tokens).toBe(40);
  });

  it('keeps the two choices apart: the same seed gives different texts for index 0 and 1, each repeatable', async () => {
    const a = await stream({ messages: STORY, max_tokens: 20, n: 2, seed: 1234 });
    const b = await stream({ messages: STORY, max_tokens: 20, n: 2, seed: 1234 });
    expect(contentOf(a.chunks, 0)).toBe(contentOf(b.chunks, 0));
    expect(contentOf(a.chunks, 1)).toBe(contentOf(b.chunks, 1));
    expect(contentOf(a.chunks, 0)).not.toBe(contentOf(a.chunks, 1));
  });
});

describe('non-streaming', () => {
  it("returns one chat.completion object with the contract's fields", async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await fetch(chatUrl(), post({ model: MODEL, messages: STORY, max_tokens: 16, temperature: 0 }));
    const after = Math.ceil(Date.now() / 1000);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ object: 'chat.completion', model: MODEL });
    expect(body.id).toMatch(/^chatcmpl-[A-Za-z0-9]+$/);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.created).toBeGreaterThanOrEqual(before);
    expect(body.created).toBeLessThanOrEqual(after);
    const choices = body.choices as Record<string, unknown>[];
    expect(choices).toHaveLength(1);
    expect(choices[0]).toStrictEqual({
      index: 0,
      message: { role: 'assistant', content: expect.any(String), refusal: null },
      finish_reason: 'length',
      logprobs: null,
    });
    expect((choices[0]!.message as { content: string }).content.length).toBeGreaterThan(0);
    expectUsage(body.usage);
    expect(body.usage.completion_tokens).toBe(16);
  });

  it('returns the same text and usage as the stream for the same temperature-0 request', async () => {
    const request = { model: MODEL, messages: STORY, max_tokens: 33, temperature: 0 };
    const json = (await (await fetch(chatUrl(), post(request))).json()) as {
      choices: { message: { content: string } }[];
      usage: unknown;
    };
    const { chunks } = await stream(request);
    expect(json.choices[0]!.message.content).toBe(contentOf(chunks));
    expect(json.usage).toStrictEqual(chunks.at(-1)!.usage);
  });

  it('with n=2 returns both choices in index order', async () => {
    const response = await fetch(chatUrl(), post({ model: MODEL, messages: STORY, max_tokens: 8, n: 2 }));
    const body = (await response.json()) as {
      choices: { index: number; finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    expect(body.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(body.choices.map((choice) => choice.finish_reason)).toEqual(['length', 'length']);
    expect(body.usage.completion_tokens).toBe(16);
  });
});

describe('x-request-id', () => {
  it('is on every response (stream, non-stream, errors, models, preflight) and unique', async () => {
    const auth = { authorization: `Bearer ${harness.apiKey}` };
    const responses = await Promise.all([
      fetch(chatUrl(), post({ model: MODEL, messages: STORY, stream: true, max_tokens: 3 })),
      fetch(chatUrl(), post({ model: MODEL, messages: STORY, max_tokens: 3 })),
      fetch(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      fetch(chatUrl(), post({ model: MODEL, messages: [] })),
      fetch(chatUrl(), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"model":' }),
      fetch(chatUrl(), post({ model: 'no-such-model', messages: STORY, stream: true })),
      fetch(`${harness.baseURL}/models`, { headers: auth }),
      fetch(`${harness.baseURL}/models/no-such-model`, { headers: auth }),
      fetch(`${harness.baseURL}/no-such-route`, { headers: auth }),
      fetch(chatUrl(), {
        method: 'OPTIONS',
        headers: {
          origin: 'http://example.test',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      }),
    ]);
    const statuses = responses.map((response) => response.status);
    expect(statuses.slice(0, 9)).toEqual([200, 200, 401, 400, 400, 404, 200, 404, 404]);
    expect(statuses[9]).toBeLessThan(300);
    const ids = responses.map((response) => response.headers.get('x-request-id'));
    await Promise.all(responses.map((response) => response.arrayBuffer()));
    for (const id of ids) expect(id).toMatch(/^\S{8,}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is the same id on a stream's headers no matter how long it runs, and differs per request", async () => {
    const a = await readRawStream(chatUrl(), post({ model: MODEL, messages: STORY, stream: true, max_tokens: 5 }));
    const b = await readRawStream(chatUrl(), post({ model: MODEL, messages: STORY, stream: true, max_tokens: 5 }));
    expect(a.headers.get('x-request-id')).toBeTruthy();
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});

describe('waiting for a busy model: headers at once, keep-alive comments', () => {
  let busy: TestServer;
  beforeAll(async () => {
    busy = await startTestServer({ models: [{ ...storiesModel, sequences: 1 }], server: { keepAliveMs: 50 } });
  });
  afterAll(async () => busy?.close());

  it('sends 200 and the headers of a queued request while another one still generates, then `: keep-alive` until its tokens come', async () => {
    const started = performance.now();
    const first = await fetch(
      chatUrl(busy),
      post({ model: MODEL, messages: STORY, stream: true, max_tokens: 450, temperature: 0 }, {}, busy),
    );
    const firstReader = first.body!.getReader();
    const decoder = new TextDecoder();
    let firstText = '';
    // Wait until the first request is really generating (its first token arrived).
    while (!firstText.includes('"content":"') || !/"content":"[^"]/.test(firstText)) {
      const { done, value } = await firstReader.read();
      if (done) break;
      firstText += decoder.decode(value, { stream: true });
    }
    const queuedAt = performance.now() - started;
    const queued = readTimed(
      chatUrl(busy),
      post({ model: MODEL, messages: STORY, stream: true, max_tokens: 5, temperature: 0 }, {}, busy),
    );
    for (;;) {
      const { done, value } = await firstReader.read();
      if (done) break;
      firstText += decoder.decode(value, { stream: true });
    }
    const firstEndedAt = performance.now() - started;
    const second = await queued;

    expect(firstText).toContain('"finish_reason":"length"');
    expect(firstText.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(second.status).toBe(200);
    expect(second.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The queued request had its status and headers long before the model was free for it.
    expect(queuedAt + second.headersAtMs).toBeLessThan(firstEndedAt);

    const strict = parseStrict(second.text);
    expect(strict.problems).toEqual([]);
    expect(strict.comments.length).toBeGreaterThan(0);
    expect(new Set(strict.comments)).toEqual(new Set([': keep-alive']));
    // The comments filled the wait: they come before the first content chunk.
    const firstContentAt = second.text.search(/"delta":\{"content":"[^"]/);
    expect(second.text.indexOf(': keep-alive')).toBeLessThan(firstContentAt);
    expect(strict.events.at(-1)?.data).toBe('[DONE]');
    const chunks = strict.events
      .filter((event) => event.data !== '[DONE]')
      .map((event) => JSON.parse(event.data) as Chunk);
    expect(chunks[0]!.choices[0]!.delta).toStrictEqual({ role: 'assistant', content: '' });
    expectUsage(chunks.at(-1)!.usage);
  });
});

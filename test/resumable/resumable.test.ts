import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/schema.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { eventually, ledgerRow, ledgerRowsFor, sleep } from '../helpers/api.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';
import { contentOf, readSse, type SseEvent } from './sse-client.js';

/**
 * Resumable streams on one replica (events in memory): the socket dropped at random points of many
 * streams, a reconnect with Last-Event-ID, and the content must equal an uninterrupted run at
 * temperature 0. Then the window: nobody resuming cancels the work (ledger says so) and a late resume is a 404.
 */
const MODEL = 'stories260K';
const STREAMS = 100;
const MAX_TOKENS = 40;
const PROMPTS = ['Once upon a time', 'The little dog', 'Lily and Tom went', 'A big red ball'];

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({ models: [storiesModel], extra: { resumableStreams: { graceMs: 10_000 } } });
});
afterAll(async () => harness?.close());

const auth = (key = harness.apiKey) => ({ authorization: `Bearer ${key}` });
const chatBody = (prompt: string, maxTokens = MAX_TOKENS) => ({
  model: MODEL,
  messages: [{ role: 'user', content: prompt }],
  max_tokens: maxTokens,
  temperature: 0,
  stream: true,
});

function startResumable(body: unknown, dropAfter?: number, key?: string) {
  return readSse(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { ...auth(key), 'oruel-resumable': 'true' },
    body,
    ...(dropAfter === undefined ? {} : { dropAfter }),
  });
}

function resume(id: string, lastEventId: number | null, key?: string) {
  return readSse(`${harness.baseURL}/chat/completions/${id}/stream`, {
    method: 'GET',
    headers: { ...auth(key), ...(lastEventId === null ? {} : { 'last-event-id': String(lastEventId) }) },
  });
}

/** Ids 1..N without a gap or a repeat, ending in [DONE] with usage on the chunk before. */
function expectWhole(events: SseEvent[]): void {
  expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
  expect(events.at(-1)!.data).toBe('[DONE]');
  const final = JSON.parse(events.at(-2)!.data) as {
    usage?: { completion_tokens: number };
    choices: { finish_reason: string | null }[];
  };
  expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  expect(final.choices[0]!.finish_reason).not.toBeNull();
}

describe('resumable streams on one replica', () => {
  it(`${STREAMS} streams dropped at random points and resumed equal uninterrupted runs at temperature 0`, async () => {
    const reference = new Map<string, string>();
    for (const prompt of PROMPTS) {
      const plain = await readSse(`${harness.baseURL}/chat/completions`, {
        method: 'POST',
        headers: auth(),
        body: chatBody(prompt),
      });
      // Without the opt-in nothing changes: no id lines, no stream id.
      expect(plain.events.every((event) => event.id === null)).toBe(true);
      expect(plain.headers['oruel-stream-id']).toBeUndefined();
      reference.set(prompt, contentOf(plain.events));
    }
    let drops = 0;
    let exact = 0;
    const runOne = async (index: number) => {
      const prompt = PROMPTS[index % PROMPTS.length]!;
      const dropAfter = Math.floor(Math.random() * (MAX_TOKENS + 3));
      const first = await startResumable(chatBody(prompt), dropAfter);
      expect(first.status).toBe(200);
      const id = String(first.headers['oruel-stream-id']);
      expect(id).toMatch(/^chatcmpl-/);
      let events = first.events;
      if (first.dropped) {
        drops += 1;
        const lastId = events.at(-1)?.id ?? null;
        const rest = await resume(id, lastId);
        expect(rest.status, rest.text).toBe(200);
        events = [...events, ...rest.events];
      }
      expectWhole(events);
      if (contentOf(events) === reference.get(prompt)) exact += 1;
    };
    const queue = Array.from({ length: STREAMS }, (_, index) => index);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) await runOne(index);
      }),
    );
    console.log(
      `resumable (one replica, memory): ${STREAMS} streams, ${drops} dropped and resumed, ${exact} exact matches`,
    );
    expect(drops).toBeGreaterThan(STREAMS / 2);
    expect(exact).toBe(STREAMS);
  }, 240_000);

  it('counts usage once: one ledger row for a dropped and resumed stream, completed, with the final chunk usage', async () => {
    const first = await startResumable(chatBody('Once upon a time'), 3);
    const id = String(first.headers['oruel-stream-id']);
    const rest = await resume(id, first.events.at(-1)!.id);
    const final = JSON.parse(rest.events.at(-2)!.data) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const requestId = String(first.headers['x-request-id']);
    const row = await ledgerRow(harness, requestId);
    expect(row).toMatchObject({
      outcome: 'completed',
      promptTokens: final.usage.prompt_tokens,
      completionTokens: final.usage.completion_tokens,
    });
    expect(await ledgerRowsFor(harness, requestId)).toHaveLength(1);
  });

  it('replays from the start without Last-Event-ID; refuses other keys (404) and a malformed Last-Event-ID (400)', async () => {
    const first = await startResumable(chatBody('The little dog'), 2);
    const id = String(first.headers['oruel-stream-id']);
    const { key: other } = await harness.server.keyStore.create({ name: 'someone-else' });
    const stranger = await resume(id, 2, other);
    expect(stranger.status).toBe(404);
    expect(JSON.parse(stranger.text)).toMatchObject({
      error: { code: 'stream_not_found', type: 'invalid_request_error' },
    });
    const malformed = await readSse(`${harness.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { ...auth(), 'last-event-id': 'abc' },
    });
    expect(malformed.status).toBe(400);
    const all = await resume(id, null);
    expectWhole(all.events);
    expect(all.events.slice(0, 2)).toEqual(first.events);
    expect((await resume('chatcmpl-doesnotexist', 0)).status).toBe(404);
  });
});

describe('the resume window', () => {
  let gateway: TestServer;
  let slow: FakeUpstream;

  beforeAll(async () => {
    slow = await FakeUpstream.start({ syntheticTokens: 400, tokenDelayMs: 20 });
    const model = {
      name: 'slow',
      engine: 'openai',
      deployments: [{ url: slow.url, model: 'slow-model' }],
    } as unknown as ModelConfig;
    gateway = await startTestServer({ models: [model], extra: { resumableStreams: { graceMs: 600 } } });
  });
  afterAll(async () => {
    await gateway?.close();
    await slow?.close();
  });

  const body = { model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true };

  it('cancels the work when nobody resumes within the window; the ledger says so and a late resume is a clear 404', async () => {
    const first = await readSse(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'oruel-resumable': 'true' },
      body,
      dropAfter: 3,
    });
    const id = String(first.headers['oruel-stream-id']);
    const row = await ledgerRow(gateway, String(first.headers['x-request-id']));
    expect(row.outcome).toBe('cancelled');
    expect(row.errorCode).toBe('resume_window_expired');
    expect(row.completionTokens).toBeGreaterThan(2);
    expect(row.completionTokens).toBeLessThan(400);
    await eventually(async () => slow.requests.at(-1)!.aborted, Boolean);
    expect(slow.requests.at(-1)!.aborted).toBe(true);
    const late = await readSse(`${gateway.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'last-event-id': '3' },
    });
    expect(late.status).toBe(404);
    expect(JSON.parse(late.text)).toMatchObject({ error: { code: 'stream_not_found' } });
  }, 30_000);

  it('forgets a stream its client received whole shortly after (the linger is min(grace, 10 s))', async () => {
    const whole = await readSse(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'oruel-resumable': 'true' },
      body: { ...body, max_tokens: 5 },
    });
    expectWhole(whole.events);
    const id = String(whole.headers['oruel-stream-id']);
    const last = whole.events.at(-1)!.id!;
    const right = await readSse(`${gateway.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'last-event-id': String(last) },
    });
    expect(right.status).toBe(200);
    expect(right.events).toEqual([]);
    await sleep(1_500);
    const late = await readSse(`${gateway.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'last-event-id': String(last) },
    });
    expect(late.status).toBe(404);
  }, 30_000);

  it('keeps generating while a resumed reader is attached, past the window, and ends with [DONE]', async () => {
    const first = await readSse(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'oruel-resumable': 'true' },
      body,
      dropAfter: 2,
    });
    const id = String(first.headers['oruel-stream-id']);
    await sleep(200);
    // 400 tokens at 20 ms take ~8 s, many windows of 600 ms: only the reader's heartbeat keeps it alive.
    const rest = await readSse(`${gateway.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { authorization: `Bearer ${gateway.apiKey}`, 'last-event-id': '2' },
    });
    const events = [...first.events, ...rest.events];
    expectWhole(events);
    const row = await ledgerRow(gateway, String(first.headers['x-request-id']));
    expect(row.outcome).toBe('completed');
    expect(row.completionTokens).toBe(400);
  }, 30_000);
});

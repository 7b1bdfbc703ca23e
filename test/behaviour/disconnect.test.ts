import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { ledgerRow, sleep } from '../helpers/api.js';
import { endedWithDone, liveRequest, streamText, usageOf, type LiveRequest } from '../helpers/live-request.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Client disconnects on a real socket. With one sequence, the only way a second request can start
 * generating soon after the first client leaves is that the first generation stopped and gave its
 * sequence back at once; left running, the first would hold it for its remaining hundreds of tokens.
 */

const MODEL = 'solo';
const LONG = 400;
/** Least slack allowed beyond the idle time to first token, between the socket closing and the sequence serving someone else. */
const RELEASE_FLOOR_MS = 50;

let harness: TestServer;
/** Time from sending a small stream request to its first content chunk on an idle server (median). */
let idleTtftMs = 0;
/** How long the long request takes when nobody leaves: the time a leak would hold the sequence. */
let fullRunMs = 0;
/**
 * The bar for "the sequence serves someone else at once": the idle time to first token plus a fifth of
 * the long run (at least 50 ms). Both are measured in this run, so a loaded machine raises the bar with
 * its pace and a fast one lowers it; a leak costs the rest of the long run, several times the bar.
 */
const releaseBudgetMs = () => idleTtftMs + Math.max(RELEASE_FLOOR_MS, fullRunMs / 5);

const prompt = [{ role: 'user', content: 'Once upon a time' }];
const longStream = (temperature: number) => ({
  model: MODEL,
  messages: prompt,
  stream: true,
  max_tokens: LONG,
  temperature,
});
const shortStream = {
  model: MODEL,
  messages: [{ role: 'user', content: 'The cat' }],
  stream: true,
  max_tokens: 5,
  temperature: 0,
};

function open(body: unknown): LiveRequest {
  return liveRequest(`${harness.baseURL}/chat/completions`, { apiKey: harness.apiKey, body });
}

async function requestId(stream: LiveRequest): Promise<string> {
  const id = (await stream.headers)['x-request-id'];
  expect(id).toMatch(/^req_/);
  return String(id);
}

beforeAll(async () => {
  harness = await startTestServer({ models: [{ ...storiesModel, name: MODEL, sequences: 1 }] });
  // The first requests on a fresh context are slower (allocation, warm-up): measure after them.
  for (let i = 0; i < 2; i += 1) await open(shortStream).finished;
  const samples: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const stream = open(shortStream);
    const first = await stream.firstContent();
    samples.push(first.at - stream.sentAt);
    await stream.finished;
  }
  idleTtftMs = samples.sort((a, b) => a - b)[2]!;
  const reference = open(longStream(0));
  await reference.finished;
  fullRunMs = reference.events.at(-1)!.at - reference.sentAt;
});
afterAll(async () => harness?.close());

describe('a client that disconnects mid-stream', () => {
  it('frees its sequence at once, and its ledger row is cancelled with the tokens produced', async () => {
    expect(
      fullRunMs,
      'the long request must outlast the release budget by far, or this test proves nothing',
    ).toBeGreaterThan(3 * releaseBudgetMs());

    const leaving = open(longStream(0.8));
    const leavingId = await requestId(leaving);
    await leaving.firstContent();
    const waiting = open(shortStream);
    // The role chunk means the engine accepted it: it now waits in the queue for the one sequence.
    await waiting.waitFor((event) => event.json?.choices?.[0]?.delta.role === 'assistant');
    expect(streamText(waiting)).toBe('');

    const destroyedAt = leaving.destroy();
    const first = await waiting.firstContent(10_000);
    const admittedAfterMs = first.at - destroyedAt;
    expect(
      admittedAfterMs,
      `second request started ${admittedAfterMs.toFixed(1)} ms after the disconnect (idle ttft ${idleTtftMs.toFixed(1)} ms)`,
    ).toBeLessThan(releaseBudgetMs());
    await waiting.finished;
    expect(endedWithDone(waiting)).toBe(true);

    // The departed stream never finished on its own.
    expect(leaving.chunksJson.some((chunk) => chunk.choices?.some((choice) => choice.finish_reason !== null))).toBe(
      false,
    );
    const row = await ledgerRow(harness, leavingId);
    expect(row).toMatchObject({
      outcome: 'cancelled',
      finishReason: null,
      stream: true,
      model: MODEL,
      engine: `llama-cpp/${MODEL}`,
      keyId: expect.any(String),
    });
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.completionTokens).toBeLessThan(LONG);
    expect(row.promptTokens).toBeGreaterThan(0);
    expect(row.ttftMs).not.toBeNull();

    const waitingRow = await ledgerRow(harness, await requestId(waiting));
    expect(waitingRow).toMatchObject({ outcome: 'completed', completionTokens: usageOf(waiting)?.completion_tokens });
  });

  it('a new request sent right after the disconnect starts within the budget', async () => {
    const leaving = open(longStream(0.8));
    await leaving.firstContent();
    const destroyedAt = leaving.destroy();
    const next = open(shortStream);
    const first = await next.firstContent(10_000);
    expect(first.at - destroyedAt).toBeLessThan(releaseBudgetMs());
    await next.finished;
    expect(endedWithDone(next)).toBe(true);
    const row = await ledgerRow(harness, await requestId(leaving));
    expect(row.outcome).toBe('cancelled');
    expect(row.completionTokens).toBeLessThan(LONG);
  });

  it('a non-streamed request abandoned mid-generation stops too', async () => {
    const leaving = open({ ...longStream(0), stream: false });
    // No bytes arrive before the end of a non-streamed response: give the generation time to start.
    await sleep(60);
    const waiting = open(shortStream);
    await waiting.waitFor((event) => event.json?.choices?.[0]?.delta.role === 'assistant');
    const destroyedAt = leaving.destroy();
    const first = await waiting.firstContent(10_000);
    expect(first.at - destroyedAt).toBeLessThan(releaseBudgetMs());
    await waiting.finished;

    // The abandoned request's id never reached the client; find its row by elimination.
    await harness.server.ledger.flush();
    const rows = await harness.server.ledger.rows({ limit: 5 });
    const abandoned = rows.find((row) => !row.stream);
    expect(abandoned).toMatchObject({ outcome: 'cancelled', finishReason: null });
    expect(abandoned!.completionTokens).toBeGreaterThan(0);
    expect(abandoned!.completionTokens).toBeLessThan(LONG);
  });
});

describe('a client that disconnects while the engine prepares the request', () => {
  // Guards a fixed engine bug: a JSON-mode request compiles a grammar inside startChat; a disconnect
  // during that await was never seen by the generation, which then ran to max_tokens for nobody.
  it('a JSON-mode stream abandoned a few ms after sending produces (almost) no tokens', async () => {
    const rows: LedgerRecord[] = [];
    for (let delay = 1; delay <= 4 && rows.length < 2; delay += 1) {
      const before = Date.now();
      const leaving = open({ ...longStream(0), response_format: { type: 'json_object' } });
      await sleep(delay);
      leaving.destroy();
      await sleep(50);
      await harness.server.ledger.flush();
      // The id never reached the client: take the row of a request started after `before`, once written.
      const deadline = Date.now() + 3_000;
      let row: LedgerRecord | undefined;
      while (!row && Date.now() < deadline) {
        await harness.server.ledger.flush();
        row = (await harness.server.ledger.rows({ since: new Date(before - 1), limit: 1 }))[0];
        if (!row) await sleep(50);
      }
      // No row: the socket closed before the request reached the route at all; try a later moment.
      if (row) rows.push(row);
      // Let any runaway generation finish before the next attempt, so it cannot hide in the next one.
      await open(shortStream).finished;
    }
    expect(rows.length, 'no attempt reached the route').toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.outcome).toBe('cancelled');
      expect(
        row.completionTokens,
        `a request abandoned after a few ms produced ${row.completionTokens} tokens`,
      ).toBeLessThan(50);
    }
  });
});

describe('a client that disconnects while waiting in the queue', () => {
  it('leaves with a cancelled row and no tokens; the running stream is unaffected', async () => {
    const running = open(longStream(0));
    const runningId = await requestId(running);
    await running.firstContent();
    const queued = open(shortStream);
    const queuedId = await requestId(queued);
    await queued.waitFor((event) => event.json?.choices?.[0]?.delta.role === 'assistant');
    queued.destroy();

    await running.finished;
    expect(endedWithDone(running)).toBe(true);
    const usage = usageOf(running);
    const finish = running.chunksJson
      .flatMap((chunk) => chunk.choices ?? [])
      .find((choice) => choice.finish_reason !== null)?.finish_reason;
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(LONG);
    expect(running.chunksJson.some((chunk) => chunk.error)).toBe(false);

    const queuedRow = await ledgerRow(harness, queuedId);
    expect(queuedRow).toMatchObject({
      outcome: 'cancelled',
      promptTokens: 0,
      completionTokens: 0,
      finishReason: null,
      ttftMs: null,
    });
    const runningRow = await ledgerRow(harness, runningId);
    expect(runningRow).toMatchObject({
      outcome: 'completed',
      completionTokens: LONG,
      promptTokens: usage?.prompt_tokens,
      finishReason: 'length',
    });

    // The departed waiter holds nothing: the next request starts at once.
    const next = open(shortStream);
    const first = await next.firstContent(10_000);
    expect(first.at - next.sentAt).toBeLessThan(releaseBudgetMs());
    await next.finished;
    expect(endedWithDone(next)).toBe(true);
  });
});

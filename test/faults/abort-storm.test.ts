import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from '../../src/router/deployment.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';
import { until } from './raw-client.js';

/**
 * Hundreds of clients that leave at random moments (before the response head, right after it, after
 * some tokens), against the embedded model and a gateway model: each request that reached the server
 * has exactly one ledger row, nothing is left running, and no sequence or upstream slot leaks (a
 * request needing every sequence at once still runs).
 */

const EMBEDDED_REQUESTS = 300;
const GATEWAY_REQUESTS = 200;
const CONCURRENCY = 24;

let upstream: FakeUpstream;
let harness: TestServer;

beforeAll(async () => {
  upstream = await FakeUpstream.start({ dialect: 'vllm', tokenDelayMs: 5 });
  harness = await startTestServer({
    models: [
      storiesModel,
      { name: 'gateway', engine: 'openai', deployments: [{ url: upstream.url, model: 'upstream-model' }] } as never,
    ],
    server: { keepAliveMs: 50 },
  });
});
afterAll(async () => {
  await harness?.close();
  await upstream?.close();
});

/** A small seeded generator: a failing storm can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

type Moment = 'before-head' | 'after-head' | 'after-tokens';

/** One client: sends a stream request, leaves at `moment`; returns the request id if the head arrived. */
async function leaveAt(model: string, moment: Moment, delayMs: number): Promise<string | null> {
  const controller = new AbortController();
  if (moment === 'before-head') setTimeout(() => controller.abort(), delayMs);
  try {
    const response = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'Once upon a time' }],
        stream: true,
        max_tokens: 300,
      }),
      signal: controller.signal,
    });
    const requestId = response.headers.get('x-request-id');
    if (moment === 'after-tokens') {
      const reader = response.body!.getReader();
      let events = 0;
      const wanted = 1 + Math.floor(delayMs / 4);
      while (events < wanted) {
        const { done, value } = await reader.read();
        if (done) break;
        events += new TextDecoder().decode(value).split('data: ').length - 1;
      }
    }
    controller.abort();
    return requestId;
  } catch {
    return null;
  }
}

async function storm(model: string, count: number, seed: number): Promise<{ seen: string[] }> {
  const next = random(seed);
  const moments: Moment[] = ['before-head', 'after-head', 'after-tokens'];
  const seen: string[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      const id = await leaveAt(model, moments[Math.floor(next() * moments.length)]!, Math.floor(next() * 20));
      if (id) seen.push(id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seen };
}

/** The model's rows once every seen request has one (a handler records its row when its stream has ended). */
async function settledRows(model: string, seen: string[]) {
  const read = async () => {
    await harness.server.ledger.flush();
    return harness.server.ledger.rows({ model });
  };
  let rows = await read();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const stored = new Set(rows.map((row) => row.requestId));
    if (seen.every((id) => stored.has(id))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    rows = await read();
  }
  return rows;
}

function expectOneRowEach(
  rows: { requestId: string; outcome: string; status: number; errorCode: string | null }[],
  seen: string[],
  sent: number,
): void {
  const ids = rows.map((row) => row.requestId);
  expect(new Set(ids).size).toBe(ids.length);
  const stored = new Set(ids);
  expect(seen.filter((id) => !stored.has(id))).toEqual([]);
  // Clients that left before their request was read may have no row; none has two.
  expect(rows.length).toBeGreaterThanOrEqual(seen.length);
  expect(rows.length).toBeLessThanOrEqual(sent);
  expect(
    rows
      .filter((row) => row.outcome !== 'cancelled' && row.outcome !== 'completed')
      .map(({ outcome, status, errorCode }) => ({ outcome, status, errorCode })),
  ).toEqual([]);
}

describe('an abort storm', () => {
  it(`${EMBEDDED_REQUESTS} clients leaving the embedded model at random moments: one row each, no leaked sequence`, async () => {
    const { seen } = await storm('stories260K', EMBEDDED_REQUESTS, 8);
    expect(seen.length).toBeGreaterThan(EMBEDDED_REQUESTS / 2);
    const rows = await settledRows('stories260K', seen);
    expectOneRowEach(rows, seen, EMBEDDED_REQUESTS);
    console.log(
      `[faults] embedded abort storm: ${EMBEDDED_REQUESTS} sent, ${seen.length} with a response head, ${rows.length} ledger rows`,
    );

    // No sequence leaked: a request that needs both sequences at once still runs.
    const both = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        n: 2,
        max_tokens: 8,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(both.status).toBe(200);
    expect(((await both.json()) as { choices: unknown[] }).choices).toHaveLength(2);
  });

  it(`${GATEWAY_REQUESTS} clients leaving a gateway model at random moments: one row each, every upstream request closed`, async () => {
    const { seen } = await storm('gateway', GATEWAY_REQUESTS, 11);
    const rows = await settledRows('gateway', seen);
    expectOneRowEach(rows, seen, GATEWAY_REQUESTS);
    console.log(
      `[faults] gateway abort storm: ${GATEWAY_REQUESTS} sent, ${seen.length} with a response head, ${rows.length} ledger rows`,
    );
    await until(
      () => upstream.requests.every((request) => request.closedAt !== null),
      'every upstream request to be closed',
    );
    const deployments = harness.server.registry
      .engines()
      .filter((engine): engine is Deployment => engine instanceof Deployment);
    // Every model is served by deployments (the embedded one too): none may still count a request in flight.
    expect(deployments.length).toBeGreaterThan(0);
    expect(deployments.map((deployment) => deployment.inFlight).filter((count) => count !== 0)).toEqual([]);
  });
});

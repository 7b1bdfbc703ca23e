import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';
import { fuzzCase, type FuzzCase } from './fuzz-cases.js';

/**
 * A fuzz pass over POST /chat/completions, through real HTTP (keep-alive) against an embedded model
 * and a gateway model: thousands of generated bad requests, and for each one no 5xx, an error in
 * the OpenAI envelope, and a 400 naming the field the mutation hit.
 */

const CASES = 3000;
const CONCURRENCY = 8;
const GATEWAY_MODEL = 'gateway';
let harness: TestServer;
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await FakeUpstream.start({ record: false });
  harness = await startTestServer({
    models: [
      storiesModel,
      { name: GATEWAY_MODEL, engine: 'openai', deployments: [{ url: upstream.url, model: 'upstream-model' }] } as never,
    ],
  });
});
afterAll(async () => {
  await harness?.close();
  await upstream?.close();
});

interface Verdict {
  status: number;
  problem: string | null;
}

async function run(fuzz: FuzzCase): Promise<Verdict> {
  const response = await fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': fuzz.contentType, authorization: `Bearer ${harness.apiKey}` },
    body: fuzz.body,
  });
  const text = await response.text();
  return { status: response.status, problem: judge(fuzz, response.status, text) };
}

/** What is wrong with the answer to one case, or null. */
function judge(fuzz: FuzzCase, status: number, text: string): string | null {
  if (status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  if (status < 300)
    return /"type":"server_error"/.test(text) ? `error event in a ${status}: ${text.slice(0, 200)}` : null;
  let error: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    return `status ${status} without a JSON body: ${text.slice(0, 200)}`;
  }
  if (
    !error ||
    typeof error.message !== 'string' ||
    typeof error.type !== 'string' ||
    !('param' in error) ||
    !('code' in error)
  ) {
    return `status ${status} outside the OpenAI envelope: ${text.slice(0, 200)}`;
  }
  if (status === 400 && fuzz.field !== null && error.code !== 'invalid_json') {
    const param = typeof error.param === 'string' ? error.param : '';
    const namesField = param === fuzz.field || param.startsWith(`${fuzz.field}[`) || param.startsWith(`${fuzz.field}.`);
    if (!namesField) return `400 names ${param || 'no param'}, not ${fuzz.field}: ${text.slice(0, 200)}`;
  }
  return null;
}

it(`${CASES} generated bad requests: no 5xx, every error in the envelope naming the field`, async () => {
  const statuses = new Map<number, number>();
  const problems: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CASES) {
        const fuzz = fuzzCase(next++, storiesModel.name, GATEWAY_MODEL);
        const verdict = await run(fuzz);
        statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
        if (verdict.problem) problems.push(`${fuzz.description}: ${verdict.problem}`);
      }
    }),
  );
  const summary = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  console.log(`${CASES} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ${summary}`);
  expect(problems.slice(0, 20)).toEqual([]);
  // The server still serves.
  const health = await fetch(`${harness.server.url}/healthz`);
  expect(health.status).toBe(200);
}, 180_000);

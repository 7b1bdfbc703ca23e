import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep } from '../helpers/api.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * A client must not pin memory: each request below carries a different valid json_schema with a
 * 3.5 MB description (all 200). Before, compiled validators were cached by the whole schema text,
 * 256 of them: 100 such requests took the process from 147 to 890 MiB, and it stayed there.
 */

const REQUESTS = 300;
const MiB = 1024 * 1024;
let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

function schemaRequest(index: number, description: string): string {
  const schema = {
    type: 'object',
    description: `${index} ${description}`,
    properties: { [`name${index}`]: { type: 'string' } },
  };
  return JSON.stringify({
    model: storiesModel.name,
    max_tokens: 1,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    response_format: { type: 'json_schema', json_schema: { name: `s${index}`, schema } },
  });
}

async function send(index: number, description: string): Promise<void> {
  const response = await fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${harness.apiKey}` },
    body: schemaRequest(index, description),
  });
  const text = await response.text();
  expect(response.status, text.slice(0, 300)).toBe(200);
}

// A full collection before each reading: the test asks what is still referenced, not when V8 chose
// to collect. Without it the reading swung by ~100 MiB of garbage (266 -> 361 MiB over 300 requests,
// while 900 requests after a collection ended lower than they began).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** RSS after a full collection and a moment for the allocator to give pages back. */
async function settledRss(): Promise<number> {
  collectGarbage();
  await sleep(200);
  return process.memoryUsage().rss;
}

it(`RSS grows less than 100 MiB over ${REQUESTS} requests, each with its own 3.5 MB json_schema`, async () => {
  const description = 'a'.repeat(3.5 * MiB);
  for (let index = 0; index < 10; index += 1) await send(-index - 1, description); // warm-up
  const before = await settledRss();
  for (let index = 0; index < REQUESTS; index += 1) await send(index, description);
  const after = await settledRss();
  console.log(`RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB over ${REQUESTS} requests`);
  expect(after - before).toBeLessThan(100 * MiB);
}, 180_000);

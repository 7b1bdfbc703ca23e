import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { ledgerRow, sdk, startGateway, USER_PROMPT } from '../gateway/gateway-harness.js';
import type { TestServer } from '../helpers/test-server.js';
import { FloodUpstream } from './flood-upstream.js';
import { sleep, stalledStream, until } from './raw-client.js';

/**
 * Clients that stop reading an endless stream (4 KiB chunks as fast as the upstream can write). The
 * gateway must pass the backpressure on to the upstream: what the upstream manages to send, i.e.
 * everything held in Oru-el's buffers and the kernel's, stays bounded and stops growing, while other
 * clients are served. When the stalled client finally leaves, its row is `cancelled` and the
 * upstream request is aborted.
 */

const STALLED_CLIENTS = 5;
/** Socket buffers on both sides of two loopback connections plus the part queue: a few MiB each, far from unbounded. */
const BOUND_PER_STREAM = 64 * 1024 * 1024;

let flood: FloodUpstream;
let hello: FakeUpstream;
let harness: TestServer;

beforeAll(async () => {
  flood = await FloodUpstream.start();
  hello = await FakeUpstream.start({ dialect: 'vllm' });
  harness = await startGateway(
    [
      { name: 'flood', deployments: [{ url: flood.url, model: 'flood' }] },
      { name: 'hello', deployments: [{ url: hello.url }] },
    ],
    { keepAliveMs: 200, drainTimeoutMs: 0 },
  );
});
afterAll(async () => {
  await harness?.close();
  await flood?.close();
  await hello?.close();
});

describe('clients that stop reading', () => {
  it('hold a bounded amount that stops growing, while other clients are served; leaving cancels the upstream request', async () => {
    const stalled = [];
    for (let index = 0; index < STALLED_CLIENTS; index += 1) {
      stalled.push(await stalledStream(harness.server.url, { model: 'flood', messages: USER_PROMPT }, harness.apiKey));
    }
    await until(() => flood.blocked === STALLED_CLIENTS, 'every upstream stream to be held by backpressure');
    // Buffers fill for a moment after the first pause (socket windows grow); then nothing more is taken.
    let held = flood.streams.map((stream) => stream.bytes);
    let settled = false;
    for (let window = 0; window < 20 && !settled; window += 1) {
      await sleep(500);
      const now = flood.streams.map((stream) => stream.bytes);
      settled = now.every((bytes, index) => bytes === held[index]);
      held = now;
    }
    expect(settled, `the upstream kept sending: ${held.join(', ')} bytes`).toBe(true);
    expect(flood.blocked).toBe(STALLED_CLIENTS);
    console.log(
      `[faults] bytes taken from the upstream per stalled reader: ${held.map((bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`).join(', ')}`,
    );
    for (const bytes of held) expect(bytes).toBeLessThan(BOUND_PER_STREAM);

    // Everyone else is served meanwhile.
    const stream = await sdk(harness).chat.completions.create({ model: 'hello', messages: USER_PROMPT, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello! How can I help you today?');

    for (const client of stalled) client.socket.destroy();
    await until(() => flood.open === 0, 'every upstream request to be aborted');
    for (const client of stalled) {
      const row = await ledgerRow(harness, client.requestId);
      expect(row).toMatchObject({ outcome: 'cancelled', usageSource: 'engine' });
      expect(row.completionTokens).toBeGreaterThan(0);
    }
  });
});

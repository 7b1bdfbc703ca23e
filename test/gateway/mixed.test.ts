import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusingUrl } from '../fakes/closed-port.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { STORIES_MODEL } from '../helpers/paths.js';
import type { TestServer } from '../helpers/test-server.js';
import { ledgerRow, sdk, startGateway } from './gateway-harness.js';

/**
 * One public name over an upstream fleet and an embedded model (`embeddedDeployments`): the router
 * treats them alike, so an embedded llama.cpp model can be the fallback of a GPU fleet (or the reverse).
 */

let harness: TestServer;
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await FakeUpstream.start({ dialect: 'llama-server' });
  const embedded = { engine: 'llama-cpp', path: STORIES_MODEL, sequences: 1, contextSize: 256 };
  harness = await startGateway([
    {
      name: 'fleet-down',
      deployments: [{ url: await refusingUrl(), weight: 1000 }],
      embeddedDeployments: [embedded],
      routing: { failuresBeforeCooldown: 1000 },
    },
    { name: 'fleet-up', deployments: [{ url: upstream.url, weight: 1000 }], embeddedDeployments: [embedded] },
  ]);
});
afterAll(async () => {
  await harness?.close();
  await upstream?.close();
});

describe('a model served by upstream and embedded deployments', () => {
  it('fails over from an unreachable upstream to the embedded model', async () => {
    const { data, response } = await sdk(harness)
      .chat.completions.create({
        model: 'fleet-down',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        max_tokens: 8,
      })
      .withResponse();
    expect(data.model).toBe('fleet-down');
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(await ledgerRow(harness, response.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'completed',
      engine: 'llama-cpp/fleet-down',
      usageSource: 'engine',
    });
  });

  it('prefers the heavier upstream while it is healthy, and lists one public name per model', async () => {
    const { response } = await sdk(harness)
      .chat.completions.create({ model: 'fleet-up', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(await ledgerRow(harness, response.headers.get('x-request-id')!)).toMatchObject({
      engine: expect.stringMatching(/^openai\/fleet-up\//),
    });
    expect(upstream.requests).toHaveLength(1);
    expect((await sdk(harness).models.list()).data.map((model) => model.id).sort()).toEqual(['fleet-down', 'fleet-up']);
  });
});

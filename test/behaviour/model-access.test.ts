import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

describe('a key with a model allow-list', () => {
  it('sees only its models in GET /models, and the others are as unknown as a missing model', async () => {
    const { key } = await harness.server.keyStore.create({ name: 'restricted', models: ['another-model'] });
    const restricted = new OpenAI({ baseURL: harness.baseURL, apiKey: key, maxRetries: 0 });
    const open = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });

    expect((await open.models.list()).data.map((model) => model.id)).toContain('stories260K');
    expect((await restricted.models.list()).data).toHaveLength(0);

    const hidden = await restricted.models.retrieve('stories260K').catch((error: unknown) => error);
    const missing = await restricted.models.retrieve('no-such-model').catch((error: unknown) => error);
    expect(hidden).toBeInstanceOf(OpenAI.NotFoundError);
    expect((hidden as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((hidden as Error).message.replace('stories260K', 'X')).toBe(
      (missing as Error).message.replace('no-such-model', 'X'),
    );
  });
});

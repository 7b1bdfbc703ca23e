import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let harness: TestServer;
let client: OpenAI;

beforeAll(async () => {
  harness = await startTestServer();
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

describe('the seed JavaScript streaming example', () => {
  it('streams content chunks and ends with usage on the final chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Write a haiku about programming.' },
      ],
      stream: true,
      max_tokens: 100,
    });
    let text = '';
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content;
      if (content) text += content;
      last = chunk;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(last?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
  });
});

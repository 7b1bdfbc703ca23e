import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, estimateRequestTokens } from '../../src/limits/token-estimate.js';
import { parseChatRequest } from '../../src/validation/parse-chat-request.js';

describe('token estimate for reservations', () => {
  it('counts about four characters per token plus a little per message', () => {
    const chat = parseChatRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'x'.repeat(40) },
        { role: 'user', content: 'y'.repeat(40) },
      ],
    });
    expect(estimatePromptTokens(chat)).toBe(20 + 8);
  });

  it('adds max_tokens per choice, or the default when absent', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'abcd' }] };
    expect(estimateRequestTokens(parseChatRequest({ ...base, max_tokens: 10, n: 2 }), 512)).toBe(5 + 20);
    expect(estimateRequestTokens(parseChatRequest(base), 512)).toBe(5 + 512);
  });
});

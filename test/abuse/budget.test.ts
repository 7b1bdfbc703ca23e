import { afterAll, beforeAll, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/limits/token-estimate.js';
import { parseChatRequest } from '../../src/validation/parse-chat-request.js';
import { expectError, ledgerRow, postChat } from '../helpers/api.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * A 40 tokens/day budget once admitted a second request because some budget was left, and ended at
 * 52 of 40. Admission now reserves the request's possible cost (estimated prompt + max_tokens per
 * choice) against what is left, and settles with the real count: the budget can only be passed by
 * what the prompt estimate of the requests in flight missed (README, "Keys, limits and many replicas").
 */

let harness: TestServer;
const BUDGET = 40;
const DEFAULT_COMPLETION = 6;

beforeAll(async () => {
  // A small default reservation, so a budget's ceiling on a request without max_tokens shows.
  harness = await startTestServer({ limits: { defaultCompletionTokens: DEFAULT_COMPLETION } });
});
afterAll(async () => harness?.close());

it(`a ${BUDGET}-token daily budget is not overrun by requests admitted while some of it was left`, async () => {
  const { key } = await harness.server.keyStore.create({ name: 'budgeted', budget: { tokens: BUDGET, period: 'day' } });
  const body = {
    model: storiesModel.name,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 12,
    temperature: 0,
  };
  const estimated = estimatePromptTokens(parseChatRequest(body));
  let used = 0;
  let missedByEstimate = 0;
  let refused = false;
  for (let attempt = 0; attempt < 10 && !refused; attempt += 1) {
    const response = await postChat(harness, body, { apiKey: key });
    if (response.status === 429) {
      const error = expectError(response, 429, { code: 'insufficient_quota', type: 'insufficient_quota' });
      expect(error.message).toMatch(/max_tokens|used its token budget/);
      expect(response.headers.get('x-should-retry')).toBe('false');
      refused = true;
      continue;
    }
    expect(response.status, response.text).toBe(200);
    const row = await ledgerRow(harness, response.headers.get('x-request-id')!);
    used += row.promptTokens + row.completionTokens;
    // Requests run one after another, each admitted against the settled count of those before it:
    // only the last one's missed prompt tokens can carry the total past the budget.
    missedByEstimate = Math.max(0, row.promptTokens - estimated);
  }
  console.log(`budget ${BUDGET}: used ${used} (the prompt estimate missed ${missedByEstimate})`);
  expect(refused).toBe(true);
  expect(used).toBeLessThanOrEqual(BUDGET + missedByEstimate);
});

it('a request without max_tokens under a budget generates no more than its reservation; without a budget, all the room', async () => {
  const body = { model: storiesModel.name, messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0 };
  const { key } = await harness.server.keyStore.create({
    name: 'budgeted-default',
    budget: { tokens: 100_000, period: 'day' },
  });
  const capped = await postChat(harness, body, { apiKey: key });
  expect(capped.status, capped.text).toBe(200);
  expect(capped.json?.usage.completion_tokens).toBe(DEFAULT_COMPLETION);
  expect(capped.json?.choices[0]?.finish_reason).toBe('length');
  const free = await postChat(harness, body);
  expect(free.json?.usage.completion_tokens).toBeGreaterThan(DEFAULT_COMPLETION);
});

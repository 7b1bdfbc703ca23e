import { execFileSync, spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { refusingUrl } from '../fakes/closed-port.js';
import { eventually } from '../helpers/api.js';
import { ADMIN_TOKEN, sample, startConfiguredServer, type MetricsTestServer } from './metrics-server.js';
import { PROMTOOL, startPrometheus } from './prometheus.js';

const MODEL = 'stories260K';
const MESSAGES = [{ role: 'user' as const, content: 'Once upon a time' }];

async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** Sends the requests the metrics must account for; returns what the client saw. */
async function sendRequests(
  harness: MetricsTestServer,
): Promise<{ requests: number; promptTokens: number; completionTokens: number }> {
  const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
  let promptTokens = 0;
  let completionTokens = 0;
  for (const maxTokens of [5, 9]) {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
      max_tokens: maxTokens,
    });
    promptTokens += completion.usage!.prompt_tokens;
    completionTokens += completion.usage!.completion_tokens;
  }
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: MESSAGES,
    max_tokens: 7,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.usage) {
      promptTokens += chunk.usage.prompt_tokens;
      completionTokens += chunk.usage.completion_tokens;
    }
  }
  return { requests: 3, promptTokens, completionTokens };
}

describe('GET /metrics on the API port', () => {
  let harness: MetricsTestServer;
  let sent: { requests: number; promptTokens: number; completionTokens: number };
  let text: string;

  beforeAll(async () => {
    harness = await startConfiguredServer({ metrics: { perKeyTokens: true } });
    sent = await sendRequests(harness);
    // The ledger writes in the background: scrape once its rows are stored.
    await harness.server.ledger.flush();
    text = await scrape(`${harness.server.url}/metrics`);
  });
  afterAll(async () => harness?.close());

  it('counts the requests, tokens and times to first token the client saw', () => {
    const labels = { model: MODEL, endpoint: 'chat.completions', status_class: '2xx', outcome: 'completed' };
    expect(sample(text, 'oruel_requests_total', { ...labels, stream: 'false' })).toBe(2);
    expect(sample(text, 'oruel_requests_total', { ...labels, stream: 'true' })).toBe(1);
    expect(sample(text, 'oruel_time_to_first_token_seconds_count', { model: MODEL })).toBe(sent.requests);
    expect(sample(text, 'oruel_request_duration_seconds_count', { model: MODEL, endpoint: 'chat.completions' })).toBe(
      sent.requests,
    );
    expect(sample(text, 'oruel_time_per_output_token_seconds_count', { model: MODEL })).toBe(sent.requests);
    expect(sample(text, 'oruel_queue_wait_seconds_count', { model: MODEL })).toBe(sent.requests);
    expect(sample(text, 'oruel_prompt_tokens_total', { model: MODEL })).toBe(sent.promptTokens);
    expect(sample(text, 'oruel_completion_tokens_total', { model: MODEL })).toBe(sent.completionTokens);
    expect(sample(text, 'oruel_engine_completion_tokens_total', { engine: `llama-cpp/${MODEL}` })).toBe(
      sent.completionTokens,
    );
    expect(sample(text, 'oruel_requests_in_flight', { endpoint: 'chat.completions' })).toBe(0);
  });

  it('counts tokens per key only because perKeyTokens is on', async () => {
    const key = (await harness.server.keyStore.list()).find((record) => record.name === 'metrics-test')!;
    expect(sample(text, 'oruel_key_completion_tokens_total', { key_id: key.id })).toBe(sent.completionTokens);
    expect(sample(text, 'oruel_key_prompt_tokens_total', { key_id: key.id })).toBe(sent.promptTokens);
  });

  it('reports the embedded engine, the ledger and the process', () => {
    const engine = { model: MODEL, engine: `llama-cpp/${MODEL}` };
    expect(sample(text, 'oruel_embedded_sequences', engine)).toBe(2);
    expect(sample(text, 'oruel_embedded_sequences_busy', engine)).toBe(0);
    expect(sample(text, 'oruel_queued_requests', engine)).toBe(0);
    expect(sample(text, 'oruel_embedded_context_size_tokens', engine)).toBe(512);
    expect(sample(text, 'oruel_model_loaded', engine)).toBe(1);
    expect(sample(text, 'oruel_ledger_rows_written_total')).toBe(sent.requests);
    expect(sample(text, 'oruel_ledger_write_errors_total')).toBe(0);
    expect(sample(text, 'oruel_ledger_spilled_rows')).toBe(0);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('passes promtool check metrics (names, units, types)', () => {
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error, `${PROMTOOL} missing: install Debian's prometheus package (.ci/run does)`).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('promtool does fail on a badly named metric (the check is real)', () => {
    const bad =
      '# HELP oruel_bad_total a gauge named like a counter\n# TYPE oruel_bad_total gauge\noruel_bad_total 1\n';
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: bad, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/non-counter metrics should not have "_total" suffix/);
  });
});

describe('a real Prometheus scraping Oru-el', () => {
  it('answers PromQL with the TTFT count and token totals the test sent', async () => {
    const harness = await startConfiguredServer();
    const prometheus = await startPrometheus(new URL(harness.server.url).host);
    try {
      const sent = await sendRequests(harness);
      const ttftCount = `sum(oruel_time_to_first_token_seconds_count{model="${MODEL}"})`;
      const completion = `sum(oruel_completion_tokens_total{model="${MODEL}"})`;
      const prompt = `sum(oruel_prompt_tokens_total{model="${MODEL}"})`;
      const value = async (promql: string) => (await prometheus.query(promql))[0]?.value ?? null;
      // Scrapes come every 200 ms: wait for one taken after the last request.
      const seen = await eventually(
        () => value(ttftCount),
        (count) => count === sent.requests,
        20_000,
      );
      expect(seen).toBe(sent.requests);
      expect(await value(completion)).toBe(sent.completionTokens);
      expect(await value(prompt)).toBe(sent.promptTokens);
      const up = await prometheus.query('up{job="oruel"}');
      expect(up.map((series) => series.value)).toEqual([1]);
    } finally {
      await prometheus.close();
      await harness.close();
    }
  });
});

describe('requests refused by a key limit', () => {
  it('counts them as refused and names the reason', async () => {
    const harness = await startConfiguredServer();
    try {
      const { key } = await harness.server.keyStore.create({ name: 'one-per-minute', rpm: 1 });
      const client = new OpenAI({ baseURL: harness.baseURL, apiKey: key, maxRetries: 0 });
      await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 2 });
      await expect(
        client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 2 }),
      ).rejects.toMatchObject({ status: 429 });
      const text = await eventually(
        () => scrape(`${harness.server.url}/metrics`),
        (body) => sample(body, 'oruel_requests_total', { outcome: 'refused' }) === 1,
      );
      expect(sample(text, 'oruel_requests_total', { model: MODEL, outcome: 'refused', status_class: '4xx' })).toBe(1);
      expect(sample(text, 'oruel_limit_refusals_total', { reason: 'requests_per_minute' })).toBe(1);
      expect(sample(text, 'oruel_limit_refusals_total', { reason: 'budget' })).toBe(0);
    } finally {
      await harness.close();
    }
  });
});

describe('gateway deployments', () => {
  it('counts attempts, errors by kind, retries, failovers and cooldowns per deployment', async () => {
    const upstream = await FakeUpstream.start();
    const dead = await refusingUrl();
    const harness = await startConfiguredServer({
      models: [
        {
          name: 'gw',
          engine: 'openai',
          // The dead one first in weight, so the first attempt usually lands there; either way the counts add up.
          deployments: [
            { url: dead, model: 'm', weight: 1000 },
            { url: upstream.url, model: 'm', weight: 1 },
          ],
          routing: { failuresBeforeCooldown: 1, cooldownMs: 60_000 },
        },
      ],
    });
    try {
      const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
      await client.chat.completions.create({ model: 'gw', messages: MESSAGES });
      await client.chat.completions.create({ model: 'gw', messages: MESSAGES });
      const text = await scrape(`${harness.server.url}/metrics`);
      const deployments = harness.server.registry.get('gw')!.engines.map((engine) => engine.id);
      const [deadId, liveId] = deployments;
      // First request: dead (refused) -> cooldown -> retry on the live one (a failover). Second: live only.
      expect(
        sample(text, 'oruel_deployment_errors_total', { model: 'gw', deployment: deadId!, kind: 'unavailable' }),
      ).toBe(1);
      expect(sample(text, 'oruel_deployment_cooldowns_total', { model: 'gw', deployment: deadId! })).toBe(1);
      expect(sample(text, 'oruel_deployment_requests_total', { model: 'gw', deployment: deadId! })).toBe(1);
      expect(sample(text, 'oruel_deployment_requests_total', { model: 'gw', deployment: liveId! })).toBe(2);
      expect(sample(text, 'oruel_router_retries_total', { model: 'gw' })).toBe(1);
      expect(sample(text, 'oruel_router_failovers_total', { model: 'gw' })).toBe(1);
      expect(sample(text, 'oruel_deployment_healthy', { model: 'gw', deployment: deadId! })).toBe(0);
      expect(sample(text, 'oruel_deployment_healthy', { model: 'gw', deployment: liveId! })).toBe(1);
      expect(sample(text, 'oruel_requests_total', { model: 'gw', outcome: 'completed' })).toBe(2);
    } finally {
      await harness.close();
      await upstream.close();
    }
  });
});

describe('where /metrics is served', () => {
  it('on a port of its own, behind the admin token, when configured', async () => {
    const harness = await startConfiguredServer({
      admin: { token: ADMIN_TOKEN },
      metrics: { port: 0, requireAdminToken: true },
    });
    try {
      const metricsUrl = harness.server.metricsUrl!;
      expect(new URL(metricsUrl).port).not.toBe(new URL(harness.server.url).port);
      expect((await fetch(`${harness.server.url}/metrics`)).status).toBe(404);
      expect((await fetch(metricsUrl)).status).toBe(401);
      expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${harness.apiKey}` } })).status).toBe(401);
      const text = await scrape(metricsUrl, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(sample(text, 'oruel_model_loaded', { model: MODEL })).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it('nowhere when metrics are off', async () => {
    const harness = await startConfiguredServer({ metrics: { enabled: false } });
    try {
      expect(harness.server.metricsUrl).toBeNull();
      expect((await fetch(`${harness.server.url}/metrics`)).status).toBe(404);
      const client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 3 });
      expect(completion.choices[0]!.message.content).toBeTypeOf('string');
    } finally {
      await harness.close();
    }
  });
});

it('the Prometheus binaries are there (Debian package prometheus)', () => {
  expect(execFileSync(PROMTOOL, ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version/);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, startAdminTestServer, type AdminTestServer } from './admin-test-server.js';

interface SeriesJson {
  object: string;
  bucket: string;
  since: string;
  until: string;
  data: Array<{
    start: string;
    keyId: string | null;
    model: string;
    requests: number;
    totalTokens: number;
    completed: number;
    cancelled: number;
    errors: number;
  }>;
}
interface LatencyJson {
  object: string;
  data: Array<{
    model: string;
    ttftMs: { samples: number; p50: number | null };
    durationMs: { samples: number; p50: number | null; p99: number | null };
  }>;
}

/** The aggregates behind the usage dashboard, over HTTP, from requests this test makes. */
describe('admin usage series and latency', () => {
  let harness: AdminTestServer;
  beforeAll(async () => {
    harness = await startAdminTestServer();
  });
  afterAll(() => harness.close());

  it("counts this key's requests in the current hour and day, and ranks their latency per model", async () => {
    const { id, key } = await harness.createKey({ name: 'series' });
    await chat(harness.baseURL, key);
    const streamed = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 2,
        stream: true,
      }),
    });
    expect(await streamed.text()).toContain('[DONE]');
    await chat(harness.baseURL, key, { model: 'unknown-model' });
    await harness.server.ledger.flush();

    const hourly = await harness.admin<SeriesJson>('GET', `/usage/series?keyId=${id}&bucket=hour`);
    expect(hourly.status).toBe(200);
    expect(hourly.json).toMatchObject({ object: 'usage_series', bucket: 'hour', keyId: id });
    // Without a range: the last 48 hours up to now.
    expect(Date.parse(hourly.json.until) - Date.parse(hourly.json.since)).toBe(48 * 3_600_000);
    const byModel = Object.fromEntries(hourly.json.data.map((row) => [row.model, row]));
    expect(byModel['stories260K']).toMatchObject({ keyId: id, requests: 2, completed: 2, cancelled: 0, errors: 0 });
    expect(byModel['stories260K']!.totalTokens).toBeGreaterThan(0);
    expect(byModel['unknown-model']).toMatchObject({ requests: 1, errors: 1 });
    expect(Date.parse(byModel['stories260K']!.start) % 3_600_000).toBe(0);

    const daily = await harness.admin<SeriesJson>(
      'GET',
      `/usage/series?keyId=${id}&bucket=day&since=${new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)}`,
    );
    expect(daily.json.data.map((row) => [row.model, row.requests])).toEqual([
      ['stories260K', 2],
      ['unknown-model', 1],
    ]);
    expect(Date.parse(daily.json.data[0]!.start) % 86_400_000).toBe(0);

    const latency = await harness.admin<LatencyJson>('GET', `/usage/latency?keyId=${id}`);
    expect(latency.json.object).toBe('usage_latency');
    // The request for an unknown model never completed, so it is in no percentile.
    expect(latency.json.data).toHaveLength(1);
    expect(latency.json.data[0]).toMatchObject({
      model: 'stories260K',
      ttftMs: { samples: 2 },
      durationMs: { samples: 2 },
    });
    expect(latency.json.data[0]!.durationMs.p99).toBeGreaterThanOrEqual(latency.json.data[0]!.durationMs.p50!);
  });

  it('refuses a series that would answer too many buckets, or a bad bucket, with 400 naming the parameter', async () => {
    for (const [query, param] of [
      ['bucket=minute', 'bucket'],
      ['bucket=hour&since=2020-01-01&until=2021-01-01', 'since'],
      ['bucket=day&since=2020-01-02&until=2020-01-01', 'since'],
      ['until=nope', 'until'],
    ] as const) {
      const response = await harness.admin<{ error: { param: string; type: string } }>('GET', `/usage/series?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.json.error).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect((await harness.admin('GET', '/usage/latency?since=bad')).status).toBe(400);
  });
});

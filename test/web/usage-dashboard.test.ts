import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/api.js';
import {
  ADMIN_TOKEN,
  layoutProblems,
  MODELS,
  screenshot,
  startWebHarness,
  VIEWPORTS,
  type WebHarness,
} from './web-harness.js';

/**
 * The usage dashboard at `/usage`, in real Chromium, after requests this test makes through the
 * public API: two keys, completed, failed and cancelled requests. The page must find those counts.
 */

let harness: WebHarness;
let alice: { id: string; key: string };
let bob: { id: string; key: string };

async function chat(key: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${harness.origin}/v1/inference/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 8, ...body }),
  });
}

/** A streamed request the client abandons after its first bytes: the ledger's `cancelled`. */
async function cancelledRequest(key: string): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(`${harness.origin}/v1/inference/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODELS.long,
      messages: [{ role: 'user', content: 'Go on' }],
      max_tokens: 3500,
      stream: true,
    }),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.read().catch(() => undefined);
}

beforeAll(async () => {
  harness = await startWebHarness();
  alice = await harness.createKey('alice');
  bob = await harness.createKey('bob');
  await (await chat(alice.key, { model: MODELS.stories })).text();
  await (await chat(alice.key, { model: MODELS.stories })).text();
  expect((await chat(alice.key, { model: 'unknown-model' })).status).toBe(404);
  await (await chat(bob.key, { model: MODELS.stories, stream: true })).text();
  await cancelledRequest(bob.key);
  await eventually(
    async () => {
      await harness.server.ledger.flush();
      return harness.server.ledger.rows({});
    },
    (rows) => rows.length === 5 && rows.some((row) => row.outcome === 'cancelled'),
  );
});
afterAll(() => harness?.close());

async function openDashboard(
  viewport: { width: number; height: number } = VIEWPORTS.desktop,
): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await harness.newPage(viewport);
  await page.goto(`${harness.origin}/usage`);
  await page.fill('#admin-token', ADMIN_TOKEN);
  await page.click('#load');
  await page.locator('#totals table').waitFor();
  return { page, problems };
}

async function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page
    .locator(`${selector} tbody tr`)
    .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
}

async function legend(page: Page, chart: string): Promise<string[]> {
  return page.locator(`#${chart} .u-legend .u-label`).allTextContents();
}

describe('the usage dashboard in Chromium', () => {
  it('shows the requests, tokens, errors and cancellations this test made, per key (by name) and model', async () => {
    const { page, problems } = await openDashboard();
    expect(await page.textContent('#tile-requests .tile-value')).toBe('5');
    expect(await page.textContent('#tile-errors .tile-value')).toBe('1');
    expect(await page.textContent('#tile-cancelled .tile-value')).toBe('1');

    const totals = await harness.server.ledger.totals({});
    const rows = await tableRows(page, '#totals');
    const names = new Map([
      [alice.id, 'alice'],
      [bob.id, 'bob'],
    ]);
    // Key, Model, Requests, Prompt, Completion, Total, Completed, Cancelled, Errors: the ledger's numbers, keys by name.
    expect(rows.sort()).toEqual(
      totals
        .map((row) => [
          names.get(row.keyId!)!,
          row.model,
          ...[
            row.requests,
            row.promptTokens,
            row.completionTokens,
            row.totalTokens,
            row.completed,
            row.cancelled,
            row.errors,
          ].map((value) => value.toLocaleString('en-US')),
        ])
        .sort(),
    );
    expect(rows.find((row) => row[0] === 'alice' && row[1] === MODELS.stories)?.slice(2, 3)).toEqual(['2']);
    expect(rows.find((row) => row[0] === 'bob' && row[1] === MODELS.long)?.[7]).toBe('1');
    const tokens = totals.reduce((sum, row) => sum + row.totalTokens, 0);
    expect(await page.textContent('#tile-tokens .tile-value')).toBe(tokens.toLocaleString('en-US'));

    const latency = await tableRows(page, '#latency');
    const stories = latency.find((row) => row[0] === MODELS.stories)!;
    expect(stories[1]).toBe('3');
    for (const cell of stories.slice(2)) expect(cell).toMatch(/^\d[\d,]* ms$/);

    // Charts: one line per key, then per model when asked.
    expect(await page.locator('#chart-requests canvas').count()).toBe(1);
    expect((await legend(page, 'chart-requests')).sort()).toEqual(['UTC', 'alice', 'bob']);
    expect(await legend(page, 'chart-failures')).toEqual(['UTC', 'errors', 'cancelled']);
    await page.selectOption('#group', 'model');
    expect((await legend(page, 'chart-tokens')).sort()).toEqual(
      ['UTC', MODELS.long, MODELS.stories, 'unknown-model'].sort(),
    );
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("charts the counts per hour: hovering the current hour shows each key's requests in the legend", async () => {
    const { page } = await openDashboard();
    // The range ends now, so the last hourly point is the current hour, which holds every request made here.
    const plot = page.locator('#chart-requests .u-over');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const values = async () =>
      page
        .locator('#chart-requests .u-legend .u-series')
        .evaluateAll((rows) =>
          rows.map((row) => [row.querySelector('.u-label')?.textContent, row.querySelector('.u-value')?.textContent]),
        );
    // alice: two completed and one refused (unknown model); bob: one completed, one cancelled.
    await expect.poll(async () => Object.fromEntries(await values())).toMatchObject({ alice: '3', bob: '2' });
    await page.context().close();
  });

  it('exports the per-hour rows as CSV, keys by id and name', async () => {
    const { page } = await openDashboard();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toMatch(/^oruel-usage-hour-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'bucket_start,key_id,key_name,model,requests,prompt_tokens,completion_tokens,total_tokens,completed,cancelled,errors',
    );
    const requests = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[4]), 0);
    expect(requests).toBe(5);
    expect(lines.some((line) => line.includes(`,${alice.id},alice,${MODELS.stories},2,`))).toBe(true);
    await page.context().close();
  });

  it("per day over the last 7 days gives the same counts; a wrong admin token shows the API's message", async () => {
    const { page } = await openDashboard();
    await page.selectOption('#range', '168');
    expect(await page.inputValue('#bucket')).toBe('day');
    await page.click('#load');
    await page.locator('#status', { hasText: 'per day' }).waitFor();
    expect(await page.textContent('#tile-requests .tile-value')).toBe('5');

    // A custom range of whole UTC days: today alone holds them all, yesterday none.
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.selectOption('#range', 'custom');
    await page.fill('#since', today);
    await page.fill('#until', today);
    await page.click('#load');
    await page.locator('#status', { hasText: `${today} 00:00 – ` }).waitFor();
    expect(await page.textContent('#tile-requests .tile-value')).toBe('5');
    await page.fill('#since', yesterday);
    await page.fill('#until', yesterday);
    await page.click('#load');
    await page.locator('#status', { hasText: `${yesterday} 00:00 – ${today} 00:00` }).waitFor();
    expect(await page.textContent('#tile-requests .tile-value')).toBe('0');
    expect(await page.textContent('#totals td.empty')).toBe('No requests in this range.');

    await page.fill('#admin-token', 'wrong-token');
    await page.click('#load');
    await page.locator('#status', { hasText: 'Incorrect admin token provided.' }).waitFor();
    expect(await page.textContent('#status')).toBe('401 invalid_admin_token: Incorrect admin token provided.');
    await page.context().close();
  });
});

describe('the usage dashboard layout', () => {
  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    it(`has no overlapping, cut-off or off-screen text at ${viewport.width}x${viewport.height}`, async () => {
      const { page, problems } = await openDashboard(viewport);
      await screenshot(page, `usage-${viewport.width}x${viewport.height}`);
      expect(await layoutProblems(page), name).toEqual([]);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }
});

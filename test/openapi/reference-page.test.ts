import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConfiguredServer, type MetricsTestServer } from '../metrics/metrics-server.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('the interactive API reference in Chromium', () => {
  let harness: MetricsTestServer;
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`).toBe(true);
    harness = await startConfiguredServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  it('renders every operation from Oru-el alone (no request leaves the server) and runs one with "Try it out"', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    try {
      const response = await page.goto(`${harness.server.url}/v1/inference/reference/`);
      expect(response?.status()).toBe(200);
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      await expect.poll(() => page.locator('.title').first().textContent()).toContain('Oru-el API');
      const paths = await page.locator('.opblock-summary-path').allTextContents();
      const flat = paths.map((path) => path.replace(/\u200b/g, ''));
      expect(flat).toEqual(
        expect.arrayContaining([
          '/v1/inference/chat/completions',
          '/v1/inference/models',
          '/healthz',
          '/v1/admin/keys',
        ]),
      );

      // Interactive: open GET /healthz, "Try it out", "Execute": the page calls the server and shows its answer.
      const health = page
        .locator('.opblock-get', { has: page.locator('.opblock-summary-path', { hasText: '/healthz' }) })
        .first();
      await health.locator('.opblock-summary').click();
      await health.getByRole('button', { name: 'Try it out' }).click();
      await health.getByRole('button', { name: 'Execute' }).click();
      await expect
        .poll(() => health.locator('.live-responses-table tbody .response-col_status').first().textContent(), {
          timeout: 15_000,
        })
        .toContain('200');
      expect(await health.locator('.live-responses-table .microlight').first().textContent()).toContain(
        '"status": "ok"',
      );

      const origin = new URL(harness.server.url).origin;
      expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))).toEqual([]);
      expect(requested).toContain(`${origin}/v1/inference/openapi.json`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('serves only the renderer files it needs from node_modules', async () => {
    expect((await fetch(`${harness.server.url}/v1/inference/reference/swagger-ui-bundle.js`)).status).toBe(200);
    expect((await fetch(`${harness.server.url}/v1/inference/reference/package.json`)).status).toBe(404);
    expect((await fetch(`${harness.server.url}/v1/inference/reference/index.html`)).status).toBe(404);
    const redirect = await fetch(`${harness.server.url}/v1/inference/reference`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/v1/inference/reference/');
  });
});

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';
import { buildWeb } from '../../scripts/build-web.js';
import { configSchema } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { REPO_ROOT, STORIES_TOOLS_MODEL, TINY_RANDOM_MODEL } from '../helpers/paths.js';
import { storiesModel } from '../helpers/test-server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const ADMIN_TOKEN = 'web-admin-token-0123456789';
/** Screenshots land here (git-ignored), for people to look at. */
const ARTIFACTS_DIR = resolve(REPO_ROOT, 'test-artifacts/web');
export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** Served models: stories260K (text), the tools fixture, a long-talking random model, and a gateway model in front of a fake upstream. */
export const MODELS = {
  stories: storiesModel.name,
  tools: 'stories-tools',
  long: 'tiny-random',
  flaky: 'flaky-upstream',
} as const;

export interface WebHarness {
  server: RunningServer;
  origin: string;
  upstream: FakeUpstream;
  browser: Browser;
  /** A key named `name`; returns its id and secret. */
  createKey(name: string): Promise<{ id: string; key: string }>;
  /** A fresh browser context (own storage) at this viewport, collecting page errors. */
  newPage(viewport?: {
    width: number;
    height: number;
  }): Promise<{ page: Page; context: BrowserContext; problems: string[] }>;
  close(): Promise<void>;
}

/**
 * Builds the pages from the current source into a temporary directory (the same build `npm run
 * build:web` makes), serves them from a real server with the fixture models and opens Chromium.
 */
export async function startWebHarness(): Promise<WebHarness> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the web tests need it. Install it with: apt-get install -y chromium`,
    );
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-web-test-'));
  const webRoot = join(dataDir, 'web');
  await buildWeb(webRoot);
  const upstream = await FakeUpstream.start({ tokenDelayMs: 5 });
  const config = configSchema.parse({
    server: { port: 0, logLevel: 'silent' },
    database: { url: `sqlite:${join(dataDir, 'oruel.db')}` },
    admin: { token: ADMIN_TOKEN },
    modelsDir: join(dataDir, 'models'),
    threads: 1,
    models: [
      storiesModel,
      { name: MODELS.tools, engine: 'llama-cpp', path: STORIES_TOOLS_MODEL, sequences: 1, contextSize: 2048 },
      { name: MODELS.long, engine: 'llama-cpp', path: TINY_RANDOM_MODEL, sequences: 1, contextSize: 4096 },
      { name: MODELS.flaky, engine: 'openai', deployments: [{ url: upstream.url, model: 'upstream-model' }] },
    ],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), announce: () => undefined, webRoot });
  await server.ready;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return {
    server,
    origin: server.url,
    upstream,
    browser,
    createKey: async (name) => {
      const created = await server.keyStore.create({ name });
      return { id: created.record.id, key: created.key };
    },
    newPage: async (viewport = VIEWPORTS.desktop) => {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      return { page, context, problems };
    },
    close: async () => {
      await browser.close();
      await server.close();
      await upstream.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LayoutProblem {
  kind: 'overlap' | 'cut-off' | 'off-screen';
  text: string;
  detail: string;
}

/**
 * Text that overlaps other text, is clipped by its box, or sticks out of the viewport: checked on
 * every visible element that holds text itself, from bounding boxes and scroll sizes; nothing is
 * exempt (tables and code wrap or reflow rather than scroll sideways).
 */
/** Runs in the page (as source text: the test project has no DOM types). */
const LAYOUT_CHECK_SOURCE = `(() => {
    const problems = [];
    const viewportWidth = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > viewportWidth + 1) {
      problems.push({ kind: 'off-screen', text: '(page)', detail: \`page is \${document.documentElement.scrollWidth}px wide in a \${viewportWidth}px viewport\` });
    }
    const visible = (element) => {
      const style = getComputedStyle(element);
      const rect = element.getBoundingClientRect();
      return style.visibility !== 'hidden' && style.display !== 'none' && rect.width > 0 && rect.height > 0 && element.closest('details:not([open]) > :not(summary)') === null;
    };
    const ownText = (element) =>
      [...element.childNodes]
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? '')
        .join('')
        .trim();
    const texts = [];
    for (const element of document.body.querySelectorAll('*')) {
      if (['SCRIPT', 'STYLE', 'OPTION', 'TEXTAREA', 'SELECT', 'INPUT'].includes(element.tagName) || !visible(element)) continue;
      const text = ownText(element);
      if (text === '') continue;
      // Text ranges, not element boxes: a block's box is wider than its words.
      const range = document.createRange();
      range.selectNodeContents(element);
      const rect = range.getBoundingClientRect();
      texts.push({ element, rect, text: text.slice(0, 60) });
      const style = getComputedStyle(element);
      const clips = ['hidden', 'clip', 'scroll', 'auto'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
      if (clips && element.scrollWidth > element.clientWidth + 1) {
        problems.push({ kind: 'cut-off', text: text.slice(0, 60), detail: \`scrollWidth \${element.scrollWidth} > clientWidth \${element.clientWidth}\` });
      }
      if ((rect.right > viewportWidth + 1 || rect.left < -1)) {
        problems.push({ kind: 'off-screen', text: text.slice(0, 60), detail: \`spans x \${Math.round(rect.left)}..\${Math.round(rect.right)} of \${viewportWidth}\` });
      }
    }
    // Controls' text is drawn inside their own box: those boxes must not overlap text or each other either.
    for (const element of document.body.querySelectorAll('input, select, textarea, button')) {
      if (!visible(element)) continue;
      texts.push({ element, rect: element.getBoundingClientRect(), text: \`<\${element.tagName.toLowerCase()}#\${element.id}>\` });
    }
    for (let a = 0; a < texts.length; a += 1) {
      for (let b = a + 1; b < texts.length; b += 1) {
        const first = texts[a];
        const second = texts[b];
        if (first.element.contains(second.element) || second.element.contains(first.element)) continue;
        const overlapX = Math.min(first.rect.right, second.rect.right) - Math.max(first.rect.left, second.rect.left);
        const overlapY = Math.min(first.rect.bottom, second.rect.bottom) - Math.max(first.rect.top, second.rect.top);
        if (overlapX > 1 && overlapY > 1) problems.push({ kind: 'overlap', text: first.text, detail: \`overlaps "\${second.text}" by \${Math.round(overlapX)}x\${Math.round(overlapY)}px\` });
      }
    }
    return problems;
})()`;

export async function layoutProblems(page: Page): Promise<LayoutProblem[]> {
  return (await page.evaluate(LAYOUT_CHECK_SOURCE)) as LayoutProblem[];
}

/** Full-page screenshot under test-artifacts/web/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

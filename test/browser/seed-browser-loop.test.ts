import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM } from '../helpers/chromium.js';
import { startPageServer, type PageServer } from '../helpers/page-server.js';
import { RECORDING_FETCH_SOURCE, seedBrowserStreamChatSource } from '../helpers/seed-examples.js';
import { parseStrict } from '../helpers/sse-strict.js';
import { startTestServer, storiesModel, type TestServer } from '../helpers/test-server.js';

/**
 * The seed page's "Browser (fetch API)" example: `streamChat(messages)` with fetch + getReader +
 * TextDecoder, split on "\n", the `data: ` prefix and `[DONE]`. Its source is cut from the seed page
 * itself (only base URL, key and model replaced) and run twice: in Node, and in real headless Chromium
 * on a page from another origin, so the CORS preflight, exposed headers and streaming body are the
 * browser's own. The official openai SDK also runs in that page, as its browser users run it.
 */

const MODEL = 'stories260K';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface RecordedResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}
interface SeedRun {
  output: string;
  responses: RecordedResponse[];
  error: string | null;
}

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});
afterAll(async () => api?.close());

/** All `choices[0].delta.content` of a recorded stream, parsed strictly (framing errors fail the test). */
function contentOfStream(text: string): string {
  const strict = parseStrict(text);
  expect(strict.problems).toEqual([]);
  expect(strict.events.at(-1)?.data).toBe('[DONE]');
  let content = '';
  for (const event of strict.events) {
    if (event.data === '[DONE]') continue;
    const chunk = JSON.parse(event.data) as { choices: { delta: { content?: string } }[] };
    expect(chunk.choices.length).toBeGreaterThan(0);
    content += chunk.choices[0]?.delta.content ?? '';
  }
  return content;
}

function expectFaithfulRun(run: SeedRun): void {
  expect(run.error).toBeNull();
  expect(run.responses).toHaveLength(1);
  const response = run.responses[0]!;
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
  // What the loop appended to #output is exactly every token of the stream, in order.
  const streamed = contentOfStream(response.text);
  expect(streamed.length).toBeGreaterThan(0);
  expect(run.output).toBe(streamed);
}

describe('the seed browser loop, in Node', () => {
  type Fetch = typeof fetch;
  const makeRecordingFetch = new Function(`${RECORDING_FETCH_SOURCE}\nreturn makeRecordingFetch;`)() as (
    inner: Fetch,
  ) => {
    fetch: Fetch;
    recorded: { status: number; headers: Record<string, string>; text: Promise<string> }[];
  };

  /** Runs the seed's streamChat with its globals (`fetch`, `document`) provided, returns what it displayed. */
  async function runSeedInNode(innerFetch: Fetch): Promise<SeedRun> {
    const source = seedBrowserStreamChatSource({ baseURL: api.baseURL, apiKey: api.apiKey, model: MODEL });
    const output = { textContent: '' };
    const document = { getElementById: (id: string) => (id === 'output' ? output : null) };
    const { fetch: recordingFetch, recorded } = makeRecordingFetch(innerFetch);
    const streamChat = new Function('fetch', 'document', `${source}\nreturn streamChat;`)(recordingFetch, document) as (
      messages: unknown[],
    ) => Promise<void>;
    let error: string | null = null;
    await streamChat([{ role: 'user', content: 'Once upon a time' }]).catch(
      (caught: unknown) => (error = String(caught)),
    );
    const responses = await Promise.all(
      recorded.map(async (entry) => ({ status: entry.status, headers: entry.headers, text: await entry.text })),
    );
    return { output: output.textContent, responses, error };
  }

  it('displays every token of the stream and stops at [DONE]', async () => {
    const run = await runSeedInNode(fetch);
    expectFaithfulRun(run);
  });

  it('still displays every token when the network splits the bytes at every awkward place', async () => {
    // Re-deliver the body in 1..7-byte pieces: lines, JSON and multi-byte characters all get cut.
    const splittingFetch: Fetch = async (input, init) => {
      const response = await fetch(input, init);
      let seed = 7;
      const splitter = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          for (let offset = 0; offset < chunk.length;) {
            seed = (seed * 1103515245 + 12345) % 2 ** 31;
            const size = 1 + (seed % 7);
            controller.enqueue(chunk.subarray(offset, offset + size));
            offset += size;
          }
        },
      });
      return new Response(response.body!.pipeThrough(splitter), { status: response.status, headers: response.headers });
    };
    const run = await runSeedInNode(splittingFetch);
    expectFaithfulRun(run);
  });
});

describe('CORS preflight, as browsers and the OpenAI JS SDK send it', () => {
  it('allows any origin, echoes the requested headers (X-Stainless-* included) and exposes x-request-id and rate-limit headers', async () => {
    const requested =
      'authorization,content-type,x-stainless-os,x-stainless-lang,x-stainless-package-version,x-stainless-retry-count,x-stainless-timeout';
    const response = await fetch(`${api.baseURL}/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': requested,
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(['*', 'http://app.example.test']).toContain(response.headers.get('access-control-allow-origin'));
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    for (const header of requested.split(',')) expect(allowed).toContain(header);
    expect((response.headers.get('access-control-allow-methods') ?? '').toUpperCase()).toContain('POST');

    const actual = await fetch(`${api.baseURL}/models`, {
      headers: { origin: 'http://app.example.test', authorization: `Bearer ${api.apiKey}` },
    });
    const exposed = (actual.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    for (const header of [
      'x-request-id',
      'retry-after',
      'x-ratelimit-limit-requests',
      'x-ratelimit-remaining-requests',
      'x-ratelimit-reset-requests',
      'x-ratelimit-limit-tokens',
      'x-ratelimit-remaining-tokens',
      'x-ratelimit-reset-tokens',
    ]) {
      expect(exposed).toContain(header);
    }
  });
});

describe('in headless Chromium, on a page from another origin', () => {
  let browser: Browser;
  let pages: PageServer;
  /** A server that allows one other origin only: the control that proves the browser enforces CORS here. */
  let locked: TestServer;
  const problems: string[] = [];

  // A missing browser fails every test below with this message (never a silent skip).
  const missingChromium = !existsSync(CHROMIUM);
  const MISSING_CHROMIUM = `Chromium is not installed at ${CHROMIUM}; the browser tests need it. Install it with: apt-get install -y chromium`;

  beforeAll(async () => {
    if (missingChromium) return;
    locked = await startTestServer({
      models: [{ ...storiesModel, sequences: 1 }],
      server: { corsOrigins: ['http://allowed.example.test'] },
    });
    const seedPage = (server: TestServer) =>
      `<!doctype html><html><head><meta charset="utf-8"><title>seed</title></head><body><div id="output"></div>` +
      `<script>${RECORDING_FETCH_SOURCE}\n${seedBrowserStreamChatSource({ baseURL: server.baseURL, apiKey: server.apiKey, model: MODEL })}</script></body></html>`;
    pages = await startPageServer({
      '/seed.html': seedPage(api),
      '/seed-locked.html': seedPage(locked),
      '/sdk.html':
        `<!doctype html><html><head><meta charset="utf-8"><title>sdk</title></head><body>` +
        `<script type="module">import OpenAI from '/openai/index.mjs'; window.OpenAI = OpenAI; window.sdkLoaded = true;</script></body></html>`,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await locked?.close();
  });

  async function open(path: string, expectProblems = false): Promise<Page> {
    if (missingChromium) throw new Error(MISSING_CHROMIUM);
    const page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectProblems) problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${pages.origin}${path}`);
    return page;
  }

  /** Calls the page's own streamChat (the seed code) with its fetch recorded. */
  const RUN_SEED = `(async () => {
    const { fetch: recordingFetch, recorded } = makeRecordingFetch(window.fetch.bind(window));
    window.fetch = recordingFetch;
    let error = null;
    try { await streamChat([{ role: 'user', content: 'Once upon a time' }]); } catch (caught) { error = String(caught); }
    const responses = [];
    for (const entry of recorded) responses.push({ status: entry.status, headers: entry.headers, text: await entry.text });
    return { output: document.getElementById('output').textContent, responses, error };
  })()`;

  it('the seed loop streams into #output cross-origin and can read the exposed x-request-id', async () => {
    problems.length = 0;
    const page = await open('/seed.html');
    expect(new URL(page.url()).origin).not.toBe(new URL(api.baseURL).origin);
    const run = (await page.evaluate(RUN_SEED)) as SeedRun;
    expectFaithfulRun(run);
    // Only exposed (or CORS-safelisted) headers are visible to a cross-origin page.
    expect(run.responses[0]!.headers['x-request-id']).toMatch(/\S+/);
    expect(await page.locator('#output').textContent()).toBe(run.output);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("control: a server that does not allow the page's origin is refused by the browser (so CORS is really checked)", async () => {
    const page = await open('/seed-locked.html', true);
    const run = (await page.evaluate(RUN_SEED)) as SeedRun;
    expect(run.error).toMatch(/TypeError/);
    expect(run.responses).toEqual([]);
    expect(run.output).toBe('');
    await page.close();
  });

  it('the official openai SDK runs in the page: streaming, non-streaming, models, errors', async () => {
    problems.length = 0;
    const page = await open('/sdk.html');
    await page.waitForFunction('window.sdkLoaded === true');
    const result = (await page.evaluate(`(async () => {
      const client = new OpenAI({ baseURL: ${JSON.stringify(api.baseURL)}, apiKey: ${JSON.stringify(api.apiKey)}, dangerouslyAllowBrowser: true, maxRetries: 0 });
      const params = { model: ${JSON.stringify(MODEL)}, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 24, temperature: 0 };
      const stream = await client.chat.completions.create({ ...params, stream: true });
      let text = '', finish = null, usage = null, chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      const { data: completion, request_id } = await client.chat.completions.create(params).withResponse();
      const helper = await client.chat.completions.stream(params).finalChatCompletion();
      const models = (await client.models.list()).data.map((model) => model.id);
      let notFound = null;
      try { await client.models.retrieve('no-such-model'); } catch (error) {
        notFound = { name: error.constructor.name, status: error.status, code: error.code, requestID: error.requestID };
      }
      return { text, finish, usage, chunks, completion, request_id, helper, models, notFound };
    })()`)) as {
      text: string;
      finish: string;
      usage: { completion_tokens: number; prompt_tokens: number; total_tokens: number } | null;
      chunks: number;
      completion: { choices: { message: { content: string }; finish_reason: string }[]; usage: unknown };
      request_id: string | null;
      helper: { choices: { message: { content: string } }[]; usage: unknown };
      models: string[];
      notFound: { name: string; status: number; code: string; requestID: string | null } | null;
    };
    expect(result.chunks).toBeGreaterThan(2);
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.finish).toBe('length');
    expect(result.usage?.completion_tokens).toBe(24);
    expect(result.completion.choices[0]!.message.content).toBe(result.text);
    // The same prompt three times: only how much of it the engine still held (cached_tokens) may differ.
    const counts = (usage: unknown) => ({ ...(usage as object), prompt_tokens_details: undefined });
    expect(counts(result.completion.usage)).toStrictEqual(counts(result.usage));
    expect(result.request_id).toMatch(/\S+/);
    expect(result.helper.choices[0]!.message.content).toBe(result.text);
    expect(counts(result.helper.usage)).toStrictEqual(counts(result.usage));
    expect(result.models).toEqual([MODEL]);
    expect(result.notFound).toMatchObject({ name: 'NotFoundError', status: 404, code: 'model_not_found' });
    expect(result.notFound?.requestID).toMatch(/\S+/);
    // A 404 logs "Failed to load resource" in the console; anything else (CORS, exceptions) is a failure.
    expect(problems.filter((problem) => !/status of 404/.test(problem))).toEqual([]);
    await page.close();
  });
});

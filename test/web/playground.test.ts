import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { eventually } from '../helpers/api.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { parseStrict } from '../helpers/sse-strict.js';
import { weatherTool } from '../tools/tool-helpers.js';
import { installProbes, probe, recordedExchanges, type RecordedExchange } from './page-probes.js';
import { layoutProblems, MODELS, screenshot, startWebHarness, VIEWPORTS, type WebHarness } from './web-harness.js';

/**
 * The playground at `/`, in real Chromium against a real server: it talks to the public API as the
 * product's browser example does, so each test checks the page and the contract together.
 */

const run = promisify(execFile);
let harness: WebHarness;
let apiKey: string;

beforeAll(async () => {
  harness = await startWebHarness();
  ({ key: apiKey } = await harness.createKey('playground'));
});
afterAll(() => harness?.close());

interface Settings {
  model: string;
  temperature?: string;
  maxTokens?: string;
  system?: string;
}

/** A fresh page with the key entered (kept in localStorage) and the settings filled in. */
async function openPlayground(
  settings: Settings,
  viewport: { width: number; height: number } = VIEWPORTS.desktop,
): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await harness.newPage(viewport);
  await installProbes(page);
  await page.goto(`${harness.origin}/`);
  await page.fill('#api-key', apiKey);
  await page.press('#api-key', 'Tab');
  await expect.poll(() => page.locator('#model option').count()).toBe(Object.keys(MODELS).length);
  await page.selectOption('#model', settings.model);
  if (settings.temperature !== undefined) await page.fill('#temperature', settings.temperature);
  if (settings.maxTokens !== undefined) await page.fill('#max-tokens', settings.maxTokens);
  if (settings.system !== undefined) await page.fill('#system', settings.system);
  return { page, problems };
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#prompt', text);
  await page.press('#prompt', 'Enter');
}

/** Waits until the newest answer card is finished (its stats line replaced "waiting"). */
async function lastAnswerDone(page: Page, count = 1): Promise<void> {
  // Locators, not waitForFunction: the page's CSP forbids the eval that string predicates need.
  await page
    .locator('.msg.assistant:not([aria-busy])')
    .nth(count - 1)
    .waitFor({ timeout: 60_000 });
}

function chatExchanges(exchanges: RecordedExchange[]): RecordedExchange[] {
  return exchanges.filter((exchange) => exchange.url.endsWith('/v1/inference/chat/completions'));
}

interface WireChunk {
  choices: {
    delta: { content?: string; tool_calls?: { index: number; function?: { name?: string; arguments?: string } }[] };
    finish_reason: string | null;
  }[];
  usage?: { completion_tokens: number; prompt_tokens: number } | null;
  error?: { message: string };
}

function chunksOf(text: string): WireChunk[] {
  const strict = parseStrict(text);
  return strict.events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data) as WireChunk);
}

async function ledgerRow(
  requestId: string,
  predicate: (row: LedgerRecord) => boolean = () => true,
): Promise<LedgerRecord | undefined> {
  const rows = await eventually(
    async () => {
      await harness.server.ledger.flush();
      return (await harness.server.ledger.rows({})).filter((row) => row.requestId === requestId);
    },
    (found) => found.some(predicate),
  );
  return rows.find(predicate);
}

async function statText(page: Page, name: string): Promise<string> {
  return (await page.locator(`.msg.assistant >> nth=-1 >> .stat-${name}`).textContent()) ?? '';
}

describe('serving the pages', () => {
  it('serves /, /usage and their bundled assets from this server, with a same-origin CSP', async () => {
    for (const [path, type] of [
      ['/', /^text\/html/],
      ['/usage', /^text\/html/],
      ['/ui/playground.js', /^text\/javascript/],
      ['/ui/usage.css', /^text\/css/],
    ] as const) {
      const response = await fetch(`${harness.origin}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(type);
      expect(response.headers.get('content-security-policy'), path).toContain("connect-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const html = await (await fetch(`${harness.origin}/`)).text();
    // Everything the page loads comes from this server: no CDN.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const path of ['/ui/nope.js', '/ui/..%2f..%2fpackage.json', '/ui/']) {
      const response = await fetch(`${harness.origin}${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
  });
});

describe('the playground in Chromium', () => {
  it('lists the models with what the server says about them and remembers the key in localStorage', async () => {
    const { page, problems } = await openPlayground({ model: MODELS.tools });
    const ids = await page
      .locator('#model option')
      .evaluateAll((options) => options.map((option) => option.getAttribute('value')));
    expect(ids.sort()).toEqual(Object.values(MODELS).sort());
    // The info line shows only fields the server sent; with none of them it is empty, never "undefined".
    const info = (await page.textContent('#model-info')) ?? '';
    expect(info).not.toMatch(/undefined|null|NaN/);
    const models = (await (
      await fetch(`${harness.origin}/v1/inference/models`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as { data: { id: string; context_length?: number; engine?: string }[] };
    const tools = models.data.find((model) => model.id === MODELS.tools)!;
    if (tools.engine !== undefined) expect(info).toContain(tools.engine);
    if (typeof tools.context_length === 'number') expect(info).toContain(tools.context_length.toLocaleString('en-US'));

    await page.reload();
    expect(await page.inputValue('#api-key')).toBe(apiKey);
    await expect.poll(() => page.locator('#model option').count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows context length, capabilities, engine and status when GET /models has them, and nothing it was not told', async () => {
    // The tools model shows what the server really says; the stories model is rewritten to a loading
    // state; the gateway model is stripped to OpenAI's own fields, as another server would send.
    const { page, problems } = await harness.newPage();
    await page.route('**/v1/inference/models', async (route) => {
      const real = (await (await route.fetch()).json()) as { data: Record<string, unknown>[] };
      const data = real.data.map((entry) =>
        entry['id'] === MODELS.stories
          ? {
              ...entry,
              context_length: null,
              capabilities: { tools: false, json_schema: false },
              engine: 'llama-cpp',
              status: 'loading',
            }
          : entry['id'] === MODELS.flaky
            ? { id: entry['id'], object: entry['object'], created: entry['created'], owned_by: entry['owned_by'] }
            : entry,
      );
      await route.fulfill({ json: { ...real, data } });
    });
    await page.goto(`${harness.origin}/`);
    await page.fill('#api-key', apiKey);
    await page.press('#api-key', 'Tab');
    await expect.poll(() => page.locator('#model option').count()).toBe(Object.keys(MODELS).length);
    await page.selectOption('#model', MODELS.tools);
    expect(await page.textContent('#model-info')).toMatch(
      /^llama-cpp · loaded · [\d,]+ tokens context · tools, json_schema$/,
    );
    await page.selectOption('#model', MODELS.stories);
    expect(await page.textContent('#model-info')).toBe('llama-cpp · loading · text only');
    await page.selectOption('#model', MODELS.flaky);
    expect(await page.textContent('#model-info')).toBe('');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('streams the answer one SSE event at a time and shows TTFT, speed, usage and the finish reason', async () => {
    const { page, problems } = await openPlayground({
      model: MODELS.stories,
      temperature: '0',
      maxTokens: '40',
      system: 'You tell stories.',
    });
    await send(page, 'Once upon a time');
    await lastAnswerDone(page);

    const [exchange] = chatExchanges(await recordedExchanges(page));
    expect(exchange!.status).toBe(200);
    const body = JSON.parse(exchange!.body!) as Record<string, unknown>;
    expect(body).toMatchObject({
      model: MODELS.stories,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      max_tokens: 40,
    });
    expect(body['messages']).toEqual([
      { role: 'system', content: 'You tell stories.' },
      { role: 'user', content: 'Once upon a time' },
    ]);
    const chunks = chunksOf(exchange!.text!);
    const contentEvents = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').filter((text) => text !== '');
    const { contentChanges, contentBatches } = await probe(page);
    // One DOM change per content event: the page neither buffers the answer nor drops a piece.
    expect(contentEvents.length).toBeGreaterThan(5);
    expect(contentChanges).toBe(contentEvents.length);
    expect(contentBatches).toBeGreaterThan(1);
    expect(await page.locator('.msg.assistant .content').textContent()).toBe(contentEvents.join(''));

    const usage = chunks.at(-1)!.usage!;
    expect(await statText(page, 'finish')).toBe('finish length');
    expect(await statText(page, 'completion')).toBe(`completion ${usage.completion_tokens} tok`);
    expect(await statText(page, 'prompt')).toBe(`prompt ${usage.prompt_tokens} tok`);
    expect(await statText(page, 'ttft')).toMatch(/^TTFT \d[\d,]* ms$/);
    expect(await statText(page, 'speed')).toMatch(/^speed \d[\d,]*\.\d tok\/s$/);
    const requestId = (await statText(page, 'id')).replace(/^id /, '');
    expect((await ledgerRow(requestId))?.outcome).toBe('completed');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('Escape stops a long answer mid-stream and the ledger records the request as cancelled', async () => {
    const { page, problems } = await openPlayground({ model: MODELS.long, temperature: '1', maxTokens: '3500' });
    await send(page, 'Tell me everything');
    await expect
      .poll(async () => ((await page.locator('.msg.assistant .content').textContent()) ?? '').length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(20);
    expect(await page.isEnabled('#stop')).toBe(true);
    await page.keyboard.press('Escape');
    await lastAnswerDone(page);
    expect(await page.textContent('#status')).toBe('Stopped.');
    expect(await statText(page, 'finish')).toBe('finish stopped');
    expect(await page.isEnabled('#send')).toBe(true);
    expect(await page.isDisabled('#stop')).toBe(true);
    const requestId = (await statText(page, 'id')).replace(/^id /, '');
    const row = await ledgerRow(requestId, (found) => found.outcome === 'cancelled');
    expect(row?.outcome).toBe('cancelled');
    expect(row!.completionTokens).toBeLessThan(3500);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('the Stop button aborts the stream too, and the next message works', async () => {
    const { page, problems } = await openPlayground({ model: MODELS.long, temperature: '1', maxTokens: '3500' });
    await send(page, 'Keep going');
    await expect
      .poll(async () => ((await page.locator('.msg.assistant .content').textContent()) ?? '').length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(20);
    await page.click('#stop');
    await lastAnswerDone(page);
    expect(await statText(page, 'finish')).toBe('finish stopped');
    const requestId = (await statText(page, 'id')).replace(/^id /, '');
    expect((await ledgerRow(requestId, (found) => found.outcome === 'cancelled'))?.outcome).toBe('cancelled');

    await page.fill('#max-tokens', '5');
    await send(page, 'And then?');
    await lastAnswerDone(page, 2);
    expect(await statText(page, 'finish')).toBe('finish length');
    // The stopped answer's text went into the history the second request sent.
    const second = chatExchanges(await recordedExchanges(page))[1]!;
    const messages = (JSON.parse(second.body!) as { messages: { role: string }[] }).messages;
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a forced tool call as it streams (name first, then growing arguments) and continues with a pasted result', async () => {
    const { page, problems } = await openPlayground({ model: MODELS.tools, temperature: '1', maxTokens: '300' });
    await page.click('#tools-panel summary');
    await page.fill('#tools', JSON.stringify([weatherTool], null, 2));
    await page.selectOption('#tool-choice', 'get_weather');
    await send(page, "What's the weather in Tokyo?");
    await lastAnswerDone(page);

    expect(await statText(page, 'finish')).toBe('finish tool_calls');
    const { toolEvents } = await probe(page);
    expect(toolEvents[0]).toMatchObject({ kind: 'call', length: 0 });
    expect((toolEvents[0] as { name: string }).name).toContain('get_weather');
    const lengths = toolEvents.slice(1).map((event) => event.length);
    expect(toolEvents.slice(1).every((event) => event.kind === 'arguments')).toBe(true);
    expect(lengths.length).toBeGreaterThan(1);
    for (let index = 1; index < lengths.length; index += 1)
      expect(lengths[index]!).toBeGreaterThan(lengths[index - 1]!);
    const argumentsText = (await page.textContent('.tool-args'))!;
    expect(lengths.at(-1)).toBe(argumentsText.length);
    expect(JSON.parse(argumentsText)).toHaveProperty('location');
    const callId = (await page.getAttribute('.tool-call', 'data-call-id'))!;

    await page.selectOption('#tool-choice', 'none');
    await page.fill(`.tool-results textarea[data-call-id="${callId}"]`, '{"temperature_c": 21}');
    await page.click('.tool-results button');
    await lastAnswerDone(page, 2);
    const second = chatExchanges(await recordedExchanges(page))[1]!;
    const messages = (JSON.parse(second.body!) as { messages: Record<string, unknown>[] }).messages;
    expect(messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: callId, type: 'function', function: { name: 'get_weather', arguments: argumentsText } }],
      },
      { role: 'tool', tool_call_id: callId, content: '{"temperature_c": 21}' },
    ]);
    expect(second.status).toBe(200);
    expect(await page.locator('.msg.tool .content').textContent()).toBe('{"temperature_c": 21}');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('pretty-prints a json_schema answer', async () => {
    const { page, problems } = await openPlayground({ model: MODELS.stories, temperature: '0', maxTokens: '100' });
    await page.click('#format-panel summary');
    await page.selectOption('#response-format', 'json_schema');
    await page.fill(
      '#json-schema',
      JSON.stringify({
        type: 'object',
        properties: { ok: { type: 'boolean' } },
        required: ['ok'],
        additionalProperties: false,
      }),
    );
    await send(page, 'Is it sunny?');
    await lastAnswerDone(page);
    const [exchange] = chatExchanges(await recordedExchanges(page));
    expect(JSON.parse(exchange!.body!)).toMatchObject({
      response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true } },
    });
    const raw = chunksOf(exchange!.text!)
      .map((chunk) => chunk.choices[0]?.delta.content ?? '')
      .join('');
    const shown = (await page.textContent('.msg.assistant .content pre.json'))!;
    expect(shown).toBe(JSON.stringify(JSON.parse(raw), null, 2));
    expect(shown).toContain('\n  "ok": ');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("shows the API's errors: a wrong key, a refused request, and an error event in the middle of a stream", async () => {
    const { page } = await openPlayground({ model: MODELS.flaky, maxTokens: '50' });
    harness.upstream.failNext({ kind: 'error-event', afterEvents: 3, message: 'slot unavailable: KV cache full' });
    await send(page, 'Hello');
    await lastAnswerDone(page);
    const midStream = (await page.textContent('.msg.assistant .error'))!;
    expect(midStream).toContain('Error during the stream');
    expect(midStream).toContain('slot unavailable: KV cache full');
    expect(await statText(page, 'finish')).toBe('finish error');
    expect((await page.textContent('.msg.assistant .content'))!.length).toBeGreaterThan(0);

    await page.fill('#max-tokens', '-5');
    await send(page, 'Hello again');
    await lastAnswerDone(page, 2);
    expect(await page.locator('.msg.assistant >> nth=-1 >> .error').textContent()).toMatch(/^Error 400: .*max_tokens/);

    await page.fill('#api-key', 'oruel_not_a_real_key');
    await page.press('#api-key', 'Tab');
    await page.locator('#status', { hasText: 'Incorrect API key provided.' }).waitFor();
    expect(await page.textContent('#status')).toBe('401 invalid_api_key: Incorrect API key provided.');
    await page.context().close();
  });

  it('copies the request just made as curl, Python and JS, and the curl and JS snippets really run', async () => {
    const { page, context, problems } = await (async () => {
      const opened = await openPlayground({ model: MODELS.stories, temperature: '0', maxTokens: '12' });
      return { ...opened, context: opened.page.context() };
    })();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: harness.origin });
    await send(page, 'Once upon a time');
    await lastAnswerDone(page);

    await page.selectOption('#snippet-language', 'curl');
    await page.click('#copy');
    const curl = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(curl).toBe(await page.textContent('#snippet'));
    expect(curl).not.toContain(apiKey);
    const curlRun = await run('bash', ['-c', curl], { env: { ...process.env, ORUEL_API_KEY: apiKey } });
    expect(curlRun.stdout).toContain('data: [DONE]');

    await page.selectOption('#snippet-language', 'js');
    const js = (await page.textContent('#snippet'))!;
    const sdk = pathToFileURL(resolve(REPO_ROOT, 'node_modules/openai/index.mjs')).href;
    const jsFile = join(tmpdir(), `oruel-web-snippet-${process.pid}.mjs`);
    writeFileSync(jsFile, js.replace('from "openai"', `from ${JSON.stringify(sdk)}`));
    const jsRun = await run(process.execPath, [jsFile], { env: { ...process.env, ORUEL_API_KEY: apiKey } });
    // Temperature 0 and the same request: the snippet prints what the page showed.
    expect(jsRun.stdout).toBe(`${await page.textContent('.msg.assistant .content')}`);

    await page.selectOption('#snippet-language', 'python');
    const python = (await page.textContent('#snippet'))!;
    expect(python).toContain(`base_url="${harness.origin}/v1/inference"`);
    expect(python).toContain('max_tokens=12,');
    expect(python).toContain('stream=True,');
    const pyFile = join(tmpdir(), `oruel-web-snippet-${process.pid}.py`);
    writeFileSync(pyFile, python);
    await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', pyFile]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the playground layout', () => {
  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    it(`has no overlapping, cut-off or off-screen text at ${viewport.width}x${viewport.height}, with an answer and a tool call shown`, async () => {
      const { page, problems } = await openPlayground(
        { model: MODELS.tools, temperature: '1', maxTokens: '60' },
        viewport,
      );
      await send(page, 'Once upon a time');
      await lastAnswerDone(page);
      await page.click('#tools-panel summary');
      await page.fill('#tools', JSON.stringify([weatherTool]));
      await page.selectOption('#tool-choice', 'get_weather');
      await page.fill('#max-tokens', '300');
      await send(page, "What's the weather in Tokyo?");
      await lastAnswerDone(page, 2);
      await page.click('#snippet-panel summary');
      await screenshot(page, `playground-${viewport.width}x${viewport.height}`);
      expect(await layoutProblems(page), name).toEqual([]);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }
});

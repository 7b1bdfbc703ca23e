import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, SEED_DOC } from './paths.js';

/** The product's own "Streaming" page (test/fixtures/seed/streaming.txt): its code examples are what real users paste. */

const SEED_BASE_URL = 'https://api.oru-el.com/v1/inference';
const SEED_KEY = 'oruel_your_api_key_here';
const SEED_MODEL = 'llama-4-maverick';

export interface SeedTarget {
  /** e.g. http://127.0.0.1:1234/v1/inference */
  baseURL: string;
  apiKey: string;
  model: string;
}

/**
 * The text of one example, cut from the seed page between two markers and changed only where the
 * contract allows (base URL, key, model). Reading the page itself, rather than a copy, means the test
 * runs what users read today; a marker or a placeholder that went missing fails loudly.
 */
function excerpt(start: string, end: string): string {
  const doc = readFileSync(SEED_DOC, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`seed page ${SEED_DOC} no longer contains the example starting "${start}"`);
  return doc.slice(from, to);
}

function replaceOnce(text: string, search: string, replacement: string): string {
  const parts = text.split(search);
  if (parts.length !== 2)
    throw new Error(`expected "${search}" exactly once in the seed example, found ${parts.length - 1}`);
  return parts.join(replacement);
}

/** The seed's "Browser (fetch API)" example: `async function streamChat(messages) {...}`, verbatim. */
export function seedBrowserStreamChatSource(target: SeedTarget): string {
  let source = excerpt('async function streamChat(messages) {', 'cURL streaming#');
  source = replaceOnce(
    source,
    `"${SEED_BASE_URL}/chat/completions"`,
    JSON.stringify(`${target.baseURL}/chat/completions`),
  );
  source = replaceOnce(source, `"Bearer ${SEED_KEY}"`, JSON.stringify(`Bearer ${target.apiKey}`));
  source = replaceOnce(source, `"${SEED_MODEL}"`, JSON.stringify(target.model));
  return source;
}

/**
 * The seed's "JavaScript streaming" example (an ES module with top-level await), verbatim; `openai` is
 * imported by absolute file URL so the module runs from anywhere (`node --input-type=module`).
 */
export function seedJavaScriptStreamingSource(target: SeedTarget): string {
  let source = excerpt('import OpenAI from "openai";', 'Browser (fetch API)#');
  const sdkEntry = pathToFileURL(resolve(REPO_ROOT, 'node_modules/openai/index.mjs')).href;
  source = replaceOnce(source, 'from "openai"', `from ${JSON.stringify(sdkEntry)}`);
  source = replaceOnce(source, `"${SEED_BASE_URL}"`, JSON.stringify(target.baseURL));
  source = replaceOnce(source, `"${SEED_KEY}"`, JSON.stringify(target.apiKey));
  source = replaceOnce(source, `"${SEED_MODEL}"`, JSON.stringify(target.model));
  return source;
}

/**
 * JavaScript (runs in Node and in a browser page) that wraps a fetch so every response body is also
 * recorded as text: the test can then compare what the seed loop displayed with every byte it got.
 * Defines `makeRecordingFetch(innerFetch)` returning `{fetch, recorded}`; `recorded` holds
 * `{status, headers: {...}, text: Promise<string>}` per response.
 */
export const RECORDING_FETCH_SOURCE = `
function makeRecordingFetch(innerFetch) {
  const recorded = [];
  const recordingFetch = async (input, init) => {
    const response = await innerFetch(input, init);
    const [forCaller, forRecord] = response.body.tee();
    const headers = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    recorded.push({ status: response.status, headers, text: new Response(forRecord).text() });
    return new Response(forCaller, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch: recordingFetch, recorded };
}
`;

/** The text strictly between two markers of the seed page (the examples sit between their headings). */
function between(after: string, before: string): string {
  const doc = readFileSync(SEED_DOC, 'utf8');
  const from = doc.indexOf(after);
  const to = doc.indexOf(before, from + after.length);
  if (from < 0 || to < 0)
    throw new Error(`seed page ${SEED_DOC} no longer has an example between "${after}" and "${before}"`);
  return doc.slice(from + after.length, to).replace(/^\n/, '');
}

/**
 * The page's text rendering lost Python's indentation (every line starts at column 0), so a verbatim
 * copy is not a program. This puts it back and adds nothing else: a line after one that ends with `:`
 * goes one block deeper, lines inside brackets one level per line that opened them, and the only thing a
 * reader has to decide, where a block ends, is given by `dedents` (a line's start -> its block depth).
 * A dedent marker that matches no line, or a page line that already has leading whitespace, throws:
 * the page changed and the test must be looked at.
 */
function restorePythonIndentation(source: string, dedents: Record<string, number> = {}): string {
  const unused = new Set(Object.keys(dedents));
  let block = 0;
  /** Brackets still open, grouped by the line that opened them: one indent level per such line. */
  const openedBy: number[] = [];
  const lines = source.split('\n').map((line) => {
    if (line.trim() === '') return line;
    if (/^\s/.test(line)) throw new Error(`seed Python line is already indented: ${JSON.stringify(line)}`);
    const marker = openedBy.length === 0 ? Object.keys(dedents).find((start) => line.startsWith(start)) : undefined;
    if (marker !== undefined) {
      block = dedents[marker] as number;
      unused.delete(marker);
    }
    const closesFirst = /^[)\]}]/.test(line) ? 1 : 0;
    const indented = '    '.repeat(block + Math.max(0, openedBy.length - closesFirst)) + line;
    const scan = scanPythonLine(line);
    if (scan.bracketChange > 0) openedBy.push(scan.bracketChange);
    for (let closed = -scan.bracketChange; closed > 0 && openedBy.length > 0;) {
      const top = openedBy.pop() as number;
      if (top > closed) openedBy.push(top - closed);
      closed -= top;
    }
    if (openedBy.length === 0 && scan.code.trimEnd().endsWith(':')) block += 1;
    return indented;
  });
  if (unused.size > 0)
    throw new Error(
      `seed Python example has no line starting with ${[...unused].map((start) => JSON.stringify(start)).join(', ')}`,
    );
  return lines.join('\n');
}

/** One line's code without its comment, and how much it changes the bracket depth (strings skipped). */
function scanPythonLine(line: string): { code: string; bracketChange: number } {
  let change = 0;
  let quote: string | null = null;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (quote !== null) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = null;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '#') return { code: line.slice(0, index), bracketChange: change };
    else if ('([{'.includes(char)) change += 1;
    else if (')]}'.includes(char)) change -= 1;
  }
  return { code: line, bracketChange: change };
}

/** Base URL and key of the client construction, each expected exactly once. */
function retargetClient(source: string, target: SeedTarget): string {
  const text = replaceOnce(source, `"${SEED_BASE_URL}"`, JSON.stringify(target.baseURL));
  return replaceOnce(text, `"${SEED_KEY}"`, JSON.stringify(target.apiKey));
}

function retargetModel(source: string, target: SeedTarget): string {
  return replaceOnce(source, `"${SEED_MODEL}"`, JSON.stringify(target.model));
}

function retargetPython(source: string, target: SeedTarget): string {
  return retargetModel(retargetClient(source, target), target);
}

const PYTHON_STREAMING = [
  'The OpenAI Python SDK handles SSE parsing automatically:',
  'Collecting the full response#',
] as const;

/** The seed's "Python streaming" example: sync client, `stream=True`, `max_tokens=100`, prints each token, then a newline. */
export function seedPythonStreamingSource(target: SeedTarget): string {
  const source = restorePythonIndentation(between(...PYTHON_STREAMING), { 'print() # newline at the end': 0 });
  return retargetPython(source, target);
}

/** The seed's "Collecting the full response" example: collects the content, prints usage from the final chunk, then the text. */
export function seedPythonCollectSource(target: SeedTarget): string {
  const source = restorePythonIndentation(between('Collecting the full response#', 'Async streaming#'), {
    '# Check for usage in the final chunk': 1,
    'if chunk.usage:': 1,
    'full_response = ': 0,
  });
  return retargetPython(source, target);
}

/** The seed's "Async streaming" example: `AsyncOpenAI`, `async for`, `asyncio.run(main())`. */
export function seedPythonAsyncSource(target: SeedTarget): string {
  const source = restorePythonIndentation(between('Async streaming#', 'JavaScript streaming#'), {
    'asyncio.run(main())': 0,
  });
  return retargetPython(source, target);
}

/**
 * The seed's "Streaming with tool calls" example. On the page it is a fragment that uses the `client`
 * built in the first Python example; that construction (cut from the page too, up to its closing
 * parenthesis) goes in front, so the program is the page's own text and nothing else.
 */
export function seedPythonToolStreamSource(target: SeedTarget): string {
  const first = between(...PYTHON_STREAMING);
  const clientEnd = first.indexOf('\n)\n');
  if (clientEnd < 0) throw new Error('the seed Python streaming example no longer builds `client = OpenAI(...)` first');
  const client = retargetClient(first.slice(0, clientEnd + 3), target);
  const fragment = between(
    'the tool call is delivered across multiple chunks:',
    'See Tool Calling for the complete guide.',
  );
  return restorePythonIndentation(client) + retargetModel(restorePythonIndentation(fragment), target);
}

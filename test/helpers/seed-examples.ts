import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, SEED_DOC } from './paths.js';

/** The product's own "Streaming" page (test/fixtures/seed/streaming.txt): its code examples are what real users paste. */
export { SEED_DOC };

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
  if (parts.length !== 2) throw new Error(`expected "${search}" exactly once in the seed example, found ${parts.length - 1}`);
  return parts.join(replacement);
}

/** The seed's "Browser (fetch API)" example: `async function streamChat(messages) {...}`, verbatim. */
export function seedBrowserStreamChatSource(target: SeedTarget): string {
  let source = excerpt('async function streamChat(messages) {', 'cURL streaming#');
  source = replaceOnce(source, `"${SEED_BASE_URL}/chat/completions"`, JSON.stringify(`${target.baseURL}/chat/completions`));
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

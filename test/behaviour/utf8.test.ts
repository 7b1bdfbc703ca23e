import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postChat, type CompletionJson } from '../helpers/api.js';
import { contentOf, endedWithDone, liveRequest, streamText, usageOf } from '../helpers/live-request.js';
import { TINY_RANDOM_MODEL } from '../helpers/paths.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * UTF-8 on the wire, with the 32k-token Llama-2 vocabulary of llama-2-tiny-random (random weights:
 * multilingual gibberish full of multi-byte characters and byte-fallback tokens). The raw bytes of
 * every event are decoded on their own with a fatal decoder (LiveRequest does it), so an event that
 * splits a character fails the test whatever the TCP packets looked like.
 */

const MODEL = 'tiny-random';
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const REPLACEMENT = '\uFFFD';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({
    models: [{ name: MODEL, engine: 'llama-cpp', path: TINY_RANDOM_MODEL, sequences: 2, contextSize: 512 }],
  });
});
afterAll(async () => harness?.close());

const body = (seed: number) => ({
  model: MODEL,
  messages: [{ role: 'user', content: 'Bonjour, 世界! Привет' }],
  temperature: 1,
  max_tokens: 200,
  seed,
});

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('streamed text is the same UTF-8 text as the non-streamed one', () => {
  let multiByteSeen = 0;

  it.each(SEEDS)('seed %i', async (seed) => {
    const plain = await postChat<CompletionJson>(harness, body(seed));
    expect(plain.status, plain.text).toBe(200);
    const expected = plain.json!.choices[0]!.message.content ?? '';

    const live = liveRequest(`${harness.baseURL}/chat/completions`, {
      apiKey: harness.apiKey,
      body: { ...body(seed), stream: true },
    });
    await live.finished;
    expect(await live.status).toBe(200);
    expect(endedWithDone(live)).toBe(true);
    expect(live.utf8Errors, 'events whose bytes are not valid UTF-8 on their own').toEqual([]);

    const pieces = live.events.map((event) => contentOf(event)).filter((piece) => piece !== '');
    expect(pieces.length).toBeGreaterThan(20);
    for (const piece of pieces) {
      expect(LONE_SURROGATE.test(piece), `lone surrogate in ${JSON.stringify(piece)}`).toBe(false);
      if (piece.includes(REPLACEMENT))
        expect(expected, `chunk ${JSON.stringify(piece)} has U+FFFD the full text does not`).toContain(REPLACEMENT);
    }
    const streamed = streamText(live);
    expect(count(streamed, REPLACEMENT)).toBe(count(expected, REPLACEMENT));
    expect(streamed).toBe(expected);
    expect(usageOf(live)).toEqual(plain.json!.usage);
    multiByteSeen += [...expected].filter((char) => Buffer.byteLength(char) >= 2).length;
  });

  it('the seeds above really produced multi-byte characters', () => {
    expect(multiByteSeen).toBeGreaterThan(50);
  });
});

describe('multi-byte text in the request', () => {
  it('is counted and echoed back through the same encoding', async () => {
    const ascii = await postChat<CompletionJson>(harness, {
      ...body(1),
      max_tokens: 1,
      messages: [{ role: 'user', content: 'a' }],
    });
    const wide = await postChat<CompletionJson>(harness, {
      ...body(1),
      max_tokens: 1,
      messages: [{ role: 'user', content: 'a 日本語のテキスト 🎉 Ελληνικά' }],
    });
    expect(wide.status).toBe(200);
    expect(wide.json!.usage.prompt_tokens).toBeGreaterThan(ascii.json!.usage.prompt_tokens + 5);
  });
});
